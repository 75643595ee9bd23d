/**
 * The endpoint's socket on the batched path (common/lftp/native/lftp_batch.c):
 * what the endpoint sends in one turn of the event loop goes to the addon as
 * one batch (sendmmsg, GSO trains, sealed there), and what arrives comes as
 * one buffer per recvmmsg, cut here into its datagrams. IPv4 or IPv6: an
 * address crosses as four 32-bit words (IPv4: the first).
 */
import { constants } from 'node:os';
import { isIPv6 } from 'node:net';
import type { Addon, NativeKey, NativeSocketHandle } from '../native/load.js';

/** Where a datagram came from, or goes to. */
export interface Peer {
  readonly address: string;
  readonly port: number;
}

/** One datagram to send: its parts, where to (a connected socket's go to its server), and its key when the addon seals it. */
export interface OutDatagram {
  parts: Buffer[];
  to?: Peer | undefined;
  /** Seal with this key: the last part is the plaintext, the others the clear header (and prefix). */
  key?: NativeKey | undefined;
  /** A size probe (DPLPMTUD): sent alone with the don't-fragment bit, dropped if the socket cannot take it now. */
  probe?: boolean | undefined;
}

/** Words per datagram sent: parts | flags, port, key, address (4); and received: offset, length, port, address (4). */
const META_WORDS = 7;
const RX_META_WORDS = 7;
const PROBE_FLAG = 0x100;
/** Peers remembered by address and port (a Peer object per datagram costs more than the datagram's bookkeeping). */
const MAX_PEERS = 4096;

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** An error as Node's sockets give it: code, errno, syscall. */
export function socketError(errno: number, syscall: string, detail: string): NodeJS.ErrnoException {
  const code = errnoNames.get(errno) ?? `E${errno}`;
  return Object.assign(new Error(`${syscall} ${code} ${detail}`.trim()), { code, errno: -errno, syscall });
}

function ipv4(address: string): number {
  const [a, b, c, d] = address.split('.').map(Number);
  return ((a! << 24) | (b! << 16) | (c! << 8) | d!) >>> 0;
}

