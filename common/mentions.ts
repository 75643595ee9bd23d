/**
 * Who a line is addressed to, and which colour a nick gets: the same rules
 * on the terminal and in the browser. No dependencies (the page uses it too).
 */

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Scripts written without spaces between words: a nick in them is found anywhere in the text. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}]/u;

/** True when text names me: as a word (any case), or anywhere for a nick in a script without spaces (小明你好). */
export function mentions(text: string, me: string): boolean {
  if (!me) return false;
  if (UNSPACED.test(me)) return text.toLowerCase().includes(me.toLowerCase());
  return new RegExp(`(^|[^\\p{L}\\p{N}_])${escapeRegExp(me)}($|[^\\p{L}\\p{N}_])`, 'iu').test(text);
}

/** Where my nick stands in text, for highlighting: [start, end) pairs, any case. */
export function mentionRanges(text: string, me: string): Array<[number, number]> {
  if (!me || !mentions(text, me)) return [];
  const out: Array<[number, number]> = [];
  const re = new RegExp(escapeRegExp(me), 'giu');
  for (let m = re.exec(text); m; m = re.exec(text)) out.push([m.index, m.index + m[0].length]);
  return out;
}

/** The same nick always gets the same one of n colours (FNV-1a of its lower-case form). */
export function nickColorIndex(nick: string, n: number): number {
  let h = 0x811c9dc5;
  for (const ch of nick.toLowerCase()) h = Math.imul(h ^ ch.codePointAt(0)!, 0x01000193) >>> 0;
  return h % n;
}
