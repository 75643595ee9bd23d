/** What a message handler (handlers.ts, and the account commands) may do with the session a message arrived on. */
import type { WireErrorCode } from '../../common/errors.js';
import type { ServerMessage } from '../../common/protocol.js';
import type { SlotRef } from '../shm/session-table.js';
import type { Caller } from '../accounts/account-gate.js';
import type { ConnectionHost, EndReason } from './session-host.js';

export interface ActiveSession {
  readonly host: ConnectionHost;
  readonly nick: string;
  readonly ref: SlotRef;
  readonly sessionId: number;
  /** The protocol version of its HELLO. */
  readonly version: number;
  /** Where it connects from, and whether passwords may come over its connection. */
  readonly caller: Caller;
  /** Runs the session's asynchronous requests (directory listings, tickets, WHO) one at a time, in order. */
  inTurn(work: () => Promise<ServerMessage>): void;
  /** Frames after this one wait until `work` settles; then `next` runs with its answer, if the session is still here. */
  inOrder<T>(work: Promise<T>, next: (answer: T) => void): void;
  send(frame: Buffer): boolean;
  reply(msg: ServerMessage): void;
  /** A request refused (ref: the request's, PROTOCOL.md "Request references"); the session carries on. */
  reject(code: WireErrorCode, message: string, ref?: string): void;
  /** One more message from this user (counters, idle time). */
  counted(): void;
  renamed(nick: string): void;
  heartbeatAnswered(seq: number, ts: number): void;
  end(reason: EndReason, how: 'graceful', farewell: ServerMessage): void;
}
