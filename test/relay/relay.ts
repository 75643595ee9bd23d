/**
 * A UDP fault relay: sits between LFTP clients and a server and, with a seeded
 * random generator, drops, duplicates, reorders, delays and corrupts datagrams,
 * separately per direction, optionally through a bandwidth-limited link with a
 * bounded queue. The kernel's netem is not available on these machines; this
 * is the stand-in, usable from tests (startRelay) and by hand (relay-cli.ts).
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';

export interface Impairment {
  /** Probability a datagram is dropped. */
  loss: number;
  /** Probability a datagram is sent twice. */
  duplicate: number;
  /** Probability a datagram is held back by reorderDelayMs (so later ones overtake it). */
  reorder: number;
  reorderDelayMs: number;
  /** Probability one random bit of the datagram is flipped. */
  corrupt: number;
  /** One-way delay. */
  delayMs: number;
  /** Uniform extra delay in [0, jitterMs). Jitter reorders too. */
  jitterMs: number;
  /** Link rate in bytes per second (0 = unlimited). */
  rateBps: number;
  /** Datagrams waiting for the link; more are dropped at the tail (0 = unlimited). */
  queueLimit: number;
  /**
   * The link's MTU: a datagram whose IPv4 packet (its bytes + 28) is bigger is dropped, as a router drops a
   * packet with the don't-fragment bit that does not fit its next link (0 = none: whatever UDP carries).
   */
  mtu: number;
}

export const NO_IMPAIRMENT: Impairment = {
  loss: 0,
  duplicate: 0,
  reorder: 0,
  reorderDelayMs: 10,
  corrupt: 0,
  delayMs: 0,
  jitterMs: 0,
  rateBps: 0,
  queueLimit: 0,
  mtu: 0,
};

export interface RelayOptions {
  listenHost: string;
  listenPort: number;
  targetHost: string;
  targetPort: number;
  seed: number;
  /** client → server */
  up: Impairment;
  /** server → client */
  down: Impairment;
  /** Forget a client after this much silence. */
  idleMs?: number;
  /**
   * Follow the server's source port: TFTP servers answer from a new port (the
   * transfer ID) and expect the rest of the transfer there. Off: the upstream
   * socket is connected to the target and hears only it.
   */
  followServerPort?: boolean;
  /**
   * The address the relay's upstream sockets send from (any 127.x.y.z is this machine): the server then sees
   * each relay as a client on another machine. Default: the kernel's choice.
   */
  sourceHost?: string;
  /** A test's own rule: true drops this datagram (up: client → server), before the impairments and counters. */
  cut?: (direction: 'up' | 'down', datagram: Buffer) => boolean;
}

export interface DirectionStats {
  received: number;
  forwarded: number;
  dropped: number;
  queueDropped: number;
  /** Dropped for being bigger than the MTU. */
  tooBig: number;
  duplicated: number;
  reordered: number;
  corrupted: number;
  bytes: number;
}

/** Everything the relay received one way has left it: forwarded or dropped (a duplicate counts twice). */
export function drained(d: DirectionStats): boolean {
  return d.forwarded + d.dropped + d.queueDropped + d.tooBig - d.duplicated === d.received;
}

/**
 * The most bytes a resumed transfer may put through the relay: the missing part with a packet's overhead
 * (header, number and tag, with room to spare) on each payload, and `extra` whole packets more (a window,
 * control packets). Bytes, not datagrams: where the path takes big datagrams both ends pack many packets in one.
 */
export function resumedBytesBound(missing: number, mss: number, extra: number): number {
  const overhead = 64;
  return missing * (1 + overhead / mss) + extra * (mss + overhead);
}

