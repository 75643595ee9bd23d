/**
 * The UDP edge of LFTP, for both sides: one socket, and every datagram that arrives sorted out here, once:
 * sealed (version 2: only its clear header is read, the transfer's protection opens it), plain (version 1,
 * decoded with its CRC checked), or malformed (dropped, said why). A server binds it and answers many
 * peers; a client connects it to its server. A datagram goes out as its parts (header, payload, [tag]),
 * never joined: one at a time, or a batch of them at once.
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { decodePacket, type Packet } from '../engine/packet.js';
import { readSealedHeader } from '../protect/sealed-packet.js';
import { LFTP_DEFAULTS } from '../defaults.js';
import { literalFirstLookup } from './address.js';

/** Where a datagram came from, or goes to. */
export interface Peer {
  readonly address: string;
  readonly port: number;
}

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

/** One datagram to send: its parts, and where to (a connected endpoint sends to its server). */
export interface OutDatagram {
  parts: Buffer[];
  to?: Peer;
}

export class LftpEndpoint {
  private input: EndpointInput | null = null;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly connected: boolean,
  ) {
    socket.on('message', (buf, from) => this.sort(buf, from));
  }

  /** A server's endpoint: bound to host:port (port 0: any), answering every peer. */
  static bind(o: { host: string; port: number; reusePort?: boolean }): Promise<LftpEndpoint> {
    const socket = createSocket(o.host, { reuseAddr: false, reusePort: o.reusePort ?? false });
    const endpoint = new LftpEndpoint(socket, false);
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
  static connect(host: string, port: number): Promise<LftpEndpoint> {
    const socket = createSocket(host, {});
    const endpoint = new LftpEndpoint(socket, true);
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

  /** From now on, what arrives goes to input (before this, datagrams are dropped). */
  listen(input: EndpointInput): void {
    this.input = input;
  }

  /** The port bound (a server asked for port 0 learns its port here). */
  get port(): number {
    return this.socket.address().port;
  }

  /** No datagram waits in the socket's send queue: buffers handed to send() are free again. */
  get sendQueueEmpty(): boolean {
    return this.socket.getSendQueueCount() === 0;
  }

  /** Sends one datagram given as its parts. */
  send(parts: Buffer[], to?: Peer): void {
    if (this.connected) this.socket.send(parts);
    else if (to) this.socket.send(parts, to.port, to.address);
    else throw new Error('LftpEndpoint: a bound endpoint sends to a peer');
  }

  /** Sends a batch of datagrams, in order. */
  sendBatch(datagrams: readonly OutDatagram[]): void {
    for (const d of datagrams) this.send(d.parts, d.to);
  }

  close(): Promise<void> {
    this.input = null;
    return new Promise((resolve) => this.socket.close(() => resolve()));
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
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.input?.error(err));
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
