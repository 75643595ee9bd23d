/** What the user typed, turned into an action. Pure: no I/O. */
import type { ClientMessage } from '../common/protocol.js';
import { parseDuration } from '../common/units.js';
import { UsageError } from '../common/errors.js';
import { checkNick } from '../common/unicode/nick-rule.js';
import type { RoomCommand } from './room-state.js';
import type { PasswordAsk } from './password-prompts.js';
import { parseArgs } from '../common/split-args.js';
import { accountArgs } from '../common/account-lines.js';
import { CHAT_COMMANDS } from '../common/chat-commands.js';

export type InputAction =
  | { kind: 'send'; msg: ClientMessage }
  | { kind: 'get'; name: string; dest: string | undefined; fresh: boolean }
  | { kind: 'post'; path: string; name: string | undefined; fresh: boolean }
  | { kind: 'transfers' }
  | { kind: 'quit'; reason: string }
  | { kind: 'help' }
  | { kind: 'sleep'; ms: number }
  /** keep: the line stays in the input line, to be mended (a message too long to send). */
  | { kind: 'local-error'; text: string; keep?: boolean }
  /** A room command (version 2): the listener knows the current room and turns it into a frame. */
  | { kind: 'room'; command: RoomCommand }
  /** An account command typed without its password: asked for, hidden, on a terminal (password-prompts.ts). */
  | { kind: 'ask-password'; ask: PasswordAsk }
  | { kind: 'none' };

export const CLIENT_HELP = `Commands:
  <text>                 say <text> in the current room (the prompt shows it)
  /join #room            join a room (it is made if it does not exist) and talk there
  /room #room            talk in another room you are in
  /part [#room] [reason] leave a room (default: the current one)
  /rooms                 the rooms, with their members and topics
  /names [#room]         who is in a room
  /topic [#room] [text]  show or set a room's topic
  /history [#room | nick] [N | 1h]  earlier messages of a room, or your direct messages with nick:
                         N more (default 50), or those of the last hour
  /msg <nick> <text>     a direct message, only <nick> sees it
  /describe <nick> <action>  an action only <nick> sees: "* you <action>"
  /me <action>           an action: "* you <action>"
  /who                   who is online, with idle time and heartbeat RTT
  /nick <new>            change your nick
  /register [password]   register your nick: from then on it takes this password
  /identify <nick> [password]  become a registered nick (yours)
  /password [<old> <new>] change your registered nick's password
                         (on a terminal, a password left out is asked for, hidden)
  /files                 the files shared on the server
  /get <name> [dest]     download a file (LFTP over UDP) into --downloads, or into
                         dest when it is a directory (or ends with /), else as dest;
                         /get DIR/ downloads the folder DIR and all in it
  /post <path> [name]    share a file, or a folder and all in it (LFTP), for everyone
                         (a cut /get or /post run again continues where it stopped,
                         and so do those a lost connection cut; --no-resume: start over)
  /transfers             transfers running or waiting
  /sleep <duration>      block the main thread (e.g. 20s, at most 10m): the listener
                         thread keeps answering heartbeats, so you are not dropped
                         (Ctrl-C wakes it, and a SIGTERM still quits)
  /quit [reason]         leave (end of input does the same)
  /help                  this list
Names with spaces go in double quotes: /get "my notes.txt" (\" and \\ inside them);
so do passwords with spaces: /register "my pass 123". One rule for every command.
A line starting with // is sent as text with one slash removed.`;

export const MAX_SLEEP_MS = 10 * 60_000;

/** The commands parseInput knows (Tab completes them): both clients' and the terminal's own. */
export const TERMINAL_COMMANDS = [...CHAT_COMMANDS, '/describe', '/post', '/sleep', '/transfers'].sort();

