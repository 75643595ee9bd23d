/**
 * A fake network for LFTP's congestion control on a fake clock: several
 * transfers (each a get: the server's connection sends the data) share one
 * bottleneck in the data direction, a link of `rate` packets per ms with a
 * drop-tail queue of `queue` packets, after a random loss of `loss`; every
 * packet is delayed `delayMs` each way. ACKs go back with the delay only.
 * Events run from one heap; connections are flushed once per instant, as the
 * edge flushes once per event-loop turn. No sockets, no timers: every run is
 * exact and repeatable. fake-link.ts is the two-connection version with
 * drop, delay and duplicate hooks.
 */
import { createHash, type Hash } from 'node:crypto';
import { LftpConnection, type ConnectionOptions, type SizedSink } from '../../common/lftp/engine/connection.js';
import type { CongestionName } from '../../common/lftp/engine/congestion.js';
import { HEADER_BYTES, type Packet } from '../../common/lftp/engine/packet.js';
import { MemorySource } from './fake-link.js';
import { seededRandom } from '../relay/relay.js';

export interface PathSpec {
  /** Bottleneck rate, packets per ms (data direction); Infinity: none. */
  rate: number;
  /** Packets that may wait for the bottleneck; more are dropped. */
  queue: number;
  delayMs: number;
  /** Random loss in the data direction, before the queue. */
  loss: number;
  /** Random loss of ACKs. */
  ackLoss?: number;
  /** Extra delay up to this, uniform, each way, order kept (a user-space relay's timers). */
  jitterMs?: number;
  seed: number;
}

export interface FlowSpec {
  congestion: CongestionName;
  packets: number;
  startAt?: number;
}

/** Counts and hashes what arrives, keeping nothing. */
class CountingSink implements SizedSink {
  backlogPackets = 0;
  packets = 0;
  private readonly hash: Hash = createHash('sha256');
  setExpectedSize(): void {}
  push(_i: number, data: Buffer): void {
    this.packets++;
    this.hash.update(data);
  }
  digest(): Buffer {
    return this.hash.digest();
  }
}

interface Ev {
  at: number;
  seq: number;
  run: () => void;
}

export class Flow {
  client!: LftpConnection;
  server!: LftpConnection;
  readonly sink = new CountingSink();
  readonly source: MemorySource;
  /** [time, packets delivered in order] every SAMPLE_MS. */
  readonly samples: Array<[number, number]> = [];
  accepted = false;
  doneAt: number | null = null;
  /** When the server's handshake ended (a lost handshake packet costs the initial RTO, not the controller). */
  establishedAt: number | null = null;
  verified: boolean | null = null;
  constructor(
    readonly spec: FlowSpec,
    readonly mss: number,
    seed: number,
  ) {
    const rnd = seededRandom(seed);
    const data = Buffer.alloc(spec.packets * mss);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(Math.floor(rnd() * 2 ** 32), i);
    this.source = new MemorySource(data, mss);
  }
  /** Packets delivered in order between two sample times. */
  deliveredBetween(t0: number, t1: number): number {
    const at = (t: number) => {
      let v = 0;
      for (const [ts, n] of this.samples) if (ts <= t) v = n;
      return v;
    };
    return at(t1) - at(t0);
  }
}

const SAMPLE_MS = 50;

export class FakeNetwork {
  now = 0;
  readonly flows: Flow[] = [];
  private readonly heap: Ev[] = [];
  private seq = 0;
  private readonly rnd: () => number;
  private linkFreeAt = 0;
  private readonly departures: number[] = [];
  private touched = new Set<LftpConnection>();
  /** The latest arrival scheduled each way: jitter delays, never reorders. */
  private lastArrival = { toServer: 0, toClient: 0 };
  readonly stats = { sent: 0, randomDrops: 0, queueDrops: 0, ackDrops: 0 };

  constructor(
    readonly path: PathSpec,
    specs: FlowSpec[],
    readonly mss = 100,
  ) {
    this.rnd = seededRandom(path.seed);
    specs.forEach((spec, k) => this.flows.push(this.makeFlow(spec, k)));
  }

  private makeFlow(spec: FlowSpec, k: number): Flow {
    const flow = new Flow(spec, this.mss, this.path.seed * 100 + k);
    const common = {
      receiveCapacity: 2048,
      maxWindow: 2048,
      idleTimeoutMs: 30_000,
      handshakeTries: 16,
      closeTries: 16,
      congestion: spec.congestion,
      random: seededRandom(this.path.seed * 1000 + k),
    };
    const request = { op: 'get' as const, name: `f${k}`, mss: this.mss };
    const clientOpts: ConnectionOptions = { ...common, side: 'client', conn: 100 + k, isn: 1000 * (k + 1), request };
    const serverOpts: ConnectionOptions = { ...common, side: 'server', conn: 100 + k, isn: 50_000 * (k + 1), request };
    flow.client = new LftpConnection(
      clientOpts,
      {
        send: (p) => this.toServer(flow, p),
        event: () => undefined,
        finishSink: (exp) => {
          flow.verified = exp.sha256.equals(flow.sink.digest()) && flow.sink.packets === spec.packets;
          this.at(this.now + 1, () => {
            flow.client.sinkFinished(this.now, { ok: true, size: exp.size, sha256: exp.sha256.toString('hex') });
            flow.doneAt = this.now;
            this.touched.add(flow.client);
          });
        },
      },
      0,
    );
    flow.server = new LftpConnection(
      serverOpts,
      {
        send: (p) => this.toClient(flow, p),
        event: (e) => {
          if (e.type === 'established') flow.establishedAt = this.now;
        },
      },
      0,
    );
    flow.server.attachSource(flow.source);
    flow.client.attachSink(flow.sink);
    this.at(spec.startAt ?? 0, () => {
      flow.client.open(this.now);
      this.touched.add(flow.client);
    });
    return flow;
  }

