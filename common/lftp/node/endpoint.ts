/**
 * The UDP edge of LFTP, for both sides: one socket, and every datagram that arrives sorted out here, once:
 * sealed (version 2: only its clear header is read, the transfer's protection opens it), plain (version 1,
 * decoded with its CRC checked), or malformed (dropped, said why). A server binds it and answers many
 * peers; a client connects it to its server. A datagram goes out as its parts (header, payload, [tag]),
 * never joined: one at a time, or a batch of them at once.
 *
 * Two paths under one interface (docs/LFTP.md, "Batched datagrams"): the addon's socket, where the addon
 * loaded (what one turn of the event loop sends leaves in one batch, sealed there), IPv4 or IPv6, else Node's
 * dgram, one datagram per call.
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { lookup } from 'node:dns/promises';
import { decodePacket, type Packet } from '../engine/packet.js';
import { readSealedHeader } from '../protect/sealed-packet.js';
import { LFTP_DEFAULTS } from '../defaults.js';
import { nativeAddon, type NativeKey } from '../native/load.js';
import { literalFirstLookup } from './address.js';
import { NativeSocket, type OutDatagram, type Peer } from './native-socket.js';

export type { OutDatagram, Peer } from './native-socket.js';

/** What the endpoint's owner does with what arrives. */
export interface EndpointInput {
  /** A version-2 datagram (not opened): its connection id from the clear header. */
  sealed(buf: Buffer, conn: number, from: Peer): void;
  /** A version-1 datagram whose length and CRC checked. */
  plain(p: Packet, from: Peer): void;
  /** Anything else, and why it was dropped. */
  malformed?(reason: string, bytes: number, from: Peer): void;
  /** A socket error after the endpoint was open (a connected client's ECONNREFUSED: nothing listens there). */
  error(err: NodeJS.ErrnoException): void;
}

export class LftpEndpoint {
  private input: EndpointInput | null = null;
  private readonly native: NativeSocket | null;

  private constructor(
    private readonly socket: dgram.Socket | null,
    private readonly connected: boolean,
    native:
      | ((sort: (buf: Buffer, from: Peer) => void, error: (e: NodeJS.ErrnoException) => void) => NativeSocket)
      | null,
  ) {
    socket?.on('message', (buf, from) => this.sort(buf, from));
    this.native = native
      ? native(
          (buf, from) => this.sort(buf, from),
          (err) => this.input?.error(err),
        )
      : null;
  }