function emptyStats(): DirectionStats {
  return {
    received: 0,
    forwarded: 0,
    dropped: 0,
    queueDropped: 0,
    tooBig: 0,
    duplicated: 0,
    reordered: 0,
    corrupted: 0,
    bytes: 0,
  };
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Datagrams waiting for their departure time, in one binary heap with one
 * timer: a timer per datagram would make the relay, not the protocol under
 * test, the bottleneck.
 */
class DepartureQueue {
  private readonly heap: Array<{ at: number; seq: number; run: () => void }> = [];
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  closed = false;

  add(at: number, run: () => void): void {
    const h = this.heap;
    h.push({ at, seq: this.seq++, run });
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (this.less(h[i]!, h[p]!)) {
        [h[i], h[p]] = [h[p]!, h[i]!];
        i = p;
      } else break;
    }
    this.arm();
  }

  private less(a: { at: number; seq: number }, b: { at: number; seq: number }): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private pop(): { at: number; run: () => void } {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }

  private arm(): void {
    if (this.closed || this.heap.length === 0) return;
    const at = this.heap[0]!.at;
    if (this.timer && at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - performance.now()));
  }

  private fire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const now = performance.now();
    // setTimeout has millisecond granularity: send everything due within the next half millisecond.
    while (!this.closed && this.heap.length > 0 && this.heap[0]!.at <= now + 0.5) this.pop().run();
    this.arm();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.heap.length = 0;
  }
}

class Direction {
  readonly stats = emptyStats();
  private linkFreeAt = 0;
  private waiting = 0;
  readonly queue = new DepartureQueue();

  constructor(
    private readonly imp: Impairment,
    private readonly rnd: () => number,
  ) {}

  /** Decides the fate of one datagram; calls emit for each copy to deliver, at the right time. */
  handle(data: Buffer, emit: (buf: Buffer) => void): void {
    const s = this.stats;
    s.received++;
    const imp = this.imp;
    if (imp.mtu > 0 && data.length + 28 > imp.mtu) {
      s.tooBig++;
      return;
    }
    if (imp.loss > 0 && this.rnd() < imp.loss) {
      s.dropped++;
      return;
    }
    const copies = imp.duplicate > 0 && this.rnd() < imp.duplicate ? 2 : 1;
    if (copies === 2) s.duplicated++;
    for (let c = 0; c < copies; c++) {
      let buf = data;
      if (imp.corrupt > 0 && this.rnd() < imp.corrupt) {
        buf = Buffer.from(data);
        const bit = Math.floor(this.rnd() * buf.length * 8);
        buf[bit >> 3]! ^= 1 << (bit & 7);
        s.corrupted++;
      }
      let delay = imp.delayMs + (imp.jitterMs > 0 ? this.rnd() * imp.jitterMs : 0);
      if (imp.reorder > 0 && this.rnd() < imp.reorder) {
        delay += imp.reorderDelayMs;
        s.reordered++;
      }
      if (imp.rateBps > 0) {
        if (imp.queueLimit > 0 && this.waiting >= imp.queueLimit) {
          s.queueDropped++;
          continue;
        }
        const now = performance.now();
        const start = Math.max(now, this.linkFreeAt);
        this.linkFreeAt = start + (buf.length * 1000) / imp.rateBps;
        delay += this.linkFreeAt - now;
        this.waiting++;
        const out = buf;
        this.queue.add(now + delay, () => {
          this.waiting--;
          this.deliver(out, emit);
        });
      } else if (delay >= 0.5) {
        const out = buf;
        this.queue.add(performance.now() + delay, () => this.deliver(out, emit));
      } else {
        this.deliver(buf, emit);
      }
    }
  }

  private deliver(buf: Buffer, emit: (buf: Buffer) => void): void {
    this.stats.forwarded++;
    this.stats.bytes += buf.length;
    emit(buf);
  }
}

interface Peer {
  upstream: dgram.Socket;
  lastSeen: number;
  /** Bytes forwarded for this client, each way (what each flow got through a shared, rate-limited link). */
  upBytes: number;
  downBytes: number;
  /** Where client datagrams go: the target, or the port the server last answered from. */
  serverPort: number;
}

export interface ClientBytes {
  /** The client's address and port as the relay saw it. */
  client: string;
  up: number;
  down: number;
}

export interface Relay {
  port: number;
  stats: { up: DirectionStats; down: DirectionStats; clients: number };
  /** Bytes forwarded for each client the relay has seen (forgotten clients included), each way. */
  perClient(): ClientBytes[];
  close(): Promise<void>;
}