/** A literal address as the addon's four words: IPv4 in the first; IPv6 (an embedded IPv4 tail too) in all four. */
export function addressWords(address: string): Uint32Array {
  const w = new Uint32Array(4);
  if (!isIPv6(address)) {
    w[0] = ipv4(address);
    return w;
  }
  let text = address.replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = ipv4(v4[1]!);
    text = `${text.slice(0, -v4[1]!.length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right].map((g) =>
    parseInt(g, 16),
  );
  for (let i = 0; i < 4; i++) w[i] = ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0;
  return w;
}

/** The addon's four words as the text Node's dgram gives (RFC 5952: the longest run of zero groups as ::). */
export function wordsAddress(family: 4 | 6, w0: number, w1: number, w2: number, w3: number): string {
  const dotted = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  if (family === 4) return dotted(w0);
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return `::ffff:${dotted(w3)}`;
  const groups = [w0, w1, w2, w3].flatMap((w) => [w >>> 16, w & 0xffff]);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export class NativeSocket {
  private readonly handle: NativeSocketHandle;
  private queue: OutDatagram[] = [];
  private flushQueued = false;
  private closed = false;
  private meta = new Uint32Array(256 * META_WORDS);
  private readonly peers = new Map<number | string, Peer>();
  private readonly addresses = new Map<string, Uint32Array>();

  constructor(
    private readonly addon: Addon,
    reusePort: boolean,
    bufferBytes: number,
    private readonly onMessage: (buf: Buffer, from: Peer) => void,
    private readonly onError: (err: NodeJS.ErrnoException) => void,
    private readonly family: 4 | 6 = 4,
  ) {
    this.handle = addon.socketOpen(
      bufferBytes,
      reusePort,
      (buf, count, meta) => this.received(buf, count, meta),
      (errno, message) => this.onError(socketError(errno, 'recvmmsg', message)),
      family,
    );
  }

  /** Binds (server) or connects (client) to a literal address of the socket's family; it reads from then on. */
  open(how: 'bind' | 'connect', address: string, port: number): void {
    try {
      if (how === 'bind') this.addon.socketBind(this.handle, address, port);
      else this.addon.socketConnect(this.handle, address, port);
    } catch (err) {
      this.close();
      const errno = (err as { errno?: number }).errno;
      throw errno ? socketError(errno, how, `${address}:${port}`) : err;
    }
  }

  get port(): number {
    return this.addon.socketPort(this.handle);
  }

  get offloads(): { gso: boolean; gro: boolean; df?: boolean } {
    return this.addon.features(this.handle);
  }

  /** Nothing queued here or in the addon: buffers handed to send() are free again. */
  get sendQueueEmpty(): boolean {
    return this.queue.length === 0 && this.addon.socketPending(this.handle) === 0;
  }

  /** Queues a datagram; the turn's datagrams leave together once the current callback has run. */
  send(d: OutDatagram): void {
    if (this.closed) return;
    this.queue.push(d);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.flushQueued = false;
    const batch = this.queue;
    this.queue = [];
    if (this.closed || batch.length === 0) return;
    if (this.meta.length < batch.length * META_WORDS) this.meta = new Uint32Array(batch.length * 2 * META_WORDS);
    const meta = this.meta;
    const parts: Buffer[] = [];
    const keys: NativeKey[] = [];
    for (let i = 0; i < batch.length; i++) {
      const d = batch[i]!;
      const m = i * META_WORDS;
      for (const p of d.parts) parts.push(p);
      meta[m] = d.parts.length | (d.probe ? PROBE_FLAG : 0);
      meta[m + 1] = d.to ? d.to.port : 0;
      let k = 0;
      if (d.key) {
        k = keys.indexOf(d.key) + 1;
        if (k === 0) k = keys.push(d.key);
      }
      meta[m + 2] = k;
      if (d.to) meta.set(this.addressOf(d.to.address), m + 3);
    }
    const errno = this.addon.socketSend(this.handle, parts, meta, batch.length, keys);
    // A lost datagram is the protocol's to resend; the error is reported as dgram reports a failed send.
    if (errno !== 0) this.onError(socketError(errno, 'sendmmsg', ''));
  }

  private addressOf(address: string): Uint32Array {
    let w = this.addresses.get(address);
    if (w === undefined) {
      if (this.addresses.size >= MAX_PEERS) this.addresses.clear();
      // An IPv4 peer of a socket bound to "::" is addressed as ::ffff:a.b.c.d, as dgram's udp6 does.
      w = addressWords(this.family === 6 && !isIPv6(address) ? `::ffff:${address}` : address);
      this.addresses.set(address, w);
    }
    return w;
  }

  private received(buf: Buffer, count: number, meta: Uint32Array): void {
    for (let i = 0; i < count && !this.closed; i++) {
      const m = i * RX_META_WORDS;
      const offset = meta[m]!;
      this.onMessage(buf.subarray(offset, offset + meta[m + 1]!), this.peer(meta, m + 2));
    }
  }

  /** The peer at meta[at] (port, then the address's four words), one object per peer. */
  private peer(meta: Uint32Array, at: number): Peer {
    const port = meta[at]!;
    const w0 = meta[at + 1]!;
    // Per datagram: an IPv4 peer's key is a number (no string made); an IPv6 one's the words joined.
    const id = this.family === 4 ? w0 * 65536 + port : `${w0}.${meta[at + 2]}.${meta[at + 3]}.${meta[at + 4]}:${port}`;
    let p = this.peers.get(id);
    if (!p) {
      if (this.peers.size >= MAX_PEERS) this.peers.clear();
      p = { address: wordsAddress(this.family, w0, meta[at + 2]!, meta[at + 3]!, meta[at + 4]!), port };
      this.peers.set(id, p);
    }
    return p;
  }

  /** What this turn queued still leaves (a last ACK or FIN before the close), then the socket closes. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.addon.socketClose(this.handle);
  }
}
