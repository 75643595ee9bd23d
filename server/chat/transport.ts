/**
 * What a chat session needs from the connection underneath it, so that one
 * ClientConnection serves both TCP clients and browsers over WebSocket. The
 * frames are the same on both (docs/PROTOCOL.md); only the way they are cut
 * out of the connection differs: a stream decoder on TCP, one frame per
 * binary message on WebSocket.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { FrameDecoder, decodeSingleFrame, type RawFrame } from '../../common/frame.js';
import { ProtocolError } from '../../common/errors.js';
import { isKnownFrameType } from '../../common/protocol.js';
import type { TurnBatcher } from './turn-batcher.js';
import { OutputQueue, type OutputSink } from './output-queue.js';
import type { OutputBudget } from './output-budget.js';
import type { OutputProgress } from './heartbeat.js';

/** The chat's own frames over TCP or WebSocket, or IRC lines through the IRC door (server/irc-door/). */
export type TransportKind = 'tcp' | 'ws' | 'irc';

export interface TransportEvents {
  /** Frames cut from what arrived, in order; wireBytes is what it cost on the wire. */
  frames(frames: RawFrame[], wireBytes: number): void;
  /** The byte stream or message could not be framed: fatal for the connection. */
  protocolError(err: ProtocolError): void;
  /** The peer closed its sending side in an orderly way. */
  ended(): void;
  /** The connection is gone (error or close); detail says why. */
  closed(detail: string): void;
  /** After each flush: bytes still waiting (in the queue and the socket), which the peer has not taken. */
  backlog(bytes: number): void;
}

export interface ChatTransport {
  readonly kind: TransportKind;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly destroyed: boolean;
  /** Bytes accepted for sending but not yet taken by the kernel. */
  readonly queuedBytes: number;
  /** The outgoing stream so far: bytes accepted, and how many of them the kernel has taken (heartbeats use it to tell slow from dead). */
  readonly output: OutputProgress;
  /** The socket underneath. */
  readonly rawSocket: Socket;
  start(events: TransportEvents): void;
  /** Queues a frame (by reference: a broadcast's one Buffer is shared); the frames of one event-loop turn leave together at its end. */
  write(frame: Buffer): void;
  /** Drops what has not reached the socket yet. */
  discardQueued(): void;
  /** Orderly close after what is queued (TCP FIN, WebSocket close 1000). */
  end(): void;
  destroy(): void;
}

/** What every connection of a worker writes through: the end-of-turn batcher and the output budget. */
export interface OutputPath {
  batcher: TurnBatcher;
  budget: OutputBudget;
}

/** The output queue every transport shares; the subclass says how a batch reaches its socket. */
export abstract class QueuedTransport implements OutputSink {
  protected readonly queue: OutputQueue;

  constructor(path: OutputPath) {
    this.queue = new OutputQueue(this, path.batcher, path.budget);
  }

  abstract get buffered(): number;
  abstract readonly rawSocket: Socket;
  abstract readonly joinsFrames: boolean;
  abstract get destroyed(): boolean;
  abstract writeBatch(pieces: Buffer[]): void;

  get queuedBytes(): number {
    return this.queue.queuedBytes;
  }

  /** Both transports write into the TCP socket underneath, whose 'drain' brings the queue back. */
  get highWaterMark(): number {
    return this.rawSocket.writableHighWaterMark;
  }

  /** On WebSocket, the socket's buffer includes frame headers, so `taken` runs a little behind: it errs towards "still queued". */
  get output(): OutputProgress {
    this.queue.settle();
    return this.queue.progress;
  }

  write(frame: Buffer): void {
    this.queue.write(frame);
  }

  /** Drops what is waiting (a client that does not read will not read the backlog either). */
  discardQueued(): void {
    this.queue.discard();
  }
}

export class TcpTransport extends QueuedTransport implements ChatTransport {
  readonly kind = 'tcp';
  readonly remoteAddress: string;
  readonly remotePort: number;
  private readonly decoder: FrameDecoder;

  constructor(
    readonly rawSocket: Socket,
    maxFrame: number,
    path: OutputPath,
  ) {
    super(path);
    this.remoteAddress = rawSocket.remoteAddress ?? '?';
    this.remotePort = rawSocket.remotePort ?? 0;
    this.decoder = new FrameDecoder({ maxFrame, isKnownType: isKnownFrameType });
    rawSocket.setNoDelay(true);
    rawSocket.on('drain', () => this.queue.flush());
  }

