/**
 * A connection's session from HELLO to its end: who it is (slot, id,
 * protocol version, nick, the log lines that name it), what the message
 * handlers may do with it (ActiveSession), its liveness on the worker's tick
 * (session-watch.ts), and what its end does to it (session-end.ts).
 */
import type { WireErrorCode } from '../../common/errors.js';
import type { ServerMessage } from '../../common/protocol.js';
import type { SessionAddress } from '../bus/room-bus.js';
import type { Caller } from '../accounts/account-gate.js';
import type { Logger } from '../logger.js';
import type { SlotCounters, SlotRef } from '../shm/session-table.js';
import type { ActiveSession } from './active-session.js';
import type { OutputProgress } from './heartbeat.js';
import { closeSession } from './session-end.js';
import type { ConnectionHost, EndReason } from './session-host.js';
import type { Hello, Peer, StartedSession } from './session-start.js';
import { SessionWatch } from './session-watch.js';

/** What the session needs of the connection that carries it. */
export interface SessionCarrier {
  send(frame: Buffer): boolean;
  reply(msg: ServerMessage): void;
  reject(code: WireErrorCode, message: string, ref?: string): void;
  /** Runs the session's file requests one at a time, in order (in-turn.ts). */
  inTurn(work: () => Promise<ServerMessage>): void;
  end(reason: EndReason, how: 'graceful' | 'destroy', farewell?: ServerMessage): void;
  /** A resumed session's replay: stalled once the part it waits for does not come. */
  readonly replay: { stalled(): boolean };
  /** Frames after the current one wait (hold) until release; alive: false once the connection has ended. */
  hold(): void;
  release(): void;
  alive(): boolean;
  /** What a frame's handling threw (a ProtocolError: fatal with its code). */
  fail(err: unknown): void;
}

export class LiveSession implements ActiveSession {
  readonly ref: SlotRef;
  /** The session as the room bus addresses it. */
  readonly at: SessionAddress;
  readonly sessionId: number;
  readonly version: number;
  nick: string;
  /** Set while the session can be resumed (its token is in the session table). */
  readonly resumable: boolean;
  readonly address: string;
  readonly caller: Caller;
  log: Logger;
  private readonly watch: SessionWatch;
  /** Where the session's client is, for its log lines. */
  private readonly where: { remote: string; transport: Peer['transport'] };

  constructor(
    readonly host: ConnectionHost,
    s: StartedSession,
    msg: Hello,
    peer: Peer,
    /** The connection's counters, shared: it counts what goes out, the session what it is sent. */
    readonly counters: SlotCounters,
    private readonly carrier: SessionCarrier,
  ) {
    this.ref = s.ref;
    this.at = { ...s.ref, node: host.node, owner: host.workerIndex };
    this.version = msg.version;
    this.sessionId = s.sessionId;
    this.nick = s.nick;
    this.resumable = s.token !== null;
    this.address = peer.address;
    this.caller = { address: peer.address, secure: peer.secure };
    this.where = { remote: `${peer.address}:${peer.port}`, transport: peer.transport };
    this.log = this.sessionLog(s.nick);
    this.watch = new SessionWatch(host, s.ref, carrier.replay, this.resumable, {
      send: (m) => carrier.reply(m),
      end: (f) => carrier.end(f.reason, 'graceful', f.bye),
    });
  }

  /** The session's logger: the worker's, with the session's id, nick and client. */
  private sessionLog(nick: string): Logger {
    return this.host.log.child({ session: this.sessionId, nick, ...this.where });
  }

  inTurn(work: () => Promise<ServerMessage>): void {
    this.carrier.inTurn(work);
  }

  inOrder<T>(work: Promise<T>, next: (answer: T) => void): void {
    const c = this.carrier;
    c.hold();
    work.then(
      (answer) => {
        if (!c.alive()) return;
        try {
          next(answer);
        } catch (err) {
          return c.fail(err);
        }
        c.release();
      },
      (err: unknown) => c.alive() && c.fail(err),
    );
  }

  send(frame: Buffer): boolean {
    return this.carrier.send(frame);
  }

  reply(msg: ServerMessage): void {
    this.carrier.reply(msg);
  }

  reject(code: WireErrorCode, message: string, ref?: string): void {
    this.carrier.reject(code, message, ref);
  }

  counted(): void {
    this.counters.msgsIn++;
    this.host.totals.msgsIn++;
    this.host.table.setLastActive(this.ref.slot, this.host.clock.wallNow());
  }

  renamed(nick: string): void {
    const old = this.nick;
    this.nick = nick;
    // A fresh child of the worker's logger: a child of this one would carry "nick" twice (pino writes both).
    this.log = this.sessionLog(nick);
    this.log.info({ from: old }, 'nick changed');
  }

  heartbeatAnswered(seq: number, ts: number): void {
    this.watch.answered(seq, ts);
  }

  end(reason: EndReason, how: 'graceful', farewell: ServerMessage): void {
    this.carrier.end(reason, how, farewell);
  }

  /** Driven by the worker's ticker, through the connection. */
  tick(awakeNow: number, wallNow: number, output: OutputProgress): void {
    this.watch.tick(awakeNow, wallNow, output, this.counters);
  }

  /** Its connection has ended: the slot is freed and the rooms told, or the session is kept to resume. */
  closed(reason: EndReason): void {
    closeSession(this.host, this, reason);
  }
}
