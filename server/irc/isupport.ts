/**
 * RPL_ISUPPORT (005) tokens: what the door tells a client about the network
 * at registration. Modelled on Ergo's (irc/config.go generateISupport),
 * trimmed to what the chat has. Lengths count characters (code points), as
 * the chat's own rules do: a 32-character nick may be 128 UTF-8 bytes.
 */
import { NICK_MAX_CHARS } from '../../common/unicode/nick-rule.js';
import type { IrcMessage } from './message.js';
import { MAX_BODY_BYTES, byteLength, serialize } from './message.js';

export interface NetworkLimits {
  network: string;
  /** --max-rooms-per-user */
  roomsPerUser: number;
  /** The most a HISTORY_REQUEST answers (CHATHISTORY's limit); 0 when the server keeps no history. */
  historyMax: number;
  topicLen: number;
  awayLen: number;
}

/** The tokens, in the order sent. A value of '' is a token without '='. */
export function isupportTokens(l: NetworkLimits): Array<[string, string]> {
  const tokens: Array<[string, string]> = [
    ['AWAYLEN', String(l.awayLen)],
    // Ergo publishes "ascii" for its Unicode (PRECIS) casemapping too: clients fold ASCII only, which agrees with the
    // server's full case folding wherever they fold at all; the server is the authority on the rest.
    ['CASEMAPPING', 'ascii'],
    ['CHANLIMIT', `#:${l.roomsPerUser}`],
    // Rooms have one property IRC has a mode for: only members speak (+n). No lists, keys or limits to set.
    ['CHANMODES', ',,,n'],
    ['CHANNELLEN', String(NICK_MAX_CHARS + 1)],
    ['CHANTYPES', '#'],
  ];
  if (l.historyMax > 0) tokens.push(['CHATHISTORY', String(l.historyMax)], ['draft/CHATHISTORY', String(l.historyMax)]);
  tokens.push(['ELIST', '']);
  // msgid first: it pages both ways; a timestamp only forwards (chathistory.ts).
  if (l.historyMax > 0) tokens.push(['MSGREFTYPES', 'msgid,timestamp']);
  tokens.push(
    ['NETWORK', l.network],
    ['NICKLEN', String(NICK_MAX_CHARS)],
    // Nobody holds @: the chat has no room operators (its operator is the server's console). PREFIX is published
    // with the one mode clients assume, rather than empty, which some clients read as the RFC 1459 default.
    ['PREFIX', '(o)@'],
    ['SAFELIST', ''],
    ['TARGMAX', 'JOIN:,PART:,NAMES:1,LIST:1,WHOIS:1,PRIVMSG:1,NOTICE:1,TAGMSG:1'],
    ['TOPICLEN', String(l.topicLen)],
    ['UTF8ONLY', ''],
    ['WHOX', ''],
  );
  return tokens;
}

/** A token as written: KEY or KEY=VALUE, the value escaped as the spec says (\x20 for space, \x5C for backslash). */
export function writeToken([key, value]: [string, string]): string {
  if (value === '') return key;
  return `${key}=${value.replace(/[\\ =]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

/** The 005 lines: at most 13 tokens each (modern.ircdocs.horse), each line within 512 bytes. */
export function isupportReplies(server: string, me: string, tokens: Array<[string, string]>): IrcMessage[] {
  const out: IrcMessage[] = [];
  let line: string[] = [];
  const make = (ts: string[]): IrcMessage => ({
    source: server,
    command: '005',
    params: [me, ...ts, 'are supported by this server'],
  });
  for (const token of tokens.map(writeToken)) {
    if (line.length === 13 || (line.length > 0 && byteLength(serialize(make([...line, token]))) > MAX_BODY_BYTES)) {
      out.push(make(line));
      line = [];
    }
    line.push(token);
  }
  if (line.length > 0) out.push(make(line));
  return out;
}
