/**
 * The endpoint's socket on the batched path (common/lftp/native/lftp_batch.c):
 * what the endpoint sends in one turn of the event loop goes to the addon as
 * one batch (sendmmsg, GSO trains, sealed there), and what arrives comes as
 * one buffer per recvmmsg, cut here into its datagrams. IPv4 only: an IPv6
 * endpoint stays on dgram.
 */
import { constants } from 'node:os';
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

const META_WORDS = 4;
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

export class NativeSocket {
  private readonly handle: NativeSocketHandle;
  private queue: OutDatagram[] = [];
  private flushQueued = false;
  private closed = false;
  private meta = new Uint32Array(256 * META_WORDS);
  private readonly peers = new Map<number, Peer>();
  private readonly addresses = new Map<string, number>();

  constructor(
    private readonly addon: Addon,
    reusePort: boolean,
    bufferBytes: number,
    private readonly onMessage: (buf: Buffer, from: Peer) => void,
    private readonly onError: (err: NodeJS.ErrnoException) => void,
  ) {
    this.handle = addon.socketOpen(
      bufferBytes,
      reusePort,
      (buf, count, meta) => this.received(buf, count, meta),
      (errno, message) => this.onError(socketError(errno, 'recvmmsg', message)),
    );
  }

  /** Binds (server) or connects (client) to a literal IPv4 address; the socket reads from then on. */
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
      meta[m + 1] = d.to ? this.addressOf(d.to.address) : 0;
      meta[m + 2] = d.to ? d.to.port : 0;
      let k = 0;
      if (d.key) {
        k = keys.indexOf(d.key) + 1;
        if (k === 0) k = keys.push(d.key);
      }
      meta[m + 3] = k;
    }
    const errno = this.addon.socketSend(this.handle, parts, meta, batch.length, keys);
    // A lost datagram is the protocol's to resend; the error is reported as dgram reports a failed send.
    if (errno !== 0) this.onError(socketError(errno, 'sendmmsg', ''));
  }

  private addressOf(address: string): number {
    let n = this.addresses.get(address);
    if (n === undefined) {
      if (this.addresses.size >= MAX_PEERS) this.addresses.clear();
      n = ipv4(address);
      this.addresses.set(address, n);
    }
    return n;
  }

  private received(buf: Buffer, count: number, meta: Uint32Array): void {
    for (let i = 0; i < count && !this.closed; i++) {
      const m = i * META_WORDS;
      const offset = meta[m]!;
      this.onMessage(buf.subarray(offset, offset + meta[m + 1]!), this.peer(meta[m + 2]!, meta[m + 3]!));
    }
  }

  private peer(addr: number, port: number): Peer {
    const id = addr * 65536 + port;
    let p = this.peers.get(id);
    if (!p) {
      if (this.peers.size >= MAX_PEERS) this.peers.clear();
      p = { address: `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`, port };
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
