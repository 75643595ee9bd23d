/**
 * What each client message does in an active session: one handler per type,
 * each given the session it arrived on. The session's lifecycle (framing,
 * HELLO, heartbeats, the end) is connection.ts's; these are the commands.
 */
import { ProtocolError, type WireErrorCode } from '../../common/errors.js';
import { encodeMessage, type ClientMessage, type ServerMessage } from '../../common/protocol.js';
import { validateNick } from '../../common/text.js';
import { clipChars, isBlank, neutralizeControls } from '../../common/unicode/text-policy.js';
import { nickTakenText } from '../shm/nick-keys.js';
import type { SlotRef } from '../shm/session-table.js';
import type { SessionAddress } from '../bus/room-bus.js';
import type { ConnectionHost, EndReason } from './session-host.js';
import { whoReply } from './who-reply.js';

/** What a handler may do with the session a message arrived on. */
export interface ActiveSession {
  readonly host: ConnectionHost;
  readonly nick: string;
  readonly ref: SlotRef;
  readonly sessionId: number;
  /** Runs the session's file requests (directory listings, tickets) one at a time, in order. */
  inTurn(work: () => Promise<ServerMessage>): void;
  send(frame: Buffer): boolean;
  reply(msg: ServerMessage): void;
  /** A request refused; the session carries on. */
  reject(code: WireErrorCode, message: string): void;
  /** One more message from this user (counters, idle time). */
  counted(): void;
  renamed(nick: string): void;
  heartbeatAnswered(seq: number, ts: number): void;
  end(reason: EndReason, how: 'graceful', farewell: ServerMessage): void;
}

type Handlers = { [T in ClientMessage['type']]: (s: ActiveSession, msg: Extract<ClientMessage, { type: T }>) => void };

/** Neutralised text, or null after telling the client why it was refused. */
function checkText(s: ActiveSession, raw: string): string | null {
  const text = neutralizeControls(raw);
  const max = s.host.limits.maxText;
  if (isBlank(text)) s.reject('TEXT_INVALID', 'empty message (nothing in it shows: only spaces or invisible characters)');
  else if (Buffer.byteLength(text) > max) s.reject('TEXT_INVALID', `message longer than ${max} bytes`);
  else return text;
  return null;
}

/** The session as the room bus addresses it. */
function address(s: ActiveSession): SessionAddress {
  return { slot: s.ref.slot, generation: s.ref.generation, owner: s.host.workerIndex };
}

const handlers: Handlers = {
  HELLO() {
    throw new ProtocolError('ALREADY_HELLO', 'HELLO sent twice');
  },

  CHAT(s, msg) {
    const text = checkText(s, msg.text);
    if (text === null) return;
    s.counted();
    s.host.history.say(address(s), s.nick, text, msg.action);
  },

  DIRECT(s, msg) {
    const target = s.host.table.lookup(msg.to);
    if (!target) {
      s.reject('NO_SUCH_NICK', `no user named ${clipChars(neutralizeControls(msg.to), 40)}`);
      return;
    }
    const text = checkText(s, msg.text);
    if (text === null) return;
    s.counted();
    // Both copies come from the store once it has the message: the sender's confirms it, and shows the exact recipient.
    s.host.history.direct(address(s), target, s.nick, target.nick, text);
  },

  WHO(s) {
    s.reply(whoReply(s.host.table, s.host.limits.maxFrame, Date.now()));
  },

  NICK(s, msg) {
    let nick: string;
    try {
      nick = validateNick(msg.nick);
    } catch (err) {
      s.reject('NICK_INVALID', (err as Error).message);
      return;
    }
    if (nick === s.nick) return;
    const result = s.host.table.rename(s.ref, nick);
    if (typeof result === 'object') s.reject('NICK_TAKEN', nickTakenText(nick, result));
    else if (result === 'ok') {
      const old = s.nick;
      s.renamed(nick);
      s.host.event(`* ${old} is now ${nick}`);
      s.host.bus.post(encodeMessage({ type: 'NOTICE', event: 'nick', nick: old, newNick: nick }));
    }
  },

  HEARTBEAT_ACK(s, msg) {
    s.heartbeatAnswered(msg.seq, msg.ts);
  },

  FILES(s) {
    s.inTurn(() => s.host.files.list());
  },

  TICKET_REQUEST(s, msg) {
    s.inTurn(() => s.host.files.ticket(msg.id, msg.op, msg.name, msg.size, { nick: s.nick, session: s.sessionId }));
  },

  BYE(s, msg) {
    const trimmed = clipChars(neutralizeControls(msg.reason).trim(), 200);
    const said = isBlank(trimmed) ? '' : trimmed;
    s.end({ kind: 'left', detail: said ? `quit: ${said}` : 'quit', ...(said ? { said } : {}) }, 'graceful', { type: 'BYE', reason: 'goodbye' });
  },
};

/** Runs the handler for msg; a ProtocolError it throws is fatal for the connection. */
export function handleActive(s: ActiveSession, msg: ClientMessage): void {
  (handlers[msg.type] as (s: ActiveSession, msg: ClientMessage) => void)(s, msg);
}
