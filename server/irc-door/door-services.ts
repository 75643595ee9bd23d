/**
 * What an IRC connection needs from the worker it lives in, beside what
 * every chat connection gets through its ClientConnection: the door's
 * settings (the server's name, the nick mode, what it offers), SASL's
 * account check (AccountGate.login without a claim: registration-effects.ts),
 * the counts LUSERS shows, and the people of this worker's IRC sessions
 * (real names, AWAY messages, accounts), which the chat protocol does not
 * carry. The worker builds one (chat-worker.ts, ircDoorServices).
 */
import { ProtocolError } from '../../common/errors.js';
import type { Caller } from '../accounts/account-gate.js';
import type { GateTimer, InboundPolicy } from '../chat/inbound-gate.js';
import type { Capability } from '../irc/caps.js';
import type { CtcpContext } from '../irc/ctcp.js';
import type { NetworkLimits } from '../irc/isupport.js';
import type { NickMode } from '../irc/nick-map.js';
import type { Counts, ServerInfo } from '../irc/numerics.js';
import type { AccountAnswer } from '../irc/registration-effects.js';
import type { IrcPeople } from './irc-people.js';

export interface DoorConfig {
  server: ServerInfo;
  /** The host part of every prefix: one cloak for everyone (nick-map.ts). */
  host: string;
  nickMode: NickMode;
  limits: NetworkLimits;
  offered: ReadonlyMap<Capability, string>;
  /** Where CHAT without a room goes. */
  defaultRoom: string;
  ctcp: CtcpContext;
}

export interface DoorServices {
  readonly config: DoorConfig;
  /** The chat's flood policy and the worker's timers: lines the door answers itself are paced by them too. */
  readonly flood: InboundPolicy;
  readonly timer: GateTimer;
  /** SASL PLAIN's credentials checked as a HELLO's would be (AccountGate.login), without claiming the nick. */
  checkAccount(caller: Caller, nick: string, password: string): Promise<AccountAnswer>;
  /** LUSERS, and the welcome's. */
  counts(): Counts;
  readonly people: IrcPeople;
}

/** AccountGate.login's answer as registration takes it: true ok, false NOT_REGISTERED, a refusal its code. */
export async function accountAnswer(login: Promise<boolean>, nick: string): Promise<AccountAnswer> {
  try {
    if (await login) return { ok: true };
    return { ok: false, code: 'NOT_REGISTERED', message: `${nick} is not a registered nick` };
  } catch (err) {
    if (err instanceof ProtocolError) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}
