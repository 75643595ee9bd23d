/**
 * What a chat session needs from the worker it lives in, and nothing more:
 * the limits, the clocks, the session table, the room bus, this worker's
 * session registry and a files port. The worker (chat-worker.ts) builds one.
 */
import type { HeartbeatPolicy } from './heartbeat.js';
import type { SessionTable } from '../shm/session-table.js';
import type { NickRegistry } from '../bus/nick-registry.js';
import type { RoomBus } from '../bus/room-bus.js';
import type { SequencerPort } from '../store/store-link.js';
import type { FilesPort } from './files-port.js';
import type { Logger } from '../logger.js';
import type { Socket } from 'node:net';
import type { ServerMessage } from '../../common/protocol.js';
import type { WireErrorCode } from '../../common/errors.js';
import type { GateTimer, InboundGate, InboundPolicy } from './inbound-gate.js';
import type { Admission } from './admission.js';
import type { SlotRef } from '../shm/session-table.js';
import type { ServerPassword } from './server-password.js';
import type { AccountGate } from '../accounts/account-gate.js';

export interface ConnectionLimits extends HeartbeatPolicy {
  maxFrame: number;
  maxText: number;
  helloTimeoutMs: number;
  /** Bytes that may wait for one client (its queue and its socket) before it is dropped. */
  maxSendQueue: number;
  /** Bytes that may wait for all of a worker's clients together before the slowest readers are dropped. */
  maxOutputBytes: number;
  /** Flood control for what each session sends. */
  flood: InboundPolicy;
}

export interface WorkerTotals {
  msgsIn: number;
  bytesIn: number;
  bytesOut: number;
  framesOut: number;
}

/** The two clocks a session reads (heartbeat.ts says why there are two). */
export interface SessionClock {
  wallNow(): number;
  awakeNow(): number;
}

/** A connection as its worker's group sees it: what delivery, kicks, the ticker and shutdown need. */
export interface GroupMember {
  /** Set once HELLO claimed a slot. */
  readonly ref: SlotRef | null;
  /** The protocol version its HELLO asked for (0 before HELLO). */
  readonly version: number;
  readonly nick: string;
  readonly socket: Socket;
  /** Bytes waiting to be sent to it (history held to be paced in included). */
  readonly queuedBytes: number;
  send(frame: Buffer): boolean;
  /** Where frames from the room bus go: HISTORY paced in as the connection drains, live ones (held behind it), and a resume's parts. */
  readonly inbox: { deliver(frame: Buffer): void; part(frames: Buffer[], done: boolean): void };
  /** Ends the connection with a fatal ERROR frame. */
  fail(code: WireErrorCode, message: string): void;
  kick(reason: string): void;
  /** Its flood control; charge(): credits for what the store read for it, `paid` once taken (inbound-gate.ts). */
  readonly inbound: Pick<InboundGate, 'charge'>;
  tick(awakeNow: number, wallNow: number): void;
  shutdown(reason: string): void;
}

/** This worker's sessions: the ones the room bus delivers to here. */
export interface SessionRegistry {
  /** After HELLO: the session can be delivered to. */
  registered(member: GroupMember): void;
  /** At its end, whether or not it said HELLO. */
  unregistered(member: GroupMember): void;
}

/** What a chat session needs from the worker it lives in. */
export interface ConnectionHost {
  readonly workerIndex: number;
  /** The node this worker is on (--node-id): part of every SessionAddress it makes. */
  readonly node: string;
  readonly serverName: string;
  readonly limits: ConnectionLimits;
  readonly log: Logger;
  /** Worker-wide counters, published to shared memory by the worker's ticker. */
  readonly totals: WorkerTotals;
  readonly clock: SessionClock;
  /** Timers for the flood gate (the clock it reads, and a way to be called back). */
  readonly timer: GateTimer;
  readonly table: SessionTable;
  /** Who holds which nick, and where a session is: cluster-wide when there are nodes (bus/nick-registry.ts). */
  readonly nicks: NickRegistry;
  /** Frames for sessions anywhere, this one's room included. */
  readonly bus: RoomBus;
  /** Where messages and room requests go to be stored, numbered and put in the rooms' order (the store thread). */
  readonly sequencer: SequencerPort;
  /** The room everyone is in at login; a version-1 session's only room. */
  readonly defaultRoom: string;
  /** How long a session whose connection is lost is kept for it to resume (0: sessions are not kept, --no-history). */
  readonly resumeWindowMs: number;
  /** A private server's password (null: anyone may say HELLO). */
  readonly serverPassword: ServerPassword | null;
  /** Registered nicks (null: the server keeps none, --no-history). */
  readonly accounts: AccountGate | null;
  readonly sessions: SessionRegistry;
  /** --qlog: each connection's trace goes in this folder (session-qlog.ts), or null. */
  readonly qlogDir: string | null;
  /** Per-address limits: a connection is created holding a 'pending' place, which HELLO trades for a 'session' one. */
  readonly admission: Admission;
  readonly files: FilesPort;
  /** A line for the operator's console (the supervisor's stdout). */
  event(text: string): void;
}

export type EndReason =
  /** said: the reason the user gave with /quit, for the others to read. */
  | { kind: 'left'; detail: string; said?: string }
  | { kind: 'timed_out'; detail: string }
  /** The connection went without BYE (heartbeat: no answer to heartbeats): the session waits to resume, if it can. */
  | { kind: 'lost'; detail: string; heartbeat?: boolean }
  /** The session was resumed on another connection: this one just closes. */
  | { kind: 'replaced'; detail: string }
  | { kind: 'kicked'; detail: string }
  | { kind: 'error'; detail: string }
  | { kind: 'shutdown'; detail: string };

/** How the end of a session is told: a line for the console, a NOTICE for the room. */
export function endNotice(nick: string, reason: EndReason): { line: string; notice: ServerMessage } {
  switch (reason.kind === 'lost' && reason.heartbeat ? 'timed_out' : reason.kind) {
    case 'timed_out':
      return { line: `* ${nick} timed out (${reason.detail})`, notice: { type: 'NOTICE', event: 'timed_out', nick } };
    case 'kicked':
      return {
        line: `* ${nick} was kicked (${reason.detail || 'no reason'})`,
        notice: { type: 'NOTICE', event: 'kicked', nick, reason: reason.detail },
      };
    default:
      return {
        line: `* ${nick} left (${reason.detail})`,
        notice: {
          type: 'NOTICE',
          event: 'left',
          nick,
          ...(reason.kind === 'left' && reason.said ? { reason: reason.said } : {}),
        },
      };
  }
}
