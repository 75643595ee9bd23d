/**
 * What a connection reads passes through its flood gate (common/flood-gate.ts)
 * before it is handled: within the session's credits at once, beyond them
 * held back in arrival order and handled as credits come back. A backlog that
 * outgrows its bound means the client keeps sending faster than the policy
 * for longer than a paste lasts: it is told FLOOD and dropped. Heartbeat
 * answers never wait (a throttled client must not look dead).
 *
 * What the server reads from its history for the session is charged here
 * too (charge(): the store thread says what an answer costs): in the same
 * order as the frames, so that a session that has asked for more than its
 * credits cover waits, its own later frames behind the debt.
 *
 * The clock and the timer are injected, so the gate is tested without time
 * passing.
 */
import type { RawFrame } from '../../common/frame.js';
import { FloodGate, frameCost, type FloodPolicy } from '../../common/flood-gate.js';
import { FrameType } from '../../common/messages.js';

/** Enough for a paste from a client that does not pace itself; the chat client does (it reads WELCOME's policy). */
export const DEFAULT_BACKLOG_FRAMES = 100;

export interface InboundPolicy extends FloodPolicy {
  /** Frames that may wait for credits before the client is dropped. */
  backlogFrames: number;
  /** Body bytes that may wait for credits before the client is dropped. */
  backlogBytes: number;
}

export interface GateTimer {
  now(): number;
  /** Runs fn after ms; returns a cancel function. */
  after(ms: number, fn: () => void): () => void;
}

export class InboundGate {
  private readonly gate: FloodGate;
  /** Frames waiting for credits, and charges (paid: called once the credits are taken). */
  private backlog: Array<{ frame: RawFrame; cost: number } | { paid: () => void; cost: number }> = [];
  private backlogBytes = 0;
  private cancelTimer: (() => void) | null = null;
  private closed = false;
  /** Everything waits (the login is being decided), credits or not. */
  private held = false;
  /** Frames that had to wait, for the log and the tests. */
  delayed = 0;

  constructor(
    private readonly policy: InboundPolicy,
    private readonly timer: GateTimer,
    private readonly run: (frame: RawFrame) => void,
    private readonly flood: (detail: string) => void,
  ) {
    this.gate = new FloodGate(policy, timer.now());
  }

  get waiting(): number {
    return this.backlog.length;
  }

  push(frame: RawFrame): void {
    if (this.closed) return;
    if (frame.type === FrameType.HEARTBEAT_ACK && !this.held) return this.run(frame);
    const cost = frameCost(frame.type, frame.body.length);
    if (this.backlog.length === 0 && !this.held && this.gate.take(cost, this.timer.now())) return this.run(frame);
    if (
      this.backlog.length >= this.policy.backlogFrames ||
      this.backlogBytes + frame.body.length > this.policy.backlogBytes
    ) {
      this.flood(
        `more than ${this.policy.backlogFrames} messages or ${this.policy.backlogBytes} bytes waiting: sending faster than ${this.policy.perSecond} a second (bursts of ${this.policy.burst})`,
      );
      this.close();
      return;
    }
    // Its own copy: a body is a view into the read chunk, which it would otherwise keep alive.
    this.backlog.push({ frame: { type: frame.type, body: Buffer.from(frame.body) }, cost });
    this.backlogBytes += frame.body.length;
    if (this.held) return;
    this.delayed++;
    this.schedule();
  }

  /**
   * A read from the history costs `cost` credits (common/flood-gate.ts readCost): taken, in order behind what
   * already waits, once the session has them (a cost above the burst once it has a full burst: the credits then
   * go below zero, and later frames wait until they are back); then `paid` runs. Never called once closed.
   */
  charge(cost: number, paid: () => void): void {
    if (this.closed) return;
    if (this.backlog.length === 0 && !this.held && this.gate.debit(cost, this.timer.now())) return paid();
    this.backlog.push({ paid, cost });
    if (!this.held) this.schedule();
  }

  /** Until release(), frames wait in arrival order (within the backlog's bounds), whatever the credits. */
  hold(): void {
    this.held = true;
    this.cancelTimer?.();
    this.cancelTimer = null;
  }

  /** Frames flow again: what waited first, as credits allow. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    if (!this.closed) this.drain();
  }

  /** Stops: drops what waits, cancels the timer (the connection is ending). */
  close(): void {
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.backlog = [];
    this.backlogBytes = 0;
  }

  /** The credits for what waits first: a frame's (at most a burst), or a charge's in full. */
  private takeHead(): boolean {
    const head = this.backlog[0]!;
    const now = this.timer.now();
    return 'paid' in head ? this.gate.debit(head.cost, now) : this.gate.take(head.cost, now);
  }

  private schedule(): void {
    if (this.cancelTimer || this.backlog.length === 0) return;
    const head = this.backlog[0]!;
    this.cancelTimer = this.timer.after(this.gate.waitMs(head.cost, this.timer.now()), () => {
      this.cancelTimer = null;
      this.drain();
    });
  }

  private drain(): void {
    while (!this.closed && !this.held && this.backlog.length > 0 && this.takeHead()) {
      const head = this.backlog.shift()!;
      if ('paid' in head) {
        head.paid();
        continue;
      }
      this.backlogBytes -= head.frame.body.length;
      this.run(head.frame);
    }
    if (!this.closed && !this.held) this.schedule();
  }
}
