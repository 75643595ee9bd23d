/**
 * What the listener shows on a terminal (issue 33), driven in-process with a
 * stand-in socket: a line typed while reconnecting stays visible, marked
 * pending; a resume's replay in time order across conversations; /topic's
 * answer; a direct message that waits for an offline nick; one "you are in"
 * per room after a new login; a join that names its room; history lines with
 * one date. No network, no threads.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ServerMessage } from '../../common/protocol.js';
import { Listener } from '../../client/listener/listener.js';
import { decorate } from '../../client/terminal/decorate.js';
import { FakeSocket, listenerConfig, welcomeFor } from '../helpers/fake-listener.js';

const config = listenerConfig({ tty: true, reconnect: true });

const welcome = (extra: Partial<Extract<ServerMessage, { type: 'WELCOME' }>> = {}): ServerMessage =>
  welcomeFor({ version: 2, room: '#lobby', ...extra });

/** Connected, welcomed, in #lobby. */
function active() {
  const sockets: FakeSocket[] = [];
  const lines: string[] = [];
  const listener = new Listener(
    config,
    () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    {
      line: (t) => lines.push(t),
      message: (_m, ls) => lines.push(...ls),
      status: () => undefined,
      final: (t) => lines.push(t),
    },
    { post: () => undefined, exit: () => undefined },
    () => Date.now(),
    'test-client',
  );
  const socket = () => sockets.at(-1)!;
  socket().emit('chat-ready');
  socket().receive(welcome(), { type: 'JOINED', room: '#lobby', members: 2, topic: '' });
  return { listener, lines, socket, sockets };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the listener on a terminal', () => {
  it('a line typed while reconnecting is shown at once, marked pending, and sent once back', () => {
    const t = active();
    t.socket().emit('close');
    t.listener.command({ k: 'send', msg: { type: 'CHAT', text: 'are you still there?', action: false } });
    expect(t.lines.at(-1)).toBe('(pending) <alice> are you still there?');
    vi.advanceTimersByTime(2_000);
    t.socket().emit('chat-ready');
    t.socket().receive(welcome({ resumed: true }));
    expect(t.socket().sent).toContainEqual({
      type: 'CHAT',
      text: 'are you still there?',
      action: false,
      room: '#lobby',
    });
  });

  it("a resume's replay is shown in time order across rooms and direct messages, each at its own time", () => {
    const t = active();
    const at = (min: number) => new Date(2026, 11, 7, 3, min).getTime();
    const entry = (id: number, min: number, from: string, text: string, to?: string) => ({
      id,
      ts: at(min),
      from,
      text,
      action: false,
      ...(to ? { to } : {}),
    });
    t.lines.length = 0;
    // As the server sends it: one conversation after another.
    t.socket().receive(
      {
        type: 'HISTORY',
        room: '#lobby',
        missed: true,
        entries: [entry(1, 10, 'bob', 'q1'), entry(3, 12, 'bob', 'q2')],
        done: true,
        more: false,
      },
      {
        type: 'HISTORY',
        with: 'bob',
        missed: true,
        entries: [entry(2, 11, 'bob', 'psst', 'alice')],
        done: true,
        more: false,
      },
      { type: 'RESUMED', missed: 3 },
    );
    expect(t.lines).toEqual(['<bob> q1', '*bob* psst', '<bob> q2', '* reconnected: 3 missed messages']);
  });

  it('a missed line gets [HH:MM] of its own time; a history line only its date', () => {
    const ts = new Date(2026, 11, 7, 3, 10).getTime();
    const e = { id: 1, ts, from: 'bob', text: 'hi', action: false };
    const o = { color: false, timestamps: true };
    const missed: ServerMessage = {
      type: 'HISTORY',
      room: '#lobby',
      missed: true,
      entries: [e],
      done: true,
      more: false,
    };
    expect(decorate(missed, ['<bob> hi'], 'alice', o, ts + 3_600_000).lines).toEqual(['[03:10] <bob> hi']);
    const old: ServerMessage = { type: 'HISTORY', room: '#lobby', entries: [e], done: true, more: false };
    expect(decorate(old, ['[2026-12-07 03:10] <bob> hi'], 'alice', o).lines).toEqual(['[2026-12-07 03:10] <bob> hi']);
  });

  it('/topic without text: the topic, or "no topic" said plainly; /rooms is still a listing', () => {
    const t = active();
    t.listener.command({ k: 'room', command: { cmd: 'topic', room: null, text: undefined } });
    t.socket().receive({ type: 'ROOMS_REPLY', rooms: [{ room: '#lobby', members: 2, topic: '' }], total: 1 });
    expect(t.lines.at(-1)).toBe('* #lobby has no topic (set one: /topic #lobby <text>)');
    t.listener.command({ k: 'room', command: { cmd: 'rooms' } });
    t.socket().receive({ type: 'ROOMS_REPLY', rooms: [{ room: '#lobby', members: 2, topic: '' }], total: 1 });
    expect(t.lines.slice(-2)).toEqual(['* 1 room:', '*   #lobby  2 members']);
  });

  it('a direct message to a nick the server does not list as online: said to wait for their next login', () => {
    const t = active();
    t.listener.command({ k: 'send', msg: { type: 'DIRECT', to: 'Bob', text: 'psst' } });
    expect(t.socket().sent.slice(-2)).toEqual([{ type: 'DIRECT', to: 'Bob', text: 'psst' }, { type: 'WHO' }]);
    const who: ServerMessage = { type: 'WHO_REPLY', users: [{ nick: 'alice', idleMs: 0, rttMs: 1 }], total: 1 };
    t.socket().receive(who, { type: 'DIRECT', from: 'alice', to: 'bob', text: 'psst', ts: Date.now(), id: 4 });
    expect(t.lines.slice(-2)).toEqual(['-> *bob* psst', '* bob is not online: the message waits for their next login']);
    // Online: nothing more than the message; the user's own /who is printed as ever.
    t.listener.command({ k: 'send', msg: { type: 'DIRECT', to: 'carol', text: 'hi' } });
    t.listener.command({ k: 'send', msg: { type: 'WHO' } });
    const both: ServerMessage = { type: 'WHO_REPLY', users: [{ nick: 'carol', idleMs: 0, rttMs: 1 }], total: 1 };
    t.socket().receive(both, { type: 'DIRECT', from: 'alice', to: 'carol', text: 'hi', ts: Date.now(), id: 5 }, both);
    expect(t.lines.slice(-3)).toEqual(['-> *carol* hi', '* 1 user online:', '*   carol  idle 0ms, rtt 1.0ms']);
  });

  it('a new login after a loss: each room joined again once, the default room not asked for twice, the current one kept', () => {
    const t = active();
    t.listener.command({ k: 'room', command: { cmd: 'join', room: '#lab' } });
    t.socket().receive({ type: 'JOINED', room: '#lab', members: 1, topic: '' });
    t.socket().emit('close');
    vi.advanceTimersByTime(2_000);
    t.socket().emit('chat-ready');
    t.socket().receive(welcome());
    expect(t.socket().sent.filter((m) => m.type === 'JOIN')).toEqual([{ type: 'JOIN', room: '#lab' }]);
    t.socket().receive(
      { type: 'JOINED', room: '#lobby', members: 2, topic: '' },
      { type: 'JOINED', room: '#lab', members: 1, topic: '' },
    );
    t.listener.command({ k: 'send', msg: { type: 'CHAT', text: 'still in the lab', action: false } });
    expect(t.socket().sent.at(-1)).toMatchObject({ type: 'CHAT', room: '#lab' });
  });

  it('a join names its room, the current one too: it never reads like someone coming online', () => {
    const t = active();
    t.socket().receive({ type: 'NOTICE', event: 'joined', nick: 'bob', room: '#lobby' });
    expect(t.lines.at(-1)).toBe('* bob joined #lobby');
  });
});
