/**
 * IRC messages: one line each, parsed from and serialized to the wire
 * (RFC 1459 / 2812 as modern.ircdocs.horse describes them today, with IRCv3
 * message-tags). Pure: bytes or strings in, values out.
 *
 * Limits (docs/IRC.md, "Lines"): the part after the tags is at most 512
 * bytes counting its CR LF (510 without), the tags at most 8191 bytes
 * counting the '@' and the space after them. NUL, and CR or LF inside a
 * line, are refused. A line whose bytes are not UTF-8 is refused whole
 * (INVALID_UTF8) rather than guessed at: the door is UTF8ONLY, and text in
 * another charset would reach the chat's users as mojibake or be re-encoded
 * differently by each door.
 */
import { IrcError, IrcErrorCode } from './irc-error.js';

export const MAX_LINE_BYTES = 512;
/** What a line may hold without its CR LF. */
export const MAX_BODY_BYTES = MAX_LINE_BYTES - 2;
export const MAX_TAGS_BYTES = 8191;

export interface IrcMessage {
  /** Message tags, unescaped; a tag without a value has ''. */
  tags?: Record<string, string>;
  /** The prefix (servername or nick!user@host), without its ':'. */
  source?: string;
  /** Upper case; numerics are three digits. */
  command: string;
  params: string[];
}

const COMMAND = /^(?:[A-Za-z]+|\d{3})$/;
/** Tag names: an optional '+' (client-only), an optional vendor host and '/', then letters, digits and '-'. */
const TAG_KEY = /^\+?(?:[A-Za-z0-9.-]+\/)?[A-Za-z0-9-]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8');

/** One line as it came (without CR LF): the message, or an IrcError saying why not. */
export function parseLineBytes(line: Uint8Array): IrcMessage {
  let body = 0;
  if (line[0] === 0x40 /* @ */) {
    const space = line.indexOf(0x20);
    const tagsEnd = space < 0 ? line.length : space + 1;
    if (tagsEnd > MAX_TAGS_BYTES)
      throw new IrcError(IrcErrorCode.INPUT_TOO_LONG, `tags over ${MAX_TAGS_BYTES} bytes`, commandOf(line));
    body = tagsEnd;
  }
  if (line.length - body > MAX_BODY_BYTES)
    throw new IrcError(IrcErrorCode.INPUT_TOO_LONG, `line over ${MAX_LINE_BYTES} bytes`, commandOf(line));
  let text: string;
  try {
    text = utf8.decode(line);
  } catch {
    throw new IrcError(IrcErrorCode.INVALID_UTF8, 'the line is not UTF-8', commandOf(line));
  }
  return parseLine(text);
}

/** The command of a line that cannot be parsed, for the error reply ('*' when there is none to read). */
function commandOf(line: Uint8Array): string {
  const tagsEnd = line[0] === 0x40 ? line.indexOf(0x20) + 1 : 0;
  if (line[0] === 0x40 && tagsEnd === 0) return '*';
  const words = lenient
    .decode(line.subarray(tagsEnd, tagsEnd + 1024))
    .split(' ')
    .filter(Boolean);
  let i = 0;
  if (words[i]?.startsWith(':')) i++;
  const word = words[i] ?? '';
  return COMMAND.test(word) ? word.toUpperCase() : '*';
}

/** One line as text (without CR LF). Checks characters, not byte limits (parseLineBytes does). */
export function parseLine(line: string): IrcMessage {
  if (/[\0\r\n]/.test(line)) throw new IrcError(IrcErrorCode.BAD_LINE, 'NUL, CR or LF inside a line');
  let rest = line;
  const msg: IrcMessage = { command: '', params: [] };
  if (rest.startsWith('@')) {
    const end = rest.indexOf(' ');
    msg.tags = parseTags(rest.slice(1, end < 0 ? rest.length : end));
    rest = end < 0 ? '' : rest.slice(end + 1);
  }
  rest = rest.replace(/^ +/, '');
  if (rest.startsWith(':')) {
    const end = rest.indexOf(' ');
    msg.source = rest.slice(1, end < 0 ? rest.length : end);
    rest = end < 0 ? '' : rest.slice(end + 1).replace(/^ +/, '');
  }
  const end = rest.indexOf(' ');
  const command = end < 0 ? rest : rest.slice(0, end);
  if (!COMMAND.test(command)) throw new IrcError(IrcErrorCode.BAD_LINE, command ? 'not a command' : 'no command');
  msg.command = command.toUpperCase();
  msg.params = parseParams(end < 0 ? '' : rest.slice(end + 1));
  return msg;
}

