/**
 * Registered nicks as both clients show them (the terminal client and the
 * browser page): which typed lines carry a password (never kept in an input
 * history), and what an ACCOUNT_REPLY says.
 */
import type { ServerMessage } from './messages.js';
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
