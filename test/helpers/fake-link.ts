/**
 * A fake network and clock for the LFTP state machines: two connections, a
 * queue of packets in flight with a configurable one-way delay, a drop rule,
 * and a loop that delivers packets or jumps the clock to the next deadline.
 * No sockets, no timers: every run is exact and repeatable.
 */
import { createHash } from 'node:crypto';
import {
  LftpConnection,
  type ConnectionOptions,
  type HashedSource,
  type SizedSink,
  type TransferEvent,
} from '../../common/lftp/engine/connection.js';
import { HEADER_BYTES, flagNames, type Packet } from '../../common/lftp/engine/packet.js';
import type { ResumeAnswer } from '../../common/lftp/engine/payloads.js';

export class MemorySource implements HashedSource {
  readonly totalPackets: number;
  released = 0;
  constructor(
    readonly data: Buffer,
    readonly mss: number,
  ) {
    this.totalPackets = Math.ceil(data.length / mss);
  }
  get size(): number {
    return this.data.length;
  }
  ready(i: number): boolean {
    return i < this.totalPackets;
  }
  chunk(i: number): Buffer | null {
    return i < this.totalPackets
      ? this.data.subarray(i * this.mss, Math.min((i + 1) * this.mss, this.data.length))
      : null;
  }
  release(below: number): void {
    this.released = below;
  }
  sha256(): Buffer {
    return createHash('sha256').update(this.data).digest();
  }
}