/** Middle parameters split on runs of spaces (clients send those), then the trailing one after ' :' whole. */
function parseParams(text: string): string[] {
  const params: string[] = [];
  let rest = text;
  for (;;) {
    rest = rest.replace(/^ +/, '');
    if (rest === '') return params;
    if (rest.startsWith(':')) {
      params.push(rest.slice(1));
      return params;
    }
    const end = rest.indexOf(' ');
    params.push(end < 0 ? rest : rest.slice(0, end));
    if (end < 0) return params;
    rest = rest.slice(end);
  }
}

function parseTags(text: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const item of text.split(';')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    if (!TAG_KEY.test(key)) throw new IrcError(IrcErrorCode.BAD_LINE, `bad tag name ${JSON.stringify(key)}`);
    // The spec: a repeated key's last value wins.
    tags[key] = eq < 0 ? '' : unescapeTagValue(item.slice(eq + 1));
  }
  return tags;
}

const UNESCAPE: Record<string, string> = { ':': ';', s: ' ', '\\': '\\', r: '\r', n: '\n' };

/** IRCv3 message-tags: \: \s \\ \r \n; a backslash before anything else is dropped, as is one at the end. */
export function unescapeTagValue(value: string): string {
  return value.replace(/\\(.?)/gs, (_, ch: string) => UNESCAPE[ch] ?? ch);
}

export function escapeTagValue(value: string): string {
  return value.replace(/[\\; \r\n]/g, (ch) =>
    ch === '\\' ? '\\\\' : ch === ';' ? '\\:' : ch === ' ' ? '\\s' : ch === '\r' ? '\\r' : '\\n',
  );
}

/**
 * The line for a message, without CR LF. Throws BAD_OUTPUT for what IRC
 * cannot carry: CR, LF or NUL in a parameter, an empty or spaced or
 * ':'-led parameter that is not the last. The last gets ':' when it needs
 * one (empty, a space, a leading ':'), and always when it is not the only
 * one: bots written in a line split on ' :' to find a message's text, and
 * the colon is valid either way. Lengths are the caller's (splitUtf8).
 */
export function serialize(msg: IrcMessage): string {
  let out = '';
  const tags = Object.entries(msg.tags ?? {});
  if (tags.length > 0) {
    for (const [key] of tags)
      if (!TAG_KEY.test(key)) throw new IrcError(IrcErrorCode.BAD_OUTPUT, `bad tag name ${JSON.stringify(key)}`);
    out += `@${tags.map(([k, v]) => (v === '' ? k : `${k}=${escapeTagValue(v)}`)).join(';')} `;
  }
  if (msg.source !== undefined) out += `:${checkWord(msg.source, 'source')} `;
  if (!COMMAND.test(msg.command)) throw new IrcError(IrcErrorCode.BAD_OUTPUT, `bad command ${msg.command}`);
  out += msg.command;
  msg.params.forEach((p, i) => {
    if (/[\0\r\n]/.test(p)) throw new IrcError(IrcErrorCode.BAD_OUTPUT, 'NUL, CR or LF in a parameter');
    const last = i === msg.params.length - 1;
    if (last && (p === '' || p.includes(' ') || p.startsWith(':') || i > 0)) out += ` :${p}`;
    else out += ` ${checkWord(p, 'parameter')}`;
  });
  return out;
}

function checkWord(word: string, what: string): string {
  if (word === '' || /[\0\r\n ]/.test(word) || (what === 'parameter' && word.startsWith(':')))
    throw new IrcError(
      IrcErrorCode.BAD_OUTPUT,
      `a ${what} that is not the last must be one word: ${JSON.stringify(word)}`,
    );
  return word;
}

export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Text cut into pieces of at most `maxBytes` UTF-8 bytes each, between code
 * points (a chat message longer than one IRC line goes as several). Prefers
 * the last space in a piece when there is one in its second half.
 */
export function splitUtf8(text: string, maxBytes: number): string[] {
  if (maxBytes < 4) throw new IrcError(IrcErrorCode.BAD_OUTPUT, 'no room for text in the line');
  const out: string[] = [];
  let piece = '';
  let bytes = 0;
  for (const ch of text) {
    const n = byteLength(ch);
    if (bytes + n > maxBytes) {
      const space = piece.lastIndexOf(' ');
      const cut = space > piece.length / 2 ? space + 1 : piece.length;
      out.push(piece.slice(0, cut));
      piece = piece.slice(cut);
      bytes = byteLength(piece);
    }
    piece += ch;
    bytes += n;
  }
  if (piece !== '' || out.length === 0) out.push(piece);
  return out;
}

/** Bytes left for a last parameter of `msg` (whose params lack it) within the 512-byte line, tags not counted. */
export function trailingRoom(msg: IrcMessage): number {
  const { tags: _tags, ...bare } = msg;
  // An empty last parameter serializes as ' :', after which any text fits as it is.
  return MAX_BODY_BYTES - byteLength(serialize({ ...bare, params: [...bare.params, ''] }));
}
