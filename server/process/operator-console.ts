/** The operator's commands, parsed from one line of the server's stdin. */
import { parseDuration } from '../../common/units.js';

export type OperatorCommand =
  | { cmd: 'broadcast'; text: string }
  | { cmd: 'list' }
  | { cmd: 'kick'; nick: string; reason: string }
  | { cmd: 'stats' }
  | { cmd: 'shutdown' }
  | { cmd: 'help' }
  | { cmd: 'kill-worker'; worker: number; holdLock: boolean }
  | { cmd: 'stall-worker'; worker: number; ms: number }
  | { cmd: 'none' }
  | { cmd: 'invalid'; message: string };

export const OPERATOR_HELP = `Operator commands:
  <text>                        broadcast <text> to every client as [server] <text>
  /list                         sessions: nick, address, worker, RTT, idle time
  /kick <nick> [reason]         disconnect a user; everyone sees the notice
  /stats                        clients per worker, messages/s, bytes, event-loop lag
  /shutdown                     say goodbye to every client and stop (as SIGINT/SIGTERM)
  /kill-worker <n> [--hold-lock] crash worker n (fault injection: watch the repair and restart)
  /stall-worker <n> <duration>  block worker n's event loop (fault injection: nobody is dropped for it)
  /help                         this list
A line starting with // is broadcast with one slash removed.`;

export function parseOperatorLine(line: string): OperatorCommand {
  const trimmed = line.trim();
  if (trimmed === '') return { cmd: 'none' };
  if (trimmed.startsWith('//')) return { cmd: 'broadcast', text: trimmed.slice(1) };
  if (!trimmed.startsWith('/')) return { cmd: 'broadcast', text: trimmed };
  const [head = '', ...rest] = trimmed.split(/\s+/);
  switch (head.toLowerCase()) {
    case '/list':
      return { cmd: 'list' };
    case '/stats':
      return { cmd: 'stats' };
    case '/shutdown':
      return { cmd: 'shutdown' };
    case '/help':
      return { cmd: 'help' };
    case '/kick': {
      const [nick, ...why] = rest;
      if (!nick) return { cmd: 'invalid', message: 'usage: /kick <nick> [reason]' };
      return { cmd: 'kick', nick, reason: why.join(' ') };
    }
    case '/kill-worker': {
      const n = Number(rest[0]);
      if (rest[0] === undefined || !Number.isInteger(n) || n < 0) return { cmd: 'invalid', message: 'usage: /kill-worker <n> [--hold-lock]' };
      return { cmd: 'kill-worker', worker: n, holdLock: rest.includes('--hold-lock') };
    }
    case '/stall-worker': {
      const n = Number(rest[0]);
      const ms = /^\d+(ms|s)$/.test(rest[1] ?? '') ? parseDuration(rest[1]!, '/stall-worker') : NaN;
      if (!Number.isInteger(n) || n < 0 || !(ms > 0) || ms > 600_000) {
        return { cmd: 'invalid', message: 'usage: /stall-worker <n> <duration up to 10m, e.g. 3s>' };
      }
      return { cmd: 'stall-worker', worker: n, ms };
    }
    default:
      return { cmd: 'invalid', message: `unknown command ${head} (try /help; start a broadcast with // to send a leading slash)` };
  }
}
