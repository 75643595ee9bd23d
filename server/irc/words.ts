/**
 * Replies within the 512-byte line: a list of words (nicks, rooms) as the
 * last parameter of as many copies of a reply as the line needs, never
 * cutting a word; and any other reply cut to fit.
 */
import { clipUtf8 } from '../../common/unicode/text-policy.js';
import { type IrcMessage, MAX_BODY_BYTES, byteLength, serialize, trailingRoom } from './message.js';

/**
 * The most bytes of a one-word parameter fitLine keeps: a chat nick or room name holds at most 33 characters of
 * at most 4 bytes, so only what the client sent that no nick or room can be is cut.
 */
const WORD_MAX_BYTES = 132;

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

/**
 * msg cut to fit the line (tags not counted): a reply may echo what the client sent (a nick, a room, a command, in
 * the text too), which the line limit let be up to 510 bytes on its own; IRC clients may drop or cut a longer line.
 * The one-word parameters are cut to WORD_MAX_BYTES first, then the last one to what is left.
 */
/**
 * Whether `body`, a serialized reply, is over the line without its tags: measured only where its UTF-16 length could be
 * (3 bytes a unit at most), and with the serialization at hand, for it runs on every line to every client.
 */
export function overLine(body: string): boolean {
  if (body.length * 3 <= MAX_BODY_BYTES) return false;
  // Tags serialize first, as one word (a space in a value is escaped), then one space.
  const bare = body.startsWith('@') ? body.slice(body.indexOf(' ') + 1) : body;
  return byteLength(bare) > MAX_BODY_BYTES;
}

export function fitLine(msg: IrcMessage): IrcMessage {
  const { tags, ...bare } = msg;
  if (byteLength(serialize(bare)) <= MAX_BODY_BYTES) return msg;
  const last = bare.params.length - 1;
  if (last < 0) return msg;
  const words = bare.params.slice(0, last).map((p) => clipUtf8(p, WORD_MAX_BYTES));
  const room = Math.max(0, trailingRoom({ ...bare, params: words }));
  const fitted = { ...bare, params: [...words, clipUtf8(bare.params[last] ?? '', room)] };
  return tags ? { tags, ...fitted } : fitted;
}
