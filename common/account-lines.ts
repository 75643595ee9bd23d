/**
 * Registered nicks as both clients show them (the terminal client and the
 * browser page): which typed lines carry a password (never kept in an input
 * history), how an account command's arguments are read, and what an
 * ACCOUNT_REPLY says.
 */
import type { ServerMessage } from './messages.js';
import { parseArgs } from './split-args.js';
import { neutralizeControls as safe } from './unicode/text-policy.js';

/** Lines that carry a password: never kept in the input history. */
export function carriesPassword(line: string): boolean {
  return /^\/(register|identify|password)(\s|$)/i.test(line);
}

/** @param giveIt how this client is given the password at login, for the line after /register */
export function accountReplyText(msg: Extract<ServerMessage, { type: 'ACCOUNT_REPLY' }>, giveIt: string): string {
  const nick = safe(msg.nick);
  switch (msg.op) {
    case 'registered':
      return `* ${nick} is registered: from now on it takes its password (${giveIt})`;
    case 'identified':
      return `* you are ${nick}, identified`;
    case 'password':
      return `* the password of ${nick} is changed`;
    case 'unregistered':
      return `* ${nick} is not registered any more (the operator removed it)`;
    case 'offline':
      return `* ${msg.count ?? 0} direct message${msg.count === 1 ? '' : 's'} came while you were offline`;
  }
}

/** An account command's arguments: a password left out (undefined) is asked for where there is a terminal. */
export type AccountArgs =
  | { ok: true; op: 'register'; password?: string }
  | { ok: true; op: 'identify'; nick: string; password?: string }
  | { ok: true; op: 'password'; password?: string; newPassword?: string }
  | { ok: false; error: string };

const QUOTES = '("double quotes" around a password with spaces)';

/**
 * /register [password], /identify <nick> [password], /password [<old> <new>]: their arguments by the one rule
 * of split-args.ts, so a password typed in quotes is the same password whichever command takes it.
 */
export function accountArgs(op: 'register' | 'identify' | 'password', rest: string): AccountArgs {
  const parsed = parseArgs(rest);
  if (!parsed.ok) return parsed;
  const a = parsed.args;
  switch (op) {
    case 'register':
      if (a.length > 1) return { ok: false, error: `usage: /register [password] ${QUOTES}` };
      return a.length === 1 ? { ok: true, op, password: a[0]! } : { ok: true, op };
    case 'identify':
      if (a.length < 1 || a.length > 2) return { ok: false, error: `usage: /identify <nick> [password] ${QUOTES}` };
      return a.length === 2 ? { ok: true, op, nick: a[0]!, password: a[1]! } : { ok: true, op, nick: a[0]! };
    case 'password':
      if (a.length === 1 || a.length > 2) return { ok: false, error: `usage: /password [<old> <new>] ${QUOTES}` };
      return a.length === 2 ? { ok: true, op, password: a[0]!, newPassword: a[1]! } : { ok: true, op };
  }
}