  /** A server's endpoint: bound to host:port (port 0: any), answering every peer. */
  static async bind(o: { host: string; port: number; reusePort?: boolean }): Promise<LftpEndpoint> {
    const reusePort = o.reusePort ?? false;
    const address = await nativeAddress(o.host);
    if (address !== null) {
      const endpoint = LftpEndpoint.overAddon(false, reusePort, address.family);
      endpoint.native!.open('bind', address.address, o.port);
      return endpoint;
    }
    const socket = createSocket(o.host, { reuseAddr: false, reusePort });
    const endpoint = new LftpEndpoint(socket, false, null);
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: o.host, port: o.port }, () => {
        socket.off('error', reject);
        endpoint.routeErrors();
        resolve(endpoint);
      });
    });
  }

  /** A client's endpoint: connected to its server (it hears from no one else). */
  static async connect(host: string, port: number): Promise<LftpEndpoint> {
    const address = await nativeAddress(host);
    if (address !== null) {
      const endpoint = LftpEndpoint.overAddon(true, false, address.family);
      endpoint.native!.open('connect', address.address, port);
      return endpoint;
    }
    const socket = createSocket(host, {});
    const endpoint = new LftpEndpoint(socket, true, null);
    return new Promise((resolve, reject) => {
      socket.once('error', (err) => {
        socket.close();
        reject(err);
      });
      socket.connect(port, host, () => {
        socket.removeAllListeners('error');
        endpoint.routeErrors();
        resolve(endpoint);
      });
    });
  }

  private static overAddon(connected: boolean, reusePort: boolean, family: 4 | 6): LftpEndpoint {
    const addon = nativeAddon()!;
    return new LftpEndpoint(
      null,
      connected,
      (sort, error) => new NativeSocket(addon, reusePort, LFTP_DEFAULTS.socketBufferBytes, sort, error, family),
    );
  }

  /** Which path this endpoint's datagrams take (the addon's batches, or dgram). */
  get path(): 'native' | 'dgram' {
    return this.native ? 'native' : 'dgram';
  }

  /**
   * This endpoint can send a size probe with the don't-fragment bit (the addon's socket): it may probe the path
   * for bigger datagrams (DPLPMTUD). dgram cannot set the bit, and a probe too big for the path would pass as
   * IP fragments and look like a success.
   */
  get dontFragment(): boolean {
    return this.native?.offloads.df === true;
  }

  /** From now on, what arrives goes to input (before this, datagrams are dropped). */
  listen(input: EndpointInput): void {
    this.input = input;
  }

  /** The port bound (a server asked for port 0 learns its port here). */
  get port(): number {
    return this.native ? this.native.port : this.socket!.address().port;
  }

  /** No datagram waits in the socket's send queue: buffers handed to send() are free again. */
  get sendQueueEmpty(): boolean {
    return this.native ? this.native.sendQueueEmpty : this.socket!.getSendQueueCount() === 0;
  }

  /**
   * Sends one datagram given as its parts; with a key (the addon's: protect/transfer-protection.ts), the last
   * part is the plaintext the addon seals in the batch, the others its clear header and prefix.
   */
  send(parts: Buffer[], to?: Peer, key?: NativeKey, probe?: boolean): void {
    if (!this.connected && !to) throw new Error('LftpEndpoint: a bound endpoint sends to a peer');
    if (this.native) return this.native.send({ parts, to, key, probe });
    // dgram cannot set the don't-fragment bit: a probe here would prove nothing (dontFragment says none is made).
    if (probe) return;
    const out = key ? sealHere(key, parts) : parts;
    if (this.connected) this.socket!.send(out);
    else this.socket!.send(out, to!.port, to!.address);
  }

  /** Sends a batch of datagrams, in order. */
  sendBatch(datagrams: readonly OutDatagram[]): void {
    for (const d of datagrams) this.send(d.parts, d.to, d.key, d.probe);
  }

  close(): Promise<void> {
    this.input = null;
    if (this.native) {
      this.native.close();
      return Promise.resolve();
    }
    return new Promise((resolve) => this.socket!.close(() => resolve()));
  }

  private sort(buf: Buffer, from: Peer): void {
    const input = this.input;
    if (!input) return;
    const sealed = readSealedHeader(buf);
    if (sealed) return input.sealed(buf, sealed.conn, from);
    const p = decodePacket(buf);
    if (typeof p === 'string') input.malformed?.(p, buf.length, from);
    else input.plain(p, from);
  }

  private routeErrors(): void {
    this.socket!.on('error', (err: NodeJS.ErrnoException) => this.input?.error(err));
  }
}

function createSocket(host: string, opts: { reuseAddr?: boolean; reusePort?: boolean }): dgram.Socket {
  return dgram.createSocket({
    type: isIPv6(host) ? 'udp6' : 'udp4',
    ...opts,
    recvBufferSize: LFTP_DEFAULTS.socketBufferBytes,
    sendBufferSize: LFTP_DEFAULTS.socketBufferBytes,
    lookup: literalFirstLookup,
  });
}

/**
 * The literal address the addon's socket takes for host, and its family, or null: this endpoint uses dgram. A
 * name is looked up as dgram's literalFirstLookup does (IPv4 first, then IPv6).
 */
async function nativeAddress(host: string): Promise<{ address: string; family: 4 | 6 } | null> {
  if (!nativeAddon()) return null;
  if (isIPv6(host)) return { address: host.replace(/^\[|\]$/g, ''), family: 6 };
  const v4 = await lookup(host, { family: 4 }).catch(() => null);
  if (v4) return { address: v4.address, family: 4 };
  const v6 = await lookup(host, { family: 6 }).catch(() => null);
  return v6 ? { address: v6.address, family: 6 } : null;
}

/** A datagram the addon's key seals, sent on dgram (an endpoint where the addon is loaded but not its socket). */
function sealHere(key: NativeKey, parts: Buffer[]): Buffer[] {
  const clear = parts.slice(0, -1);
  const plaintext = parts[parts.length - 1]!;
  const sealed = Buffer.allocUnsafe(plaintext.length + 16);
  if (!nativeAddon()!.keySeal(key, Buffer.concat(clear), plaintext, sealed))
    throw new Error('LftpEndpoint: seal failed');
  return [...clear, sealed];
}
