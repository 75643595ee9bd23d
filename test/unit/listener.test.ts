/**
 * The client's listener (client/listener/listener.ts) driven in-process: a stand-in
 * socket, collected output and thread messages, and vitest's fake clock for
 * the silence watchdog. No network, no threads.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeMessage, type ServerMessage } from '../../common/protocol.js';
import { Listener } from '../../client/listener/listener.js';
import type { FromListener, ListenerConfig } from '../../client/thread-messages.js';
import { FakeSocket, listenerConfig, welcomeFor } from '../helpers/fake-listener.js';

const config = listenerConfig();
const welcome = welcomeFor();

function setup(overrides: Partial<ListenerConfig> = {}) {
  const sockets: FakeSocket[] = [];
  const socket = new FakeSocket();
  const lines: string[] = [];
  const finals: Array<{ text: string; isError: boolean }> = [];
  const posts: FromListener[] = [];
  const exits: number[] = [];
  const listener = new Listener(
    { ...config, ...overrides },
    () => {
      const s = sockets.length === 0 ? socket : new FakeSocket();
      sockets.push(s);
      return s;
    },
    {
      line: (t) => lines.push(t),
      message: (_m, ls) => lines.push(...ls),
      status: () => undefined,
      final: (text, isError) => finals.push({ text, isError }),
    },
    { post: (m) => posts.push(m), exit: (code) => exits.push(code) },
    () => Date.now(),
    'test-client',
  );
  return { socket, sockets, lines, finals, posts, exits, listener };
}

/** Connected and welcomed. */
function active(overrides: Partial<ListenerConfig> = {}) {
  const t = setup(overrides);
  t.socket.emit('chat-ready');
  t.socket.receive(welcome);
  return t;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the client listener', () => {
  it('says HELLO with its nick and the protocol version once connected', () => {
    const { socket, listener } = setup();
    expect(socket.sent).toEqual([]);
    expect(socket.timeoutMs).toBe(10_000);
    socket.emit('chat-ready');
    expect(socket.sent).toEqual([{ type: 'HELLO', version: 2, nick: 'alice', client: 'test-client' }]);
    expect(listener.state).toBe('hello');
  });

  it('WELCOME: ready for the main thread, a line for the user, the connect timeout off', () => {
    const { socket, lines, posts, listener } = active();
    expect(listener.state).toBe('active');
    expect(socket.timeoutMs).toBe(0);
    expect(posts).toEqual([
      { k: 'ready', nick: 'alice', maxText: 32000, heartbeatIntervalMs: 500, heartbeatTimeoutMs: 1500 },
    ]);
    expect(lines[0]).toMatch(
      /^\* connected to 127\.0\.0\.1:9000 as alice \(1 online; heartbeat every 500ms, timeout 1\.5s\)/,
    );
  });

  it('answers every HEARTBEAT at once with its seq and ts, even when frames arrive split byte by byte', () => {
    const { socket } = active();
    const bytes = Buffer.concat([
      encodeMessage({ type: 'HEARTBEAT', seq: 7, ts: 123.5 }),
      encodeMessage({ type: 'HEARTBEAT', seq: 8, ts: 124 }),
    ]);
    for (const b of bytes) socket.emit('data', Buffer.from([b]));
    expect(socket.sent.slice(1)).toEqual([
      { type: 'HEARTBEAT_ACK', seq: 7, ts: 123.5 },
      { type: 'HEARTBEAT_ACK', seq: 8, ts: 124 },
    ]);
  });

  it('a refusal during HELLO ends with exit code 4 and says why on stderr', () => {
    const { socket, finals, exits } = setup();
    socket.emit('chat-ready');
    socket.receive({ type: 'ERROR', code: 'NICK_TAKEN', message: 'nick alice is taken', fatal: true });
    expect(exits).toEqual([4]);
    expect(finals).toEqual([{ text: 'chat-client: nick alice is taken; choose another with --nick', isError: true }]);
    expect(socket.destroyed).toBe(true);
  });

  it('on a terminal a taken nick is tried again as nick_ on a new connection (three times at most), and said so', () => {
    const { sockets, lines, exits } = setup({ tty: true });
    for (let i = 0; i < 4; i++) {
      const s = sockets.at(-1)!;
      s.emit('chat-ready');
      expect(s.sent[0]).toMatchObject({ type: 'HELLO', nick: 'alice' + '_'.repeat(i) });
      s.receive({ type: 'ERROR', code: 'NICK_TAKEN', message: 'taken', fatal: true });
      if (i < 3) expect(s.destroyed).toBe(true);
    }
    expect(sockets).toHaveLength(4);
    expect(lines).toEqual([
      '* nick alice is taken; trying alice_',
      '* nick alice_ is taken; trying alice__',
      '* nick alice__ is taken; trying alice___',
    ]);
    expect(exits).toEqual([4]);
  });

  it('a retried nick that is free goes on as usual', () => {
    const { sockets, posts } = setup({ tty: true });
    sockets[0]!.emit('chat-ready');
    sockets[0]!.receive({ type: 'ERROR', code: 'NICK_TAKEN', message: 'taken', fatal: true });
    sockets[0]!.emit('close'); // the old connection's end is not this one's
    sockets[1]!.emit('chat-ready');
    sockets[1]!.receive({ ...welcome, nick: 'alice_' } as ServerMessage);
    expect(posts[0]).toMatchObject({ k: 'ready', nick: 'alice_' });
  });

  it('cannot connect: exit code 1 with the reason', () => {
    const { socket, finals, exits } = setup();
    socket.emit('error', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    expect(exits).toEqual([1]);
    expect(finals[0]?.text).toBe(
      'chat-client: cannot connect to 127.0.0.1:9000: connection refused (is chat-server running?)',
    );
  });

  it('the server closing the connection: exit code 3, once, whatever follows', () => {
    const { socket, finals, exits } = active();
    socket.emit('end');
    socket.emit('close');
    expect(exits).toEqual([3]);
    expect(finals).toEqual([{ text: 'connection closed by the server', isError: true }]);
  });

  it('BYE from the server: exit code 3 with its reason', () => {
    const { socket, finals, exits } = active();
    socket.receive({ type: 'BYE', reason: 'kicked: spam' });
    expect(exits).toEqual([3]);
    expect(finals[0]?.text).toBe('server closed the connection: kicked: spam');
  });

  it('silence longer than the announced heartbeat timeout: connection lost (exit 3)', () => {
    const { exits, finals } = active();
    vi.advanceTimersByTime(1400);
    expect(exits).toEqual([]);
    vi.advanceTimersByTime(500);
    expect(exits).toEqual([3]);
    expect(finals[0]?.text).toMatch(/^connection lost: nothing from the server for 1\.[5-9]s \(limit 1\.5s\)$/);
  });

  it('heartbeats keep a quiet connection alive', () => {
    const { socket, exits } = active();
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(500);
      socket.receive({ type: 'HEARTBEAT', seq: i, ts: i });
    }
    expect(exits).toEqual([]);
  });

  it('/quit: BYE, then a half-close; the server closing afterwards is a clean exit 0', () => {
    const { socket, exits, finals, listener } = active();
    listener.command({ k: 'quit', reason: 'bye all' });
    expect(socket.sent.at(-1)).toEqual({ type: 'BYE', reason: 'bye all' });
    expect(socket.ended).toBe(true);
    socket.receive({ type: 'BYE', reason: 'goodbye' });
    expect(exits).toEqual([]);
    socket.emit('end');
    expect(exits).toEqual([0]);
    expect(finals).toEqual([]);
  });

  it('a server that never answers /quit: exit 0 after the bounded wait', () => {
    const { exits, listener } = active();
    listener.command({ k: 'quit', reason: '' });
    vi.advanceTimersByTime(4_900);
    expect(exits).toEqual([]);
    vi.advanceTimersByTime(200);
    expect(exits).toEqual([0]);
  });

  it('bytes that are not a frame: a protocol error, exit 3', () => {
    const { socket, exits, finals } = active();
    socket.emit('data', Buffer.from([0, 0, 0, 2, 0xee, 0x7b, 0x7d]));
    expect(exits).toEqual([3]);
    expect(finals[0]?.text).toMatch(/^chat-client: protocol error from the server \(UNKNOWN_TYPE: /);
  });

  it('its own nick change is followed and told to the main thread', () => {
    const { socket, posts, lines } = active();
    socket.receive({ type: 'NOTICE', event: 'nick', nick: 'alice', newNick: 'alicia' });
    expect(posts).toContainEqual({ k: 'nick', nick: 'alicia' });
    expect(lines.at(-1)).toContain('alicia');
  });
});