  get destroyed(): boolean {
    return this.rawSocket.destroyed;
  }
  get buffered(): number {
    return this.rawSocket.writableLength;
  }
  /** A stream has no message boundaries to keep: small frames may travel joined. */
  readonly joinsFrames = true;
  /** One writev for the batch: the socket is corked around its pieces. */
  writeBatch(pieces: Buffer[]): void {
    const s = this.rawSocket;
    if (pieces.length === 1) {
      s.write(pieces[0]!);
      return;
    }
    s.cork();
    for (const p of pieces) s.write(p);
    s.uncork();
  }

  start(events: TransportEvents): void {
    this.queue.afterFlush = (bytes) => events.backlog(bytes);
    const s = this.rawSocket;
    s.on('data', (chunk: Buffer) => {
      let frames: RawFrame[];
      try {
        frames = this.decoder.push(chunk);
      } catch (err) {
        events.protocolError(err as ProtocolError);
        return;
      }
      events.frames(frames, chunk.length);
    });
    s.on('end', () => events.ended());
    s.on('error', (err: NodeJS.ErrnoException) => events.closed(`connection error (${err.code ?? err.message})`));
    s.on('close', () => events.closed('connection closed'));
  }

  end(): void {
    this.queue.drainAll();
    this.rawSocket.end();
  }
  destroy(): void {
    this.rawSocket.destroy();
    this.queue.discard();
  }
}

/** WebSocket close codes used by the chat (RFC 6455 section 7.4.1). */
export const WS_CLOSE = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  UNSUPPORTED_DATA: 1003,
  POLICY: 1008,
  TOO_BIG: 1009,
} as const;

export class WebSocketTransport extends QueuedTransport implements ChatTransport {
  readonly kind = 'ws';
  readonly remoteAddress: string;
  readonly remotePort: number;

  constructor(
    private readonly ws: WebSocket,
    readonly rawSocket: Socket,
    private readonly maxFrame: number,
    path: OutputPath,
  ) {
    super(path);
    this.remoteAddress = rawSocket.remoteAddress ?? '?';
    this.remotePort = rawSocket.remotePort ?? 0;
    rawSocket.setNoDelay(true);
    rawSocket.on('drain', () => this.queue.flush());
  }

  get destroyed(): boolean {
    return this.ws.readyState === this.ws.CLOSED || this.ws.readyState === this.ws.CLOSING || this.rawSocket.destroyed;
  }
  get buffered(): number {
    return this.ws.bufferedAmount;
  }
  /** One message per frame (the mapping requires it), in one system call: the socket is corked around them. */
  readonly joinsFrames = false;
  writeBatch(frames: Buffer[]): void {
    this.rawSocket.cork();
    for (const f of frames) this.ws.send(f, { binary: true });
    this.rawSocket.uncork();
  }

  start(events: TransportEvents): void {
    this.queue.afterFlush = (bytes) => events.backlog(bytes);
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        events.protocolError(
          new ProtocolError('BAD_FRAME', 'text WebSocket message: the chat frames travel in binary messages'),
        );
        return;
      }
      let frame: RawFrame;
      try {
        frame = decodeSingleFrame(data, { maxFrame: this.maxFrame, isKnownType: isKnownFrameType });
      } catch (err) {
        events.protocolError(err as ProtocolError);
        return;
      }
      events.frames([frame], data.length);
    });
    // A close frame is the peer's orderly end of the connection (the tab closed, reloaded or left), like a FIN:
    // without a BYE before it, the session is lost, not ended, and waits to be resumed (the page does after a reload).
    this.ws.on('close', (code: number) => {
      if (code === WS_CLOSE.NORMAL || code === WS_CLOSE.GOING_AWAY) events.ended();
      events.closed(`websocket closed (${code})`);
    });
    this.ws.on('error', (err: Error & { code?: string }) =>
      events.closed(`websocket error (${err.code ?? err.message})`),
    );
  }

  end(): void {
    this.queue.drainAll();
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(WS_CLOSE.NORMAL);
  }
  destroy(): void {
    this.ws.terminate();
    this.queue.discard();
  }
}
