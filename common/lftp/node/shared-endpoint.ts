/**
 * One client socket carrying several transfers to the same server at once (a folder's files, docs/LFTP.md
 * "Folders"), each its own connection id: one socket for the folder instead of one per file (a socket costs
 * system calls and buffers to make), and every transfer from one source port, so that a chat server's kernel
 * gives them all to the same worker (SO_REUSEPORT hashes the source address and port). Each transfer gets a
 * lane: the endpoint's interface, where what arrives goes to every lane (each keeps its own connection id's
 * datagrams, as it does on a socket of its own) and close() gives the lane back. The socket closes once the
 * folder let go of it and its last lane closed (a transfer may linger in TIME_WAIT after the folder is done).
 */
import { randomInt } from 'node:crypto';
import type { NativeKey } from '../native/load.js';
import { LftpEndpoint, type EndpointInput, type Peer } from './endpoint.js';

/** What one client transfer uses of its endpoint: its own socket's, or a lane of a shared one. */
export interface TransferEndpoint {
  readonly dontFragment: boolean;
  readonly sendQueueEmpty: boolean;
  listen(input: EndpointInput): void;
  send(parts: Buffer[], to?: Peer, key?: NativeKey, probe?: boolean): void;
  close(): Promise<void>;
  /** A connection id that no other transfer on this socket had: the server tells transfers apart by it. */
  newConn(): number;
}

export class SharedEndpoint {
  private readonly lanes = new Set<EndpointInput>();
  /** Every connection id handed out on this socket: the server keeps an ended transfer's id for a while. */
  private readonly used = new Set<number>();
  private held = true;
  private closing: Promise<void> | null = null;

  private constructor(private readonly endpoint: LftpEndpoint) {
    const each = (fn: (lane: EndpointInput) => void) => {
      for (const lane of this.lanes) fn(lane);
    };
    endpoint.listen({
      sealed: (buf, conn, from) => each((l) => l.sealed(buf, conn, from)),
      plain: (p, from) => each((l) => l.plain(p, from)),
      error: (err) => each((l) => l.error(err)),
    });
  }

  static async connect(host: string, port: number): Promise<SharedEndpoint> {
    return new SharedEndpoint(await LftpEndpoint.connect(host, port));
  }

  /** A transfer's view of the socket. */
  lane(): TransferEndpoint {
    const endpoint = this.endpoint;
    let input: EndpointInput | null = null;
    return {
      dontFragment: endpoint.dontFragment,
      get sendQueueEmpty() {
        return endpoint.sendQueueEmpty;
      },
      listen: (i) => {
        input = i;
        this.lanes.add(i);
      },
      send: (parts, to, key, probe) => endpoint.send(parts, to, key, probe),
      close: () => {
        if (input) this.lanes.delete(input);
        input = null;
        return this.closeIfIdle();
      },
      newConn: () => this.newConn(),
    };
  }

  private newConn(): number {
    for (;;) {
      const conn = randomInt(1, 2 ** 32 - 1);
      if (this.used.has(conn)) continue;
      this.used.add(conn);
      return conn;
    }
  }

  /** The folder is done with the socket: it closes now, or once the lanes still lingering close. */
  release(): Promise<void> {
    this.held = false;
    return this.closeIfIdle();
  }

  private closeIfIdle(): Promise<void> {
    if (this.held || this.lanes.size > 0) return Promise.resolve();
    this.closing ??= this.endpoint.close();
    return this.closing;
  }
}

/** A transfer's own socket, connected to its server. */
export async function ownEndpoint(host: string, port: number): Promise<TransferEndpoint> {
  const endpoint = await LftpEndpoint.connect(host, port);
  return {
    get dontFragment() {
      return endpoint.dontFragment;
    },
    get sendQueueEmpty() {
      return endpoint.sendQueueEmpty;
    },
    listen: (input) => endpoint.listen(input),
    send: (parts, to, key, probe) => endpoint.send(parts, to, key, probe),
    close: () => endpoint.close(),
    newConn: () => randomInt(1, 2 ** 32 - 1),
  };
}
