/** A raw TCP peer for hostile-input tests: sends exact bytes, decodes what the server answers. */
import net from 'node:net';
import { FrameDecoder, MAX_MAX_FRAME } from '../../common/frame.js';
import { decodeServerMessage, encodeMessage, isKnownFrameType, type AnyMessage, type ServerMessage } from '../../common/protocol.js';

export class RawClient {
  readonly socket: net.Socket;
  readonly received: ServerMessage[] = [];
  readonly rawBytes: Buffer[] = [];
  readonly closed: Promise<void>;
  private readonly decoder = new FrameDecoder({ maxFrame: MAX_MAX_FRAME, isKnownType: isKnownFrameType });

  private constructor(socket: net.Socket) {
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

  async waitFor(pred: (m: ServerMessage) => boolean, timeoutMs = 5000): Promise<ServerMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.received.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`raw client: expected message not received; got ${JSON.stringify(this.received)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Resolves true if the server closed the connection within the time. */
  async closedWithin(ms: number): Promise<boolean> {
    return Promise.race([this.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
  }

  destroy(): void {
    this.socket.destroy();
  }
}
