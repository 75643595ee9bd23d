/**
 * LFTP SYNs sent by hand, for the tests and the bench of address validation
 * (docs/LFTP.md, "Address validation"): the datagrams are written here from
 * the specification (JSON and all), not with the project's encoders, so that
 * the same flood runs against any version of the server. A SynSource is one
 * UDP socket on an address of its own that sends SYNs and keeps what comes
 * back, answering nothing: a spoofed source, as far as the server can tell.
 */
import dgram from 'node:dgram';
import { randomBytes, randomInt } from 'node:crypto';
import { decodePacket, encodePacket } from '../../common/lftp/engine/packet.js';

/** The flag of a RETRY (the server asks the client to repeat its SYN with the token). */
export const RETRY_FLAG = 0x80;
const SYN = 0x01;
const POST = 0x40;
const ERR = 0x20;

export interface HandSyn {
  conn: number;
  isn: number;
  name: string;
  mss: number;
  /** post: the size announced. */
  size?: number;
  salt: Buffer;
  proof: Buffer;
  /** The `retry` field: '' (a client that can do RETRY, no token yet), a token, or absent (a client from before RETRY). */
  retry?: Buffer;
}

/**
 * A SYN with a random connection id, ISN, salt and proof (a proof nobody can check without the key): a flood's.
 * `retry` null: the SYN of a client from before RETRY.
 */
export function randomSyn(name: string, retry: Buffer | null = Buffer.alloc(0)): HandSyn {
  return {
    conn: randomInt(1, 2 ** 32 - 1),
    isn: randomInt(0, 2 ** 32 - 1),
    name,
    mss: 1448,
    salt: randomBytes(16),
    proof: randomBytes(16),
    ...(retry ? { retry } : {}),
  };
}

export function synDatagram(s: HandSyn): Buffer {
  const json = {
    name: s.name,
    mss: s.mss,
    ...(s.size !== undefined ? { size: s.size } : {}),
    salt: s.salt.toString('base64url'),
    proof: s.proof.toString('base64url'),
    ...(s.retry ? { retry: s.retry.toString('base64url') } : {}),
  };
  return encodePacket({
    flags: SYN | (s.size !== undefined ? POST : 0),
    conn: s.conn,
    seq: s.isn,
    ack: 0,
    window: 2048,
    payload: Buffer.from(JSON.stringify(json)),
  });
}

export type Answer =
  | { kind: 'retry'; conn: number; ack: number; token: Buffer; bytes: number }
  | { kind: 'err'; conn: number; ack: number; code: string; message: string; bytes: number }
  | { kind: 'other'; conn: number; flags: number; bytes: number };

/** A version-1 datagram the server sent, read; null when it is not one (sealed, or corrupt). */
export function readAnswer(buf: Buffer): Answer | null {
  const p = decodePacket(buf);
  if (typeof p === 'string') return null;
  if (p.flags === RETRY_FLAG) return { kind: 'retry', conn: p.conn, ack: p.ack, token: p.payload, bytes: buf.length };
  if (p.flags & ERR) {
    const e = JSON.parse(p.payload.toString('utf8')) as { code: string; message: string };
    return { kind: 'err', conn: p.conn, ack: p.ack, code: e.code, message: e.message, bytes: buf.length };
  }
  return { kind: 'other', conn: p.conn, flags: p.flags, bytes: buf.length };
}

/** One UDP socket on its own address: sends SYNs, keeps every answer, never replies. */
export class SynSource {
  readonly answers: Answer[] = [];
  sent = 0;
  bytesSent = 0;

  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (buf) => {
      const a = readAnswer(buf);
      if (a) this.answers.push(a);
    });
    socket.on('error', () => undefined);
  }

  static bind(address: string, port = 0): Promise<SynSource> {
    const socket = dgram.createSocket('udp4');
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, address, () => {
        socket.off('error', reject);
        resolve(new SynSource(socket));
      });
    });
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(datagram: Buffer, port: number, host = '127.0.0.1'): void {
    this.sent++;
    this.bytesSent += datagram.length;
    this.socket.send(datagram, port, host);
  }

  /** Sends one datagram and waits for the next answer to it (by its connection id). */
  async exchange(datagram: Buffer, conn: number, port: number, timeoutMs = 5000): Promise<Answer> {
    const from = this.answers.length;
    this.send(datagram, port);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const a = this.answers.slice(from).find((x) => x.conn === conn);
      if (a) return a;
      if (Date.now() > deadline) throw new Error(`no answer to the SYN of connection ${conn} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  close(): void {
    this.socket.close();
  }
}

/** SYNs from `sources` in turn, `rate` a second, each a new request (as a spoofer's would be), until stop(). */
export function floodSyns(
  sources: SynSource[],
  port: number,
  rate: number,
  name: string,
  retry: Buffer | null = Buffer.alloc(0),
): { stop(): void } {
  let k = 0;
  const batch = Math.max(1, Math.round(rate / 100));
  const timer = setInterval(() => {
    for (let i = 0; i < batch; i++) sources[k++ % sources.length]!.send(synDatagram(randomSyn(name, retry)), port);
  }, 10);
  return { stop: () => clearInterval(timer) };
}

/** The last log line with `msg` in a JSON log, parsed; null when there is none. */
export function lastLogLine(log: string, msg: string): Record<string, unknown> | null {
  const lines = log.split('\n').filter((l) => l.includes(msg));
  return lines.length > 0 ? (JSON.parse(lines.at(-1)!) as Record<string, unknown>) : null;
}
