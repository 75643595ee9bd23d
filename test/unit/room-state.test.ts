/** The client's rooms without a server: what the commands become, the current room, where /history goes on from. */
import { describe, expect, it } from 'vitest';
import { RoomState } from '../../client/room-state.js';
import { parseInput } from '../../client/input.js';
import { renderServerMessage } from '../../client/render.js';

const welcome = {
  type: 'WELCOME',
  version: 2,
  nick: 'alice',
  session: '1',
  heartbeatIntervalMs: 5000,
  heartbeatTimeoutMs: 15000,
  maxFrame: 65536,
  maxText: 1000,
  server: 's',
  users: 1,
  room: '#lobby',
} as const;

describe('room commands as typed', () => {
  it('parse into room commands, # added where a name is expected', () => {
    expect(parseInput('/join lab', 100)).toEqual({ kind: 'room', command: { cmd: 'join', room: '#lab' } });
    expect(parseInput('/room #lab', 100)).toEqual({ kind: 'room', command: { cmd: 'switch', room: '#lab' } });
    expect(parseInput('/part #lab gone fishing', 100)).toEqual({
      kind: 'room',
      command: { cmd: 'part', room: '#lab', reason: 'gone fishing' },
    });
    expect(parseInput('/part lunch', 100)).toEqual({
      kind: 'room',
      command: { cmd: 'part', room: null, reason: 'lunch' },
    });
    expect(parseInput('/topic', 100)).toEqual({ kind: 'room', command: { cmd: 'topic', room: null, text: undefined } });
    expect(parseInput('/topic #net windows', 100)).toEqual({
      kind: 'room',
      command: { cmd: 'topic', room: '#net', text: 'windows' },
    });
    expect(parseInput('/history 30', 100)).toEqual({
      kind: 'room',
      command: { cmd: 'history', room: null, count: 30, sinceMs: undefined },
    });
    expect(parseInput('/history #net 2h', 100)).toEqual({
      kind: 'room',
      command: { cmd: 'history', room: '#net', count: undefined, sinceMs: 7_200_000 },
    });
    expect(parseInput('/history bob', 100)).toEqual({
      kind: 'room',
      command: { cmd: 'history', room: null, with: 'bob', count: undefined, sinceMs: undefined },
    });
    expect(parseInput('/history bob 1h', 100)).toEqual({
      kind: 'room',
      command: { cmd: 'history', room: null, with: 'bob', count: undefined, sinceMs: 3_600_000 },
    });
    expect(parseInput('/history @42 5', 100)).toEqual({
      kind: 'room',
      command: { cmd: 'history', room: null, with: '42', count: 5, sinceMs: undefined },
    });
    expect(parseInput('/history bob soon', 100)).toMatchObject({ kind: 'local-error' });
    expect(parseInput('/join', 100)).toEqual({ kind: 'local-error', text: 'usage: /join #room' });
    expect(parseInput('/names #a b', 100)).toEqual({ kind: 'local-error', text: 'usage: /names [#room]' });
  });
});