export function parseInput(line: string, maxTextBytes: number): InputAction {
  const text = line.replace(/\r$/, '');
  if (text.trim() === '') return { kind: 'none' };
  if (text.startsWith('//')) return say(text.slice(1), false, maxTextBytes);
  if (!text.startsWith('/')) return say(text, false, maxTextBytes);
  const m = /^\/(\S+)\s*(.*)$/.exec(text)!;
  const cmd = m[1]!.toLowerCase();
  const rest = m[2]!;
  switch (cmd) {
    case 'msg': {
      const dm = /^(\S+)\s+(.+)$/.exec(rest);
      if (!dm) return { kind: 'local-error', text: 'usage: /msg <nick> <text>' };
      const sized = checkSize(dm[2]!, maxTextBytes);
      return sized ?? { kind: 'send', msg: { type: 'DIRECT', to: dm[1]!, text: dm[2]! } };
    }
    case 'describe': {
      // IRC's name for it (mIRC, HexChat): /me to one person.
      const dm = /^(\S+)\s+(.+)$/.exec(rest);
      if (!dm) return { kind: 'local-error', text: 'usage: /describe <nick> <action>' };
      const sized = checkSize(dm[2]!, maxTextBytes);
      return sized ?? { kind: 'send', msg: { type: 'DIRECT', to: dm[1]!, text: dm[2]!, action: true } };
    }
    case 'me':
      if (!rest.trim()) return { kind: 'local-error', text: 'usage: /me <action>' };
      return say(rest, true, maxTextBytes);
    case 'who':
      return { kind: 'send', msg: { type: 'WHO' } };
    case 'nick': {
      if (!/^\S+$/.test(rest)) return { kind: 'local-error', text: 'usage: /nick <new nick>' };
      const check = checkNick(rest);
      if (!check.ok) return { kind: 'local-error', text: `invalid nick: ${check.reason}` };
      return { kind: 'send', msg: { type: 'NICK', nick: check.nick } };
    }
    case 'register':
    case 'identify':
    case 'password':
      return accountCommand(cmd, rest);
    case 'files':
      return { kind: 'send', msg: { type: 'FILES' } };
    case 'transfers':
      return { kind: 'transfers' };
    case 'get':
    case 'post':
      return transferCommand(cmd, rest);
    case 'join':
    case 'room': {
      const room = /^\S+$/.test(rest) ? asRoom(rest) : null;
      if (!room) return { kind: 'local-error', text: `usage: /${cmd} #room` };
      return { kind: 'room', command: { cmd: cmd === 'join' ? 'join' : 'switch', room } };
    }
    case 'part':
    case 'topic':
    case 'names':
    case 'history':
      return roomCommand(cmd, rest);
    case 'rooms':
      return { kind: 'room', command: { cmd: 'rooms' } };
    case 'quit':
    case 'exit':
      return { kind: 'quit', reason: rest };
    case 'help':
      return { kind: 'help' };
    case 'sleep':
      return sleepCommand(rest.trim());
    default:
      return {
        kind: 'local-error',
        text: `unknown command /${cmd}; try /help (start a line with // to send a leading slash)`,
      };
  }
}

/** /get <name> [dest], /post <path> [name]: names with spaces in quotes (split-args.ts). */
function transferCommand(cmd: 'get' | 'post', rest: string): InputAction {
  const parsed = parseArgs(rest);
  if (!parsed.ok) return { kind: 'local-error', text: `/${cmd}: ${parsed.error}` };
  // --no-resume: start over instead of continuing what a cut transfer left (docs/LFTP.md, "Resume").
  const args = parsed.args.filter((a) => a !== '--no-resume');
  const fresh = args.length < parsed.args.length;
  const [first, second] = args;
  if (first === undefined || args.length > 2)
    return {
      kind: 'local-error',
      text: cmd === 'get' ? 'usage: /get [--no-resume] <name> [dest]' : 'usage: /post [--no-resume] <path> [name]',
    };
  return cmd === 'get'
    ? { kind: 'get', name: first, dest: second, fresh }
    : { kind: 'post', path: first, name: second, fresh };
}

/** /sleep <duration>, at most MAX_SLEEP_MS: a longer one is refused, not cut short in silence. */
function sleepCommand(rest: string): InputAction {
  const most = `${MAX_SLEEP_MS / 60_000}m`;
  if (rest === '') return { kind: 'local-error', text: `usage: /sleep <duration>, e.g. /sleep 30s (at most ${most})` };
  let ms: number;
  try {
    ms = parseDuration(rest, '/sleep');
  } catch (err) {
    return { kind: 'local-error', text: err instanceof UsageError ? err.message : 'usage: /sleep <duration>' };
  }
  return ms > MAX_SLEEP_MS
    ? { kind: 'local-error', text: `/sleep: ${rest} is longer than the ${most} it allows; not sleeping` }
    : { kind: 'sleep', ms };
}