export async function startRelay(o: RelayOptions): Promise<Relay> {
  const rnd = seededRandom(o.seed);
  const up = new Direction(o.up, rnd);
  const down = new Direction(o.down, rnd);
  const family = isIPv6(o.listenHost) ? 'udp6' : 'udp4';
  const front = dgram.createSocket({ type: family, recvBufferSize: 8 << 20, sendBufferSize: 8 << 20 });
  const peers = new Map<string, Peer>();
  /** Every client seen, for perClient() (peers forgets idle ones). */
  const counted = new Map<string, Peer>();
  const idleMs = o.idleMs ?? 60_000;
  let closed = false;
  // Datagrams still held in a delay timer when the relay closes are dropped, not sent on closed sockets.
  const safeSend = (sock: dgram.Socket, buf: Buffer, port?: number, address?: string) => {
    if (closed) return;
    try {
      if (port !== undefined) sock.send(buf, port, address);
      else sock.send(buf);
    } catch {
      // socket closed or not yet connected: the datagram is lost, as on a real network
    }
  };

  const peerFor = (address: string, port: number): Peer => {
    const key = `${address}|${port}`;
    let peer = peers.get(key);
    if (!peer) {
      const upstream = dgram.createSocket({
        type: isIPv6(o.targetHost) ? 'udp6' : 'udp4',
        recvBufferSize: 8 << 20,
        sendBufferSize: 8 << 20,
      });
      const created: Peer = { upstream, lastSeen: Date.now(), serverPort: o.targetPort, upBytes: 0, downBytes: 0 };
      counted.set(key, created);
      upstream.on('message', (msg, from) => {
        if (o.followServerPort) created.serverPort = from.port;
        if (o.cut?.('down', msg)) return;
        down.handle(msg, (buf) => {
          created.downBytes += buf.length;
          safeSend(front, buf, port, address);
        });
      });
      upstream.on('error', () => undefined);
      if (o.sourceHost !== undefined) upstream.bind(0, o.sourceHost);
      if (!o.followServerPort) upstream.connect(o.targetPort, o.targetHost);
      peer = created;
      peers.set(key, peer);
    }
    peer.lastSeen = Date.now();
    return peer;
  };

  front.on('message', (msg, rinfo) => {
    const peer = peerFor(rinfo.address, rinfo.port);
    if (o.cut?.('up', msg)) return;
    up.handle(msg, (buf) => {
      if (closed) return;
      peer.upBytes += buf.length;
      if (o.followServerPort) {
        safeSend(peer.upstream, buf, peer.serverPort, o.targetHost);
        return;
      }
      try {
        peer.upstream.send(buf);
      } catch {
        // not connected yet: the first datagrams wait for connect()
        peer.upstream.once('connect', () => safeSend(peer.upstream, buf));
      }
    });
  });

  const sweeper = setInterval(
    () => {
      const now = Date.now();
      for (const [key, peer] of peers) {
        if (now - peer.lastSeen > idleMs) {
          peer.upstream.close();
          peers.delete(key);
        }
      }
    },
    Math.min(idleMs, 5000),
  );
  sweeper.unref();

  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.bind(o.listenPort, o.listenHost, () => {
      front.off('error', reject);
      resolve();
    });
  });

  return {
    port: front.address().port,
    get stats() {
      return { up: up.stats, down: down.stats, clients: peers.size };
    },
    perClient() {
      return [...counted].map(([client, p]) => ({ client, up: p.upBytes, down: p.downBytes }));
    },
    async close() {
      closed = true;
      up.queue.close();
      down.queue.close();
      clearInterval(sweeper);
      for (const p of peers.values()) p.upstream.close();
      peers.clear();
      await new Promise<void>((r) => front.close(() => r()));
    },
  };
}

export function describeStats(name: string, s: DirectionStats): string {
  return (
    `${name}: ${s.received} in, ${s.forwarded} out, ${s.dropped} dropped, ${s.queueDropped} queue-dropped, ${s.tooBig} too big, ` +
    `${s.duplicated} duplicated, ${s.reordered} reordered, ${s.corrupted} corrupted`
  );
}