  at(t: number, run: () => void): void {
    const h = this.heap;
    h.push({ at: t, seq: this.seq++, run });
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (h[p]!.at < h[i]!.at || (h[p]!.at === h[i]!.at && h[p]!.seq < h[i]!.seq)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Ev {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        const less = (a: Ev, b: Ev) => a.at < b.at || (a.at === b.at && a.seq < b.seq);
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }

  private copy(p: Packet): Packet {
    return { ...p, payload: Buffer.from(p.payload) };
  }

  private toServer(flow: Flow, p: Packet): void {
    if ((this.path.ackLoss ?? 0) > 0 && this.rnd() < this.path.ackLoss!) {
      this.stats.ackDrops++;
      return;
    }
    const q = this.copy(p);
    this.at(this.arrival('toServer', this.now), () => {
      if (!flow.accepted && q.flags & 0x01) {
        flow.accepted = true;
        flow.server.accept(this.now, q.seq, flow.source.size, this.mss, HEADER_BYTES + q.payload.length);
      } else flow.server.onPacket(q, this.now);
      this.touched.add(flow.server);
    });
  }

  private toClient(flow: Flow, p: Packet): void {
    this.stats.sent++;
    if (this.path.loss > 0 && this.rnd() < this.path.loss) {
      this.stats.randomDrops++;
      return;
    }
    const q = this.copy(p);
    let at = this.now;
    if (Number.isFinite(this.path.rate)) {
      while (this.departures.length > 0 && this.departures[0]! <= this.now) this.departures.shift();
      if (this.departures.length >= this.path.queue) {
        this.stats.queueDrops++;
        return;
      }
      this.linkFreeAt = Math.max(this.now, this.linkFreeAt) + 1 / this.path.rate;
      this.departures.push(this.linkFreeAt);
      at = this.linkFreeAt;
    }
    this.at(this.arrival('toClient', at), () => {
      flow.client.onPacket(q, this.now);
      this.touched.add(flow.client);
    });
  }

  private arrival(way: 'toServer' | 'toClient', sent: number): number {
    const jitter = this.path.jitterMs ? this.rnd() * this.path.jitterMs : 0;
    const t = Math.max(this.lastArrival[way], sent + this.path.delayMs + jitter);
    this.lastArrival[way] = t;
    return t;
  }

  /** Runs until every flow is done or `untilMs` of fake time passes. */
  run(untilMs: number): void {
    let nextSample = 0;
    const conns = this.flows.flatMap((f) => [f.client, f.server]);
    while (this.now <= untilMs) {
      if (this.flows.every((f) => f.client.finished && f.server.finished)) break;
      let timer = Infinity;
      for (const c of conns) {
        const d = c.nextDeadline();
        if (d !== null && d < timer) timer = d;
      }
      const ev = this.heap[0]?.at ?? Infinity;
      const t = Math.min(timer, ev, nextSample);
      if (!Number.isFinite(t)) break;
      this.now = Math.max(this.now, t);
      if (this.now >= nextSample) {
        for (const f of this.flows) f.samples.push([this.now, f.sink.packets]);
        nextSample += SAMPLE_MS;
      }
      while (this.heap.length > 0 && this.heap[0]!.at <= this.now) this.pop().run();
      for (const c of this.touched) c.flush(this.now);
      this.touched.clear();
      for (const c of conns) {
        const d = c.nextDeadline();
        if (d !== null && d <= this.now) c.tick(this.now);
      }
    }
  }
}

/**
 * One BBR get of `packets` over `path` (run until `until` ms): the flow, to check it arrived, and its time from the
 * handshake's end (a lost handshake packet costs the initial RTO, which is the handshake's, not the controller's).
 */
export function soloTransfer(path: PathSpec, packets: number, until: number): { flow: Flow; ms: number } {
  const net = new FakeNetwork(path, [{ congestion: 'bbr', packets }]);
  net.run(until);
  const flow = net.flows[0]!;
  return { flow, ms: flow.doneAt! - flow.establishedAt! };
}

/** Jain's fairness index of shares x: (Σx)² / (n Σx²), 1 when all are equal, 1/n when one has everything. */
export function jain(x: number[]): number {
  const sum = x.reduce((a, b) => a + b, 0);
  const sq = x.reduce((a, b) => a + b * b, 0);
  return sq === 0 ? 1 : (sum * sum) / (x.length * sq);
}
