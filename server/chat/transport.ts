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
import type { Flushable, TurnBatcher } from './turn-batcher.js';
import type { OutputProgress } from './heartbeat.js';

export type TransportKind = 'tcp' | 'ws';

export interface TransportEvents {
  /** Frames cut from what arrived, in order; wireBytes is what it cost on the wire. */
  frames(frames: RawFrame[], wireBytes: number): void;
  /** The byte stream or message could not be framed: fatal for the connection. */
  protocolError(err: ProtocolError): void;
  /** The peer closed its sending side in an orderly way. */
  ended(): void;
  /** The connection is gone (error or close); detail says why. */
  closed(detail: string): void;
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
  /** Queues a frame; the frames of one event-loop turn leave together at its end. */
  write(frame: Buffer): void;
  /** Orderly close after what is queued (TCP FIN, WebSocket close 1000). */
  end(): void;
  destroy(): void;
}

/** The per-turn queue both transports share; the subclass says how a batch goes out. */
abstract class BatchingTransport implements Flushable {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private acceptedBytes = 0;

  constructor(private readonly batcher: TurnBatcher) {}

  protected abstract get written(): number;
  protected abstract send(frames: Buffer[], bytes: number): void;
  abstract get destroyed(): boolean;

  get queuedBytes(): number {
    return this.written + this.pendingBytes;
  }

  /** On WebSocket, `written` includes frame headers, so `taken` runs a little behind: it errs towards "still queued". */
  get output(): OutputProgress {
    return { accepted: this.acceptedBytes, taken: Math.max(0, this.acceptedBytes - this.queuedBytes) };
  }

  write(frame: Buffer): void {
    if (this.pending.length === 0) this.batcher.add(this);
    this.pending.push(frame);
    this.pendingBytes += frame.length;
    this.acceptedBytes += frame.length;
  }

  flush(): void {
    const frames = this.pending;
    const bytes = this.pendingBytes;
    if (frames.length === 0) return;
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.destroyed) this.send(frames, bytes);
  }

  protected dropPending(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }
}

export class TcpTransport extends BatchingTransport implements ChatTransport {
  readonly kind = 'tcp';
  readonly remoteAddress: string;
  readonly remotePort: number;
  private readonly decoder: FrameDecoder;

  constructor(
    readonly rawSocket: Socket,
    maxFrame: number,
    batcher: TurnBatcher,
  ) {
    super(batcher);
    this.remoteAddress = rawSocket.remoteAddress ?? '?';
    this.remotePort = rawSocket.remotePort ?? 0;
    this.decoder = new FrameDecoder({ maxFrame, isKnownType: isKnownFrameType });
    rawSocket.setNoDelay(true);
  }

  get destroyed(): boolean {
    return this.rawSocket.destroyed;
  }
  protected get written(): number {
    return this.rawSocket.writableLength;
  }
  /** One write for the whole turn: the frames are concatenated (a stream has no message boundaries to keep). */
  protected send(frames: Buffer[], bytes: number): void {
    this.rawSocket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames, bytes));
  }

  start(events: TransportEvents): void {
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
    this.flush();
    this.rawSocket.end();
  }
  destroy(): void {
    this.dropPending();
    this.rawSocket.destroy();
  }
}

/** WebSocket close codes used by the chat (RFC 6455 section 7.4.1). */
export const WS_CLOSE = { NORMAL: 1000, GOING_AWAY: 1001, UNSUPPORTED_DATA: 1003, POLICY: 1008, TOO_BIG: 1009 } as const;

export class WebSocketTransport extends BatchingTransport implements ChatTransport {
  readonly kind = 'ws';
  readonly remoteAddress: string;
  readonly remotePort: number;

  constructor(
    private readonly ws: WebSocket,
    readonly rawSocket: Socket,
    private readonly maxFrame: number,
    batcher: TurnBatcher,
  ) {
    super(batcher);
    this.remoteAddress = rawSocket.remoteAddress ?? '?';
    this.remotePort = rawSocket.remotePort ?? 0;
    rawSocket.setNoDelay(true);
  }

  get destroyed(): boolean {
    return this.ws.readyState === this.ws.CLOSED || this.ws.readyState === this.ws.CLOSING || this.rawSocket.destroyed;
  }
  protected get written(): number {
    return this.ws.bufferedAmount;
  }
  /** One message per frame (the mapping requires it), in one system call: the socket is corked around them. */
  protected send(frames: Buffer[]): void {
    this.rawSocket.cork();
    for (const f of frames) this.ws.send(f, { binary: true });
    this.rawSocket.uncork();
  }

  start(events: TransportEvents): void {
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        events.protocolError(new ProtocolError('BAD_FRAME', 'text WebSocket message: the chat frames travel in binary messages'));
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
    // A close frame from the browser is its orderly goodbye (the tab closed, or the page left).
    this.ws.on('close', (code: number) => {
      if (code === WS_CLOSE.NORMAL || code === WS_CLOSE.GOING_AWAY) events.ended();
      events.closed(`websocket closed (${code})`);
    });
    this.ws.on('error', (err: Error & { code?: string }) => events.closed(`websocket error (${err.code ?? err.message})`));
  }

  end(): void {
    this.flush();
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(WS_CLOSE.NORMAL);
  }
  destroy(): void {
    this.dropPending();
    this.ws.terminate();
  }
}
