/** Raw chat peers for tests: send exact bytes or messages, decode what the server answers (TCP or WebSocket). */
import net from 'node:net';
import WebSocket from 'ws';
import { FrameDecoder, MAX_MAX_FRAME, decodeSingleFrame } from '../../common/frame.js';
import {
  decodeServerMessage,
  encodeMessage,
  isKnownFrameType,
  type AnyMessage,
  type ServerMessage,
} from '../../common/protocol.js';

/** What both kinds of peer share: the messages received so far, and waiting for one. */
abstract class Peer {
  readonly received: ServerMessage[] = [];
  abstract readonly closed: Promise<void>;

  async waitFor(pred: (m: ServerMessage) => boolean, timeoutMs = 5000): Promise<ServerMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.received.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline)
        throw new Error(
          `${this.constructor.name}: expected message not received; got ${JSON.stringify(this.received)}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Resolves true if the server closed the connection within the time. */
  async closedWithin(ms: number): Promise<boolean> {
    return Promise.race([this.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
  }
}

export class RawClient extends Peer {
  readonly socket: net.Socket;
  readonly rawBytes: Buffer[] = [];
  readonly closed: Promise<void>;
  private readonly decoder = new FrameDecoder({ maxFrame: MAX_MAX_FRAME, isKnownType: isKnownFrameType });

  private constructor(socket: net.Socket) {
    super();
    this.socket = socket;
    socket.on('data', (chunk) => {
      this.rawBytes.push(chunk);
      for (const f of this.decoder.push(chunk)) this.received.push(decodeServerMessage(f));
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  write(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  send(msg: AnyMessage): void {
    this.socket.write(encodeMessage(msg));
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A WebSocket peer on /chat: one frame per binary message, as the browser page sends them. */
export class WsClient extends Peer {
  readonly closed: Promise<void>;
  closeCode: number | null = null;

  private constructor(readonly ws: WebSocket) {
    super();
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary)
        this.received.push(
          decodeServerMessage(decodeSingleFrame(data, { maxFrame: MAX_MAX_FRAME, isKnownType: isKnownFrameType })),
        );
    });
    ws.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      ws.on('close', (code: number) => {
        this.closeCode = code;
        resolve();
      }),
    );
  }

  /** Opens ws://127.0.0.1:port/path; rejects with the HTTP status if the handshake is refused. */
  static connect(
    port: number,
    opts: { origin?: string; path?: string; headers?: Record<string, string> } = {},
  ): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${opts.path ?? '/chat'}`, {
        origin: opts.origin ?? `http://127.0.0.1:${port}`,
        headers: opts.headers ?? {},
      });
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('unexpected-response', (_req, res) =>
        reject(Object.assign(new Error(`handshake refused: HTTP ${res.statusCode}`), { status: res.statusCode })),
      );
      ws.once('error', reject);
    });
  }

  send(msg: AnyMessage): void {
    this.ws.send(encodeMessage(msg));
  }

  sendRaw(data: Buffer | string, binary = true): void {
    this.ws.send(data, { binary });
  }

  destroy(): void {
    this.ws.terminate();
  }
}

export type Ticket = Extract<ServerMessage, { type: 'TICKET'; ok: true }>;

/** A chat session's tickets, asked as the page asks them (TICKET_REQUEST, a fresh id each); a refusal throws. */
export function ticketAsker(ws: WsClient): (op: 'get' | 'post', name: string, size?: number) => Promise<Ticket> {
  let id = 0;
  return async (op, name, size) => {
    const n = ++id;
    ws.send({ type: 'TICKET_REQUEST', id: n, op, name, ...(size !== undefined ? { size } : {}) });
    const t = await ws.waitFor((m) => m.type === 'TICKET' && m.id === n);
    if (t.type !== 'TICKET' || !t.ok) throw new Error(`no ticket: ${JSON.stringify(t)}`);
    return t;
  };
}
