/**
 * An active session's liveness, checked on the worker's tick: its heartbeats
 * and their answers (RTT and last-seen into the session table), its counters
 * into the table, and the ways it stops being this connection's: resumed on
 * another, its replay stopped coming, no answer to heartbeats.
 */
import type { ServerMessage } from '../../common/protocol.js';
import type { SlotCounters, SlotRef } from '../shm/session-table.js';
import { HeartbeatTracker, type OutputProgress } from './heartbeat.js';
import { heartbeatTimeout, replaced, replayStalled, type Farewell } from './farewells.js';
import type { ConnectionHost } from './session-host.js';

/** What the watch does to its connection. */
export interface WatchedConnection {
  send(msg: ServerMessage): void;
  end(farewell: Farewell): void;
}

export class SessionWatch {
  private readonly heartbeat: HeartbeatTracker;

  constructor(
    private readonly host: ConnectionHost,
    private readonly ref: SlotRef,
    /** A resumed session's replay: stalled once the part it waits for does not come. */
    private readonly replay: { stalled(): boolean },
    private readonly resumable: boolean,
    private readonly conn: WatchedConnection,
  ) {
    this.heartbeat = new HeartbeatTracker(host.limits, host.clock.awakeNow(), host.clock.wallNow());
  }

  tick(awakeNow: number, wallNow: number, output: OutputProgress, counters: SlotCounters): void {
    const { host, ref } = this;
    // Resumed on another connection (this one had not noticed it was dead): the session is not ours any more.
    // Or what it missed stopped coming: away again, and the client resumes once more from what it has.
    if (!host.table.isCurrent(ref)) return this.conn.end(replaced());
    if (this.replay.stalled()) return this.conn.end(replayStalled());
    host.table.storeCounters(ref.slot, counters);
    const action = this.heartbeat.poll(awakeNow, wallNow, output);
    if (action?.kind === 'send') this.conn.send({ type: 'HEARTBEAT', seq: action.seq, ts: action.ts });
    else if (action?.kind === 'timeout')
      this.conn.end(heartbeatTimeout(host.limits.timeoutMs, action.silentForMs, this.resumable));
  }

  /** A HEARTBEAT_ACK: its RTT, and the client seen now. */
  answered(seq: number, ts: number): void {
    const now = this.host.clock.wallNow();
    const rtt = this.heartbeat.answer(seq, ts, now);
    this.host.table.setLastSeen(this.ref.slot, now);
    if (rtt !== null) this.host.table.setRtt(this.ref.slot, rtt);
  }
}
