/**
 * What a chat session needs from the connection underneath it, so that one
 * ClientConnection serves both TCP clients and browsers over WebSocket. The
 * frames are the same on both (docs/PROTOCOL.md); only the way they are cut
 * out of the connection differs: a stream decoder on TCP, one frame per
 * binary message on WebSocket.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { FrameDecoder, decodeSingleFrame, type RawFrame } from '../common/frame.js';
import { ProtocolError } from '../common/errors.js';
import { isKnownFrameType } from '../common/protocol.js';

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
  /** The socket whose writes may be batched until the end of the event-loop turn. */
  readonly rawSocket: Socket;
  start(events: TransportEvents): void;
  write(frame: Buffer): void;
  /** Orderly close after what is queued (TCP FIN, WebSocket close 1000). */
  end(): void;
  destroy(): void;
}

export class TcpTransport implements ChatTransport {
  readonly kind = 'tcp';
  readonly remoteAddress: string;
  readonly remotePort: number;
  private readonly decoder: FrameDecoder;

  constructor(
    readonly rawSocket: Socket,
    maxFrame: number,
  ) {
    this.remoteAddress = rawSocket.remoteAddress ?? '?';
    this.remotePort = rawSocket.remotePort ?? 0;
    this.decoder = new FrameDecoder({ maxFrame, isKnownType: isKnownFrameType });
    rawSocket.setNoDelay(true);
  }

  get destroyed(): boolean {
    return this.rawSocket.destroyed;
  }
  get queuedBytes(): number {
    return this.rawSocket.writableLength;
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

  write(frame: Buffer): void {
    this.rawSocket.write(frame);
  }
  end(): void {
    this.rawSocket.end();
  }
  destroy(): void {
    this.rawSocket.destroy();
  }
}

/** WebSocket close codes used by the chat (RFC 6455 section 7.4.1). */
export const WS_CLOSE = { NORMAL: 1000, GOING_AWAY: 1001, UNSUPPORTED_DATA: 1003, POLICY: 1008, TOO_BIG: 1009 } as const;

export class WebSocketTransport implements ChatTransport {
  readonly kind = 'ws';
  readonly remoteAddress: string;
  readonly remotePort: number;

  constructor(
    private readonly ws: WebSocket,
    readonly rawSocket: Socket,
    private readonly maxFrame: number,
  ) {
    this.remoteAddress = rawSocket.remoteAddress ?? '?';
    this.remotePort = rawSocket.remotePort ?? 0;
    rawSocket.setNoDelay(true);
  }

  get destroyed(): boolean {
    return this.ws.readyState === this.ws.CLOSED || this.ws.readyState === this.ws.CLOSING || this.rawSocket.destroyed;
  }
  get queuedBytes(): number {
    return this.ws.bufferedAmount;
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

  write(frame: Buffer): void {
    this.ws.send(frame, { binary: true });
  }
  end(): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(WS_CLOSE.NORMAL);
  }
  destroy(): void {
    this.ws.terminate();
  }
}
