/**
 * chat-server --qlog DIR: one file per chat connection, in the same qlog
 * shape as LFTP's traces (common/lftp/node/qlog.ts): every frame in and out
 * with its type and size, each heartbeat with its RTT when answered, and the
 * drop decision with the numbers it used (the timeout, how long since the
 * last answer, how much of that the server itself was stalled and did not
 * count). It wraps the connection's transport, so the connection does not
 * know it is traced. `chat-client trace report` draws the heartbeat timeline.
 * Each record is written at once (a write per frame): a worker that ends,
 * or is killed, leaves its sessions' traces whole up to that moment.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { RawFrame } from '../../common/frame.js';
import { FrameType } from '../../common/messages.js';
import type { ChatTransport, TransportEvents } from './transport.js';
import type { ConnectionHost } from './session-host.js';

const NAMES = new Map<number, string>(Object.entries(FrameType).map(([k, v]) => [v, k]));
const RS = '\x1e';

class SessionTrace {
  private readonly fd: number;
  private readonly t0 = performance.now();
  private readonly stallAtStart: number;
  /** Heartbeats sent and not answered yet: seq → wall time sent. */
  private readonly unanswered = new Map<number, number>();
  private lastAnswerWall: number;
  private closed = false;

  constructor(
    dir: string,
    t: ChatTransport,
    private readonly host: ConnectionHost,
  ) {
    mkdirSync(dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    this.fd = openSync(
      join(dir, `${stamp}-session-${t.remoteAddress.replace(/[^0-9a-fA-F.]/g, '_')}-${t.remotePort}.sqlog`),
      'wx',
    );
    this.stallAtStart = host.clock.wallNow() - host.clock.awakeNow();
    this.lastAnswerWall = host.clock.wallNow();
    const { intervalMs, timeoutMs } = host.limits;
    this.record({
      qlog_version: '0.4',
      qlog_format: 'JSON-SEQ',
      title: `chat session from ${t.remoteAddress}:${t.remotePort} (${t.kind})`,
      trace: {
        vantage_point: { type: 'server', name: `chat-server worker ${host.workerIndex}` },
        common_fields: {
          protocol_types: ['chat'],
          group_id: `${t.remoteAddress}:${t.remotePort}`,
          time_format: 'relative',
          // The wall-clock moment of t0 itself, to the microsecond: Date.now() read later (after the file was
          // opened) put a client's and a server's trace milliseconds apart on the one machine.
          reference_time: performance.timeOrigin + this.t0,
        },
        configuration: { heartbeat_interval_ms: intervalMs, heartbeat_timeout_ms: timeoutMs },
      },
    });
  }

  frameIn(f: RawFrame): void {
    const name = NAMES.get(f.type) ?? `0x${f.type.toString(16)}`;
    const body = name === 'HELLO' || name === 'HEARTBEAT_ACK' ? parse(f.body) : null;
    this.event('chat:frame_received', {
      type: name,
      length: f.body.length,
      ...(name === 'HELLO' && body ? { nick: body['nick'], version: body['version'] } : {}),
    });
    if (name === 'HEARTBEAT_ACK' && body && typeof body['seq'] === 'number') {
      const sentAt = this.unanswered.get(body['seq']);
      if (sentAt === undefined) return;
      const now = this.host.clock.wallNow();
      for (const s of [...this.unanswered.keys()]) if (s <= body['seq']) this.unanswered.delete(s);
      this.lastAnswerWall = now;
      this.event('chat:heartbeat_answered', { seq: body['seq'], rtt_ms: Math.round((now - sentAt) * 1000) / 1000 });
    }
  }

  frameOut(frame: Buffer): void {
    const name = NAMES.get(frame[4] ?? 0) ?? `0x${(frame[4] ?? 0).toString(16)}`;
    const body = name === 'HEARTBEAT' || name === 'WELCOME' || name === 'BYE' ? parse(frame.subarray(5)) : null;
    this.event('chat:frame_sent', {
      type: name,
      length: frame.length - 5,
      ...(name === 'WELCOME' && body ? { nick: body['nick'], session: body['session'] } : {}),
    });
    if (name === 'HEARTBEAT' && body && typeof body['seq'] === 'number') {
      this.unanswered.set(body['seq'], this.host.clock.wallNow());
      this.event('chat:heartbeat_sent', { seq: body['seq'], deadline_ms: this.host.limits.timeoutMs });
    }
    if (name === 'BYE' && body && body['reason'] === 'heartbeat timeout') this.dropped();
  }

  /** The numbers the drop was decided with (server/chat/heartbeat.ts judges the deadline in awake time). */
  private dropped(): void {
    const wall = this.host.clock.wallNow();
    const oldest = [...this.unanswered.entries()][0];
    const stalled = wall - this.host.clock.awakeNow() - this.stallAtStart;
    this.event('chat:heartbeat_timeout', {
      timeout_ms: this.host.limits.timeoutMs,
      last_answer_ms_ago: Math.round(wall - this.lastAnswerWall),
      oldest_unanswered: oldest ? { seq: oldest[0], sent_ms_ago: Math.round(wall - oldest[1]) } : null,
      unanswered: this.unanswered.size,
      server_stall_ms: Math.round(stalled),
    });
  }

  ended(how: string): void {
    if (this.closed) return;
    this.closed = true;
    this.event('chat:connection_closed', { how });
    closeSync(this.fd);
  }

  private event(name: string, data: Record<string, unknown>): void {
    this.record({ time: Math.round((performance.now() - this.t0) * 1000) / 1000, name, data });
  }

  private record(r: unknown): void {
    if (!this.closed || (r as { name?: string }).name === 'chat:connection_closed')
      writeSync(this.fd, `${RS}${JSON.stringify(r)}\n`);
  }
}

function parse(body: Buffer): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The transport, its frames and their timing written to a session trace as they pass. */
export function tracedTransport(t: ChatTransport, dir: string, host: ConnectionHost): ChatTransport {
  const trace = new SessionTrace(dir, t, host);
  return {
    get kind() {
      return t.kind;
    },
    get remoteAddress() {
      return t.remoteAddress;
    },
    get remotePort() {
      return t.remotePort;
    },
    get destroyed() {
      return t.destroyed;
    },
    get queuedBytes() {
      return t.queuedBytes;
    },
    get output() {
      return t.output;
    },
    get rawSocket() {
      return t.rawSocket;
    },
    start(events: TransportEvents) {
      t.start({
        ...events,
        frames: (frames, wireBytes) => {
          for (const f of frames) trace.frameIn(f);
          events.frames(frames, wireBytes);
        },
        ended: () => {
          trace.ended('the client closed its side');
          events.ended();
        },
        closed: (detail) => {
          trace.ended(detail);
          events.closed(detail);
        },
      });
    },
    write(frame: Buffer) {
      trace.frameOut(frame);
      t.write(frame);
    },
    discardQueued: () => t.discardQueued(),
    end: () => t.end(),
    destroy: () => {
      trace.ended('closed by the server');
      t.destroy();
    },
  };
}