describe('RoomState', () => {
  it('follows WELCOME, JOINED and PARTED; resolves commands against the current room', () => {
    const r = new RoomState();
    expect(r.apply(welcome)).toBe(false); // the room counts once JOINED says the client is in it
    expect(r.apply({ type: 'JOINED', room: '#lobby', topic: '', members: 1 })).toBe(true);
    expect(r.apply({ type: 'JOINED', room: '#Lab', topic: '', members: 2 })).toBe(true);
    expect(r.current).toBe('#Lab');
    expect(r.isCurrent('#lab')).toBe(true);
    expect(r.resolve({ cmd: 'part', room: null, reason: '' }, 0)).toEqual({
      ok: true,
      msg: { type: 'PART', room: '#Lab' },
    });
    expect(r.resolve({ cmd: 'switch', room: '#LOBBY' }, 0)).toEqual({
      ok: true,
      msg: null,
      line: '* now talking in #lobby',
    });
    expect(r.resolve({ cmd: 'switch', room: '#nowhere' }, 0)).toEqual({
      ok: false,
      error: 'you are not in #nowhere: /join #nowhere',
    });
    r.apply({ type: 'PARTED', room: '#lobby' });
    expect(r.current).toBe('#Lab');
    r.apply({ type: 'PARTED', room: '#lab' });
    expect(r.current).toBe('');
    expect(r.resolve({ cmd: 'names', room: null }, 0)).toEqual({
      ok: false,
      error: 'you are in no room: /join #room first',
    });
  });

  it('pages history back from the oldest id seen; by time from now', () => {
    const r = new RoomState();
    r.apply(welcome);
    r.apply({ type: 'JOINED', room: '#lobby', topic: '', members: 1 });
    r.apply({
      type: 'HISTORY',
      room: '#lobby',
      entries: [{ id: 41, ts: 1, from: 'a', text: 'x', action: false }],
      done: true,
      more: true,
    });
    r.apply({ type: 'CHAT', from: 'a', text: 'y', action: false, ts: 2, id: 42, room: '#lobby' });
    expect(r.resolve({ cmd: 'history', room: null, count: 10, sinceMs: undefined }, 0)).toEqual({
      ok: true,
      msg: { type: 'HISTORY_REQUEST', id: 1, room: '#lobby', limit: 10, before: 41 },
    });
    expect(r.resolve({ cmd: 'history', room: '#lobby', count: undefined, sinceMs: 3_600_000 }, 10_000_000)).toEqual({
      ok: true,
      msg: { type: 'HISTORY_REQUEST', id: 2, room: '#lobby', since: 6_400_000, limit: 200 },
    });
    // Direct messages page back on their own.
    expect(r.resolve({ cmd: 'history', room: null, with: 'Bob', count: 5, sinceMs: undefined }, 0)).toEqual({
      ok: true,
      msg: { type: 'HISTORY_REQUEST', id: 3, with: 'Bob', limit: 5 },
    });
    r.apply({
      type: 'HISTORY',
      id: 3,
      with: 'Bob',
      entries: [{ id: 7, ts: 1, from: 'bob', to: 'alice', text: 'x', action: false }],
      done: true,
      more: true,
    });
    expect(r.resolve({ cmd: 'history', room: null, with: 'bob', count: 5, sinceMs: undefined }, 0)).toMatchObject({
      msg: { with: 'bob', before: 7 },
    });
  });

  it('lines from another room carry its name; history lines their date', () => {
    const r = new RoomState();
    r.apply(welcome);
    r.apply({ type: 'JOINED', room: '#lobby', topic: '', members: 1 });
    const ctx = { me: 'alice', verbose: false, isCurrent: (room: string | undefined) => r.isCurrent(room) };
    expect(
      renderServerMessage({ type: 'CHAT', from: 'bob', text: 'hi', action: false, ts: 1, id: 1, room: '#lab' }, ctx),
    ).toEqual(['[#lab] <bob> hi']);
    expect(
      renderServerMessage({ type: 'CHAT', from: 'bob', text: 'hi', action: false, ts: 1, id: 1, room: '#LOBBY' }, ctx),
    ).toEqual(['<bob> hi']);
    const [line] = renderServerMessage(
      {
        type: 'HISTORY',
        room: '#lobby',
        entries: [{ id: 1, ts: Date.UTC(2026, 0, 2, 3, 4), from: 'bob', text: 'old', action: false }],
        done: false,
        more: false,
      },
      ctx,
    );
    expect(line).toMatch(/^\[2026-01-0\d \d\d:\d4\] <bob> old$/);
  });
});

describe('Roster', () => {
  it('completes the members of the current room: NAMES when it changes, then its notices; other rooms do not count', async () => {
    const { Roster } = await import('../../client/roster.js');
    const r = new Roster();
    expect(r.roomChanged('#lab', true)).toEqual({ type: 'NAMES', room: '#lab' });
    r.apply({ type: 'NAMES_REPLY', room: '#Lab', nicks: ['alice', 'bob'], total: 2 });
    expect(r.swallow('NAMES_REPLY')).toBe(true); // asked quietly: not printed
    expect(r.swallow('NAMES_REPLY')).toBe(false); // the user's own /names is
    r.apply({ type: 'NOTICE', event: 'joined', nick: 'carol', room: '#lobby' });
    r.apply({ type: 'NOTICE', event: 'joined', nick: 'dan', room: '#lab' });
    r.apply({ type: 'NOTICE', event: 'parted', nick: 'bob', room: '#lab' });
    r.apply({ type: 'NAMES_REPLY', room: '#lobby', nicks: ['zed'], total: 1 });
    expect(r.nickList()).toEqual(['alice', 'dan']);
    expect(r.roomChanged('#lobby', false)).toBeNull(); // not a terminal: nothing asked, nothing swallowed
    expect(r.nickList()).toEqual([]);
  });
});

describe('direct actions (/describe) as typed and shown', () => {
  it('/describe is a DIRECT with action; its usage when a part is missing', () => {
    expect(parseInput('/describe bob waves at you', 100)).toEqual({
      kind: 'send',
      msg: { type: 'DIRECT', to: 'bob', text: 'waves at you', action: true },
    });
    expect(parseInput('/msg bob hi', 100)).toEqual({ kind: 'send', msg: { type: 'DIRECT', to: 'bob', text: 'hi' } });
    expect(parseInput('/describe bob', 100)).toEqual({ kind: 'local-error', text: 'usage: /describe <nick> <action>' });
  });

  it('a DIRECT action reads as an action, marked private; live and in history; plain DIRECTs as before', () => {
    const ctx = { me: 'alice', verbose: false };
    const dm = { type: 'DIRECT', from: 'bob', to: 'alice', text: 'waves', ts: 1, action: true } as const;
    expect(renderServerMessage(dm, ctx)).toEqual(['* bob waves (to you)']);
    expect(renderServerMessage({ ...dm, from: 'alice', to: 'bob' }, ctx)).toEqual(['-> *bob* * alice waves']);
    expect(renderServerMessage({ ...dm, action: undefined }, ctx)).toEqual(['*bob* waves']);
    const history = renderServerMessage(
      {
        type: 'HISTORY',
        with: 'bob',
        entries: [{ id: 1, ts: 1, from: 'bob', to: 'alice', text: 'nods', action: true }],
        done: false,
        more: false,
        missed: true,
      },
      ctx,
    );
    expect(history).toEqual(['* bob nods (to you)']);
  });
});
