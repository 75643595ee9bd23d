/**
 * A chat session on a raw socket, for tests that look at frames: it answers
 * heartbeats, keeps every frame it gets, and says HELLO with the protocol
 * version asked for. Sockets are destroyed by closeRawSessions().
 */
import net from 'node:net';
import { FrameDecoder, MAX_MAX_FRAME } from '../../common/frame.js';
import {
  decodeServerMessage,
  encodeMessage,
  isKnownFrameType,
  type ClientMessage,
  type ServerMessage,
} from '../../common/protocol.js';
import { until } from './wait.js';
import type { LastSeen } from '../../common/messages.js';
import { NO_FLOOD_LIMIT, startServer, stopAll, type LineProcess, type ServerHandle } from './processes.js';

export interface RawSession {
  s: net.Socket;
  got: ServerMessage[];
  send(...msgs: ClientMessage[]): void;
  /** Frames of one type received so far. */
  of<T extends ServerMessage['type']>(type: T): Array<Extract<ServerMessage, { type: T }>>;
  /** Waits until a frame matching `test` has arrived; returns it. */
  next<T extends ServerMessage['type']>(
    type: T,
    test?: (m: Extract<ServerMessage, { type: T }>) => boolean,
    timeoutMs?: number,
  ): Promise<Extract<ServerMessage, { type: T }>>;
}

const open: net.Socket[] = [];

export function closeRawSessions(): void {
  for (const s of open.splice(0)) s.destroy();
}

/** resume, last: the HELLO of a session coming back (docs/PROTOCOL.md, Resume). */
export async function rawSession(
  port: number,
  nick: string,
  o: {
    from?: string;
    version?: number;
    resume?: string;
    last?: LastSeen[];
    password?: string;
    nickPassword?: string;
  } = {},
): Promise<RawSession> {
  const s = net.connect({ host: '127.0.0.1', port, localAddress: o.from ?? '127.0.0.1' });
  s.on('error', () => undefined);
  open.push(s);
  const got: ServerMessage[] = [];
  const decoder = new FrameDecoder({ maxFrame: MAX_MAX_FRAME, isKnownType: isKnownFrameType });
  s.on('data', (chunk) => {
    for (const f of decoder.push(chunk)) {
      const m = decodeServerMessage(f);
      if (m.type === 'HEARTBEAT') s.write(encodeMessage({ type: 'HEARTBEAT_ACK', seq: m.seq, ts: m.ts }));
      got.push(m);
    }
  });
  const of = <T extends ServerMessage['type']>(type: T) =>
    got.filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type);
  const session: RawSession = {
    s,
    got,
    send: (...msgs) => s.write(Buffer.concat(msgs.map((m) => encodeMessage(m)))),
    of,
    async next(type, test = () => true, timeoutMs = 5000) {
      let found: ReturnType<typeof of<typeof type>>[number] | undefined;
      await until(
        () => (found = of(type).find(test)) !== undefined,
        timeoutMs,
        () => `${nick}: no ${type} that matches; got ${JSON.stringify(got.slice(-5))}`,
      );
      return found!;
    },
  };
  session.send({
    type: 'HELLO',
    version: o.version ?? 1,
    nick,
    ...(o.resume !== undefined ? { resume: o.resume, last: o.last ?? [] } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    ...(o.nickPassword !== undefined ? { nickPassword: o.nickPassword } : {}),
  });
  await until(
    () => got.some((m) => m.type === 'WELCOME' || m.type === 'ERROR'),
    5000,
    () => `no WELCOME for ${nick}: ${JSON.stringify(got)}`,
  );
  return session;
}

/**
 * For a test file of raw sessions: a server with two workers, no web side and
 * no flood limit (plus args), and after each test its sessions and servers gone.
 */
export function rawSessionServers(
  afterEach: (fn: () => Promise<void>) => void,
): (args?: string[]) => Promise<ServerHandle> {
  let procs: LineProcess[] = [];
  afterEach(async () => {
    closeRawSessions();
    await stopAll(...procs);
    procs = [];
  });
  return async (args = []) => {
    const s = await startServer(['--workers', '2', '--no-web', ...NO_FLOOD_LIMIT, ...args]);
    procs.push(s);
    return s;
  };
}
