/**
 * The seam between the IRC registration (registration.ts) and the worker
 * that will run it: what the machine asks of the chat, and the answers it
 * takes. Each effect maps onto a part the chat protocol already has, so the
 * IRC door adds no second way to log in:
 *   - check-account: AccountGate.login(caller, nick, password) without a
 *     claim (SASL must answer 903/904 before registration ends); its
 *     throttles count the tries as for a chat HELLO. Its answers: true is
 *     ok; false (no such account) is a refusal, NOT_REGISTERED; a thrown
 *     ProtocolError is a refusal with its code and message.
 *   - hello: the chat's HELLO, passed to server/chat/login.ts as a chat
 *     connection's would be (server password, account, NickRegistry claim,
 *     take-over by the nick's owner), answered with the session's nick or
 *     the refusal's WireErrorCode and message.
 *   - close: after the replies are written (ERROR was the last of them).
 */
import type { WireErrorCode } from '../../common/errors.js';
import type { ClientMessage } from '../../common/messages.js';
import type { IrcMessage } from './message.js';
import type { Counts } from './numerics.js';

export type ChatHello = Extract<ClientMessage, { type: 'HELLO' }>;

export type Effect =
  | { kind: 'check-account'; nick: string; password: string }
  | { kind: 'hello'; hello: ChatHello; user: { ident: string; realname: string }; account: boolean }
  | { kind: 'close' };

export interface Step {
  /** Lines to the client, in order. */
  replies: IrcMessage[];
  /** What the worker must do, after writing the replies. */
  effects: Effect[];
  /** Lines for the registered session's command handler, in order. */
  commands: IrcMessage[];
}

export function emptyStep(): Step {
  return { replies: [], effects: [], commands: [] };
}

export type AccountAnswer = { ok: true } | { ok: false; code: WireErrorCode; message: string };

/** What registration's welcome needs from the chat once the HELLO succeeded. */
export interface Welcome {
  /** The session's nick, as the chat has it (NFC, or the account's). */
  nick: string;
  motd: readonly string[] | null;
  counts: Counts;
}
