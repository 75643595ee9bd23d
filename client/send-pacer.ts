/**
 * The client's half of flood control: what it sends goes out at the pace
 * the server's WELCOME announced (common/flood-gate.ts), so a long paste or
 * a script's burst of lines is spread out instead of getting the client
 * dropped with FLOOD. Order is kept; heartbeat answers never wait.
 */
import { FloodGate, frameCost, type FloodPolicy } from '../common/flood-gate.js';
import { encodeMessage, type ClientMessage } from '../common/protocol.js';

export interface PacerTimer {
  now(): number;
  after(ms: number, fn: () => void): () => void;
}

export const realTimer: PacerTimer = {
  now: () => performance.now(),
  after: (ms, fn) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

export class SendPacer {
  private gate: FloodGate | null = null;
  private queue: Array<{ frame: Buffer; cost: number }> = [];
  private cancel: (() => void) | null = null;
  private idleWaiters: Array<() => void> = [];

  /**
   * @param write puts a frame on the connection
   * @param holding told how many frames wait whenever a new one has to (for a notice on a terminal)
   */
  constructor(
    private readonly write: (frame: Buffer) => void,
    private readonly timer: PacerTimer = realTimer,
    private readonly holding: (waiting: number) => void = () => undefined,
  ) {}

  /** From WELCOME; without one (an older server) nothing is paced. */
  setPolicy(policy: FloodPolicy | null): void {
    this.gate = policy && policy.burst > 0 && policy.perSecond > 0 ? new FloodGate(policy, this.timer.now()) : null;
  }

  /** Credits per second, 0 when not pacing. */
  get rate(): number {
    return this.gate?.policy.perSecond ?? 0;
  }

  get waiting(): number {
    return this.queue.length;
  }

  send(msg: ClientMessage): void {
    const frame = encodeMessage(msg);
    if (msg.type === 'HEARTBEAT_ACK' || !this.gate) return this.write(frame);
    const cost = frameCost(frame[4]!, frame.length - 5);
    if (this.queue.length === 0 && this.gate.take(cost, this.timer.now())) return this.write(frame);
    this.queue.push({ frame, cost });
    this.holding(this.queue.length);
    this.schedule();
  }

  /** Calls back once everything queued has been written: at once when nothing waits. */
  whenIdle(callback: () => void): void {
    if (this.queue.length === 0) callback();
    else this.idleWaiters.push(callback);
  }

  /** Forgets what waits (a new connection starts afresh). */
  clear(): void {
    this.cancel?.();
    this.cancel = null;
    this.queue = [];
    this.gate = null;
    this.settle();
  }

  private schedule(): void {
    if (this.cancel || this.queue.length === 0 || !this.gate) return;
    this.cancel = this.timer.after(this.gate.waitMs(this.queue[0]!.cost, this.timer.now()), () => {
      this.cancel = null;
      while (this.gate && this.queue.length > 0 && this.gate.take(this.queue[0]!.cost, this.timer.now()))
        this.write(this.queue.shift()!.frame);
      this.schedule();
      this.settle();
    });
  }

  private settle(): void {
    if (this.queue.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
