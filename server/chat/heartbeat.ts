/**
 * Heartbeat bookkeeping, as pure state: no timers, no sockets. The worker's
 * ticker feeds it the clock; it answers "send a heartbeat now" and "this peer
 * is dead".
 *
 * Two clocks:
 *  - wall time (ms), for timestamps the peer echoes and RTT;
 *  - awake time: wall time minus every stall of this thread's event loop. A
 *    deadline is judged in awake time, so a server that was too busy to read
 *    answers does not blame its clients for the seconds it was not listening.
 */

export interface HeartbeatPolicy {
  intervalMs: number;
  timeoutMs: number;
}

/** The ticker's period: often enough to drop a peer within a small fraction of the interval after its deadline. */
export function tickPeriodFor(intervalMs: number): number {
  return Math.max(10, Math.min(100, Math.floor(intervalMs / 10)));
}

/**
 * Measures how late the ticker fires. Lateness beyond the tolerance is a stall
 * (the loop was blocked or starved) and is taken out of awake time.
 */
export class LoopStallMeter {
  private lastTick: number;
  private stalled = 0;
  private maxLateRecent = 0;

  constructor(
    private readonly periodMs: number,
    now: number,
    private readonly toleranceMs = 20,
  ) {
    this.lastTick = now;
  }

  /** Call on every tick; returns awake time. */
  tick(now: number): number {
    const late = now - this.lastTick - this.periodMs;
    if (late > this.maxLateRecent) this.maxLateRecent = late;
    if (late > this.toleranceMs) this.stalled += late;
    this.lastTick = now;
    return now - this.stalled;
  }

  awake(now: number): number {
    // Time since the last tick is not known to be a stall yet.
    return now - this.stalled;
  }

  get totalStallMs(): number {
    return this.stalled;
  }

  /** Largest lateness since the previous call (for statistics). */
  takeMaxLate(): number {
    const v = Math.max(0, this.maxLateRecent);
    this.maxLateRecent = 0;
    return v;
  }
}

export type HeartbeatAction = { kind: 'send'; seq: number; ts: number } | { kind: 'timeout'; silentForMs: number };

/** Where the connection's outgoing byte stream stands: bytes accepted for sending so far, and how many of them the kernel has taken. */
export interface OutputProgress {
  accepted: number;
  taken: number;
}

const IDLE_OUTPUT: OutputProgress = { accepted: 0, taken: 0 };

interface PendingHeartbeat {
  /** Stream offset of the heartbeat: the bytes queued before it. */
  offset: number;
  /** Awake time its answer clock started (or last restarted). */
  clockFrom: number;
}

/**
 * One peer's heartbeats. A heartbeat must be answered within the timeout; the
 * oldest unanswered one sets the deadline. An answer to seq n also answers
 * every earlier one (answers may be lost only with the connection).
 *
 * The heartbeat travels in the same stream as the chat, so a peer that is
 * alive but reading behind a backlog cannot answer until it has read what was
 * queued before it. Such a peer is slow, not dead, and slowness has its own
 * limit (the send-queue cap). So while a heartbeat is still waiting in this
 * process's queue, its clock restarts at every poll that finds the kernel took
 * more of the stream; once the kernel has it, or the stream stops moving, the
 * clock runs. A frozen peer stops taking bytes once its kernel buffers fill,
 * so it is still dropped: after the timeout when idle, and that much after its
 * buffers fill under load.
 */
export class HeartbeatTracker {
  private seq = 0;
  private nextSendAwake: number;
  /** seq → heartbeat, oldest first (Map keeps insertion order). */
  private readonly pending = new Map<number, PendingHeartbeat>();
  private lastAnswerWall: number;
  private lastTaken = 0;

  constructor(
    private readonly policy: HeartbeatPolicy,
    awakeNow: number,
    wallNow: number,
  ) {
    this.nextSendAwake = awakeNow + policy.intervalMs;
    this.lastAnswerWall = wallNow;
  }

  poll(awakeNow: number, wallNow: number, output: OutputProgress = IDLE_OUTPUT): HeartbeatAction | null {
    if (output.taken > this.lastTaken) {
      for (const hb of this.pending.values()) {
        if (hb.offset > this.lastTaken) hb.clockFrom = awakeNow;
      }
      this.lastTaken = output.taken;
    }
    const oldest = this.pending.values().next();
    if (!oldest.done && awakeNow - oldest.value.clockFrom >= this.policy.timeoutMs) {
      return { kind: 'timeout', silentForMs: wallNow - this.lastAnswerWall };
    }
    if (awakeNow >= this.nextSendAwake) {
      this.seq++;
      this.pending.set(this.seq, { offset: output.accepted, clockFrom: awakeNow });
      // Keep the schedule: a late tick does not push every later heartbeat back.
      this.nextSendAwake = Math.max(this.nextSendAwake + this.policy.intervalMs, awakeNow + 1);
      return { kind: 'send', seq: this.seq, ts: wallNow };
    }
    return null;
  }

  /** Returns the RTT in ms for a valid answer, or null for an unknown or stale seq. */
  answer(seq: number, echoedTs: number, wallNow: number): number | null {
    if (!this.pending.has(seq)) return null;
    for (const s of this.pending.keys()) {
      if (s > seq) break;
      this.pending.delete(s);
    }
    this.lastAnswerWall = wallNow;
    const rtt = wallNow - echoedTs;
    return rtt >= 0 && rtt < 3_600_000 ? rtt : null;
  }

  get outstanding(): number {
    return this.pending.size;
  }
}
