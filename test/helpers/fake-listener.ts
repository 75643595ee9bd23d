/** A stand-in for the listener's socket, its config and a WELCOME: the listener driven in-process, no network. */
import { EventEmitter } from 'node:events';
import { FrameDecoder } from '../../common/frame.js';
import {
  decodeClientMessage,
  encodeMessage,
  isKnownFrameType,
  type ClientMessage,
  type ServerMessage,
} from '../../common/protocol.js';
import type { ListenerSocket } from '../../client/listener/io.js';
import type { ListenerConfig } from '../../client/thread-messages.js';

export class FakeSocket extends EventEmitter implements ListenerSocket {
  destroyed = false;
  writable = true;
  ended = false;
  timeoutMs = -1;
  /** What the client wrote, decoded. */
  readonly sent: ClientMessage[] = [];
  private readonly decoder = new FrameDecoder({ maxFrame: 1 << 20, isKnownType: isKnownFrameType });
  write(data: Buffer): boolean {
    for (const f of this.decoder.push(data)) this.sent.push(decodeClientMessage(f));
    return true;
  }
  end(): void {
    this.ended = true;
    this.writable = false;
  }
  destroy(): void {
    this.destroyed = true;
  }
  setTimeout(ms: number): void {
    this.timeoutMs = ms;
  }
  /** The server's side: frames arrive. */
  receive(...msgs: ServerMessage[]): void {
    this.emit('data', Buffer.concat(msgs.map((m) => encodeMessage(m))));
  }
}

/** alice to 127.0.0.1:9000, plain, on a pipe, no reconnecting: override what a test is about. */
export function listenerConfig(overrides: Partial<ListenerConfig> = {}): ListenerConfig {
  return {
    host: '127.0.0.1',
    port: 9000,
    servers: [{ host: '127.0.0.1', port: 9000 }],
    tls: null,
    serverPassword: null,
    nickPassword: null,
    askPasswords: false,
    qlogDir: null,
    lftpVia: null,
    allowPlainPasswords: false,
    nick: 'alice',
    verbose: false,
    control: new SharedArrayBuffer(8),
    connectTimeoutMs: 10_000,
    serverTimeoutMs: undefined,
    downloadsDir: '/nonexistent',
    tty: false,
    screen: null,
    color: false,
    timestamps: false,
    reconnect: false,
    ...overrides,
  };
}

/** A version-1 WELCOME for alice: override what a test is about (version 2 and its room, say). */
export function welcomeFor(extra: Partial<Extract<ServerMessage, { type: 'WELCOME' }>> = {}): ServerMessage {
  return {
    type: 'WELCOME',
    version: 1,
    nick: 'alice',
    session: '1',
    heartbeatIntervalMs: 500,
    heartbeatTimeoutMs: 1500,
    maxFrame: 65536,
    maxText: 32000,
    server: 'test',
    users: 1,
    ...extra,
  };
}