export class MemorySink implements SizedSink {
  readonly parts: Buffer[] = [];
  backlogPackets = 0;
  expected = -1;
  from = 0;
  setExpectedSize(size: number, _mss: number, from = 0): void {
    this.expected = size;
    this.from = from;
  }
  push(_i: number, data: Buffer): void {
    this.parts.push(Buffer.from(data));
  }
  get data(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export interface Wire {
  at: number;
  from: 'client' | 'server';
  p: Packet;
}

export interface LinkLog {
  from: 'client' | 'server';
  flags: string;
  seq: number;
  ack: number;
  len: number;
  dropped: boolean;
  /** When it was sent (fake ms). */
  at: number;
}

/** Connection options plus the data each side holds, attached by the link as the edges do. */
export type WithData<T> = T & { source?: HashedSource; sink?: SizedSink };

export class FakeLink {
  now = 0;
  readonly inFlight: Wire[] = [];
  readonly log: LinkLog[] = [];
  readonly events: Array<{ side: 'client' | 'server'; e: TransferEvent }> = [];
  client!: LftpConnection;
  server!: LftpConnection;
  /** Return true to drop this packet (n counts packets sent by that side so far, from 0). */
  drop: (from: 'client' | 'server', p: Packet, n: number) => boolean = () => false;
  /** One-way delay for a packet (ms); may vary to reorder. */
  delay: (from: 'client' | 'server', p: Packet) => number = () => 1;
  duplicate: (from: 'client' | 'server', p: Packet) => boolean = () => false;
  /** What the server's SYN-ACK says about resuming (docs/LFTP.md, "Resume"); none by default. */
  serverResume: ResumeAnswer | undefined = undefined;
  private sent = { client: 0, server: 0 };

  constructor(
    clientOpts: WithData<ConnectionOptions>,
    serverOpts: WithData<Omit<ConnectionOptions, 'request'>>,
    readonly serverSize: number,
  ) {
    const send = (from: 'client' | 'server') => (p: Packet) => {
      const dropped = this.drop(from, p, this.sent[from]++);
      const entry = { from, flags: flagNames(p.flags), seq: p.seq, ack: p.ack, len: p.payload.length, dropped };
      this.log.push({ ...entry, at: this.now });
      if (dropped) return;
      const copies = this.duplicate(from, p) ? 2 : 1;
      for (let c = 0; c < copies; c++)
        this.inFlight.push({ at: this.now + this.delay(from, p), from, p: { ...p, payload: Buffer.from(p.payload) } });
    };
    this.client = new LftpConnection(
      clientOpts,
      {
        send: send('client'),
        event: (e) => this.events.push({ side: 'client', e }),
        finishSink: (exp) => this.finish(this.client, clientOpts.sink as MemorySink, exp),
      },
      0,
    );
    // The server's request is the client's, as its SYN says it (the largest datagram it takes among it).
    const dgram = clientOpts.datagram ? { dgram: clientOpts.datagram.largest } : {};
    this.server = new LftpConnection(
      { ...serverOpts, request: { ...clientOpts.request, ...dgram } },
      {
        send: send('server'),
        event: (e) => this.events.push({ side: 'server', e }),
        finishSink: (exp) => this.finish(this.server, serverOpts.sink as MemorySink, exp),
      },
      0,
    );
    for (const [conn, o] of [
      [this.client, clientOpts],
      [this.server, serverOpts],
    ] as const) {
      if (o.source) conn.attachSource(o.source);
      if (o.sink) conn.attachSink(o.sink);
    }
  }

  private finish(conn: LftpConnection, sink: MemorySink, exp: { size: number; sha256: Buffer }): void {
    // Like FileSink.finish: wait for the writer to drain first.
    if (sink.backlogPackets > 0) {
      this.later(this.now + 1, () => this.finish(conn, sink, exp));
      return;
    }
    const data = sink.data;
    const sha = createHash('sha256').update(data).digest();
    // I/O completion arrives a little later, as it would from the file system.
    this.pendingIo.push({
      at: this.now + 1,
      run: () =>
        conn.sinkFinished(
          this.now,
          data.length === exp.size && sha.equals(exp.sha256)
            ? { ok: true, size: data.length, sha256: sha.toString('hex') }
            : { ok: false, code: 'SHA256_MISMATCH', message: 'mismatch' },
        ),
    });
  }
  private readonly pendingIo: Array<{ at: number; run: () => void }> = [];

  /** Runs fn at fake time `at` (an I/O completion). */
  later(at: number, fn: () => void): void {
    this.pendingIo.push({ at, run: fn });
  }

  /** The server side's handling of a SYN: accept the request (the edge would check the file first). */
  private serverSawSyn = false;

  /** Runs until both sides are finished or `limitMs` of fake time passes. */
  run(limitMs = 600_000): void {
    this.client.open(this.now);
    let steps = 0;
    while (this.now <= limitMs && !(this.client.finished && this.server.finished)) {
      if (++steps > 2_000_000)
        throw new Error(
          `fake link: no progress at t=${this.now} (client ${this.client.state}, server ${this.server.state}, deadlines ${this.client.nextDeadline()} ${this.server.nextDeadline()})`,
        );
      this.inFlight.sort((a, b) => a.at - b.at);
      const nextPacket = this.inFlight[0]?.at ?? Infinity;
      const nextIo = Math.min(...this.pendingIo.map((x) => x.at), Infinity);
      const deadlines = [this.client.nextDeadline(), this.server.nextDeadline()].filter((d): d is number => d !== null);
      const nextTimer = Math.min(...deadlines, Infinity);
      const t = Math.min(nextPacket, nextIo, nextTimer);
      if (!Number.isFinite(t)) break;
      this.now = Math.max(this.now, t);
      if (nextIo <= this.now) {
        const due = this.pendingIo.filter((x) => x.at <= this.now);
        for (const x of due) this.pendingIo.splice(this.pendingIo.indexOf(x), 1);
        for (const x of due) x.run();
        continue;
      }
      if (nextPacket <= this.now) {
        // Deliver everything due now as one batch, then flush ACKs once per side (as the edge does).
        const batch = this.inFlight.filter((w) => w.at <= this.now);
        for (const w of batch) this.inFlight.splice(this.inFlight.indexOf(w), 1);
        for (const w of batch) this.deliver(w);
        this.client.flush(this.now);
        this.server.flush(this.now);
        continue;
      }
      this.client.tick(this.now);
      this.server.tick(this.now);
    }
  }

  private deliver(w: Wire): void {
    if (w.from === 'server') {
      this.client.onPacket(w.p, this.now);
      return;
    }
    if (!this.serverSawSyn && w.p.flags & 0x01) {
      this.serverSawSyn = true;
      this.server.accept(
        this.now,
        w.p.seq,
        this.serverSize,
        this.client.opts.request.mss,
        HEADER_BYTES + w.p.payload.length,
        this.serverResume,
      );
      return;
    }
    this.server.onPacket(w.p, this.now);
  }
}

export interface MemoryTransferSpec {
  op: 'get' | 'post';
  data: Buffer;
  mss: number;
  receiveCapacity?: number;
  maxWindow?: number;
  /** Options of one side beyond the common ones (datagram sizes, congestion control, ...). */
  client?: Partial<ConnectionOptions>;
  server?: Partial<ConnectionOptions>;
}

/** A FakeLink that moves `data` from memory to memory: a get from the server's source, a post from the client's. */
export function memoryTransfer(o: MemoryTransferSpec): { link: FakeLink; source: MemorySource; sink: MemorySink } {
  const source = new MemorySource(o.data, o.mss);
  const sink = new MemorySink();
  const common = {
    receiveCapacity: o.receiveCapacity ?? 256,
    maxWindow: o.maxWindow ?? 256,
    idleTimeoutMs: 30_000,
    handshakeTries: 16,
    closeTries: 16,
  };
  const request = { op: o.op, name: 'f', mss: o.mss, ...(o.op === 'post' ? { size: o.data.length } : {}) };
  const link = new FakeLink(
    {
      ...common,
      side: 'client',
      conn: 7,
      isn: 100,
      request,
      ...o.client,
      ...(o.op === 'post' ? { source } : { sink }),
    },
    { ...common, side: 'server', conn: 7, isn: 90_000, ...o.server, ...(o.op === 'get' ? { source } : { sink }) },
    o.data.length,
  );
  return { link, source, sink };
}