/**
 * /register [password], /identify <nick> [password], /password [<old> <new>], read by the one argument rule
 * (common/account-lines.ts): a password with spaces in quotes, the quotes not part of it. Left out, the
 * passwords are asked for (hidden, where there is a terminal to ask on).
 */
function accountCommand(cmd: 'register' | 'identify' | 'password', rest: string): InputAction {
  const a = accountArgs(cmd, rest);
  if (!a.ok) return { kind: 'local-error', text: a.error };
  switch (a.op) {
    case 'register':
      return a.password !== undefined
        ? { kind: 'send', msg: { type: 'ACCOUNT', op: 'register', password: a.password } }
        : { kind: 'ask-password', ask: { op: 'register' } };
    case 'identify':
      return a.password !== undefined
        ? { kind: 'send', msg: { type: 'ACCOUNT', op: 'identify', nick: a.nick, password: a.password } }
        : { kind: 'ask-password', ask: { op: 'identify', nick: a.nick } };
    case 'password':
      return a.password !== undefined && a.newPassword !== undefined
        ? { kind: 'send', msg: { type: 'ACCOUNT', op: 'password', password: a.password, newPassword: a.newPassword } }
        : { kind: 'ask-password', ask: { op: 'password' } };
  }
}

/** "#lab" as it is, "lab" as "#lab": a room's name always starts with #. */
function asRoom(word: string): string {
  return word.startsWith('#') ? word : `#${word}`;
}

/** /part, /topic, /names and /history: an optional #room first (no # here: the word is text). */
function roomCommand(cmd: 'part' | 'topic' | 'names' | 'history', rest: string): InputAction {
  const m = /^(#\S+)\s*(.*)$/.exec(rest.trim());
  const room = m ? m[1]! : null;
  const tail = (m ? m[2]! : rest).trim();
  switch (cmd) {
    case 'part':
      return { kind: 'room', command: { cmd, room, reason: tail } };
    case 'topic':
      return { kind: 'room', command: { cmd, room, text: tail === '' ? undefined : tail } };
    case 'names':
      return tail === ''
        ? { kind: 'room', command: { cmd, room } }
        : { kind: 'local-error', text: 'usage: /names [#room]' };
    case 'history': {
      // "/history bob 20": your direct messages with bob; @ marks a nick that looks like a number ("@42").
      const who = room === null ? /^@?(\S+)\s*(.*)$/.exec(tail) : null;
      const isNick = who !== null && (tail.startsWith('@') || !/^\d+(\.\d+)?(ms|s|m|h|d)?$/.test(who[1]!));
      const withNick = isNick ? who[1]! : undefined;
      const span = isNick ? who[2]!.trim() : tail;
      const base = { cmd, room, ...(withNick !== undefined ? { with: withNick } : {}) } as const;
      if (span === '') return { kind: 'room', command: { ...base, count: undefined, sinceMs: undefined } };
      if (/^\d+$/.test(span))
        return {
          kind: 'room',
          command: { ...base, count: Math.min(200, Math.max(1, Number(span))), sinceMs: undefined },
        };
      try {
        return { kind: 'room', command: { ...base, count: undefined, sinceMs: parseDuration(span, '/history') } };
      } catch {
        return { kind: 'local-error', text: 'usage: /history [#room | nick] [N | duration, e.g. 1h or 30m]' };
      }
    }
  }
}

function say(text: string, action: boolean, maxTextBytes: number): InputAction {
  return checkSize(text, maxTextBytes) ?? { kind: 'send', msg: { type: 'CHAT', text, action } };
}

/** A line too long for the server is not sent, and stays in the input line to be shortened. */
function checkSize(text: string, maxTextBytes: number): InputAction | null {
  const n = Buffer.byteLength(text);
  return n > maxTextBytes
    ? {
        kind: 'local-error',
        text: `message too long (${n} bytes, the server takes ${maxTextBytes}): not sent; it stays on the input line`,
        keep: true,
      }
    : null;
}
