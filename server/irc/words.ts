/**
 * A list of words (nicks, rooms) as the last parameter of as many copies of
 * a reply as the 512-byte line needs, never cutting a word.
 */
import { type IrcMessage, MAX_BODY_BYTES, byteLength, serialize } from './message.js';

/** The words joined by spaces into lines that each fit after `base`'s parameters. */
export function splitWords(base: IrcMessage, words: readonly string[]): string[] {
  // ' :' and the words; the base's own length is what the line already holds.
  const room = MAX_BODY_BYTES - byteLength(serialize({ ...base, params: [...base.params, ''] }));
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    const next = line === '' ? word : `${line} ${word}`;
    if (line !== '' && byteLength(next) > room) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line !== '') lines.push(line);
  return lines;
}
