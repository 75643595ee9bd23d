/**
 * Rooms over real sockets (protocol version 2), two workers: join, part,
 * topic, names, the room list, messages only to members, notices per room,
 * limits, history on joining and paging back; a version-1 client in the
 * default room only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rawSession, rawSessionServers } from '../helpers/raw-session.js';

const server = rawSessionServers(afterEach);

describe('rooms', () => {
  it('join, talk, part: members only hear their room, notices go to the room, JOINED and PARTED to the one who moved', async () => {
    const s = await server();
    const alice = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.2' });
    const bob = await rawSession(s.port, 'bob', { version: 2, from: '127.0.0.3' });
    expect(alice.of('WELCOME')[0]).toMatchObject({ version: 2, room: '#lobby' });
    await alice.next('JOINED', (m) => m.room === '#lobby');
    alice.send({ type: 'JOIN', room: '#Lab' });
    expect(await alice.next('JOINED', (m) => m.room === '#Lab')).toEqual({
      type: 'JOINED',
      room: '#Lab',
      topic: '',
      members: 1,
    });
    alice.send({ type: 'CHAT', text: 'only the lab hears this', action: false, room: '#lab' });
    const echo = await alice.next('CHAT', (m) => m.room === '#Lab');
    expect(echo).toMatchObject({ from: 'alice', text: 'only the lab hears this', id: 1 });
    bob.send({ type: 'CHAT', text: 'not a member', action: false, room: '#lab' });
    expect(await bob.next('ERROR')).toMatchObject({
      code: 'NOT_IN_ROOM',
      fatal: false,
      message: 'you are not in #lab: /join #lab first',
    });
    bob.send({ type: 'JOIN', room: '#lab' });
    await bob.next('JOINED', (m) => m.room === '#Lab');
    // Bob joined after: the message comes to him as history, once.
    const history = await bob.next('HISTORY', (m) => m.room === '#Lab');
    expect(history).toMatchObject({
      entries: [{ id: 1, from: 'alice', text: 'only the lab hears this' }],
      done: true,
      more: false,
    });
    expect(
      await alice.next('NOTICE', (m) => m.event === 'joined' && m.nick === 'bob' && m.room === '#Lab'),
    ).toBeTruthy();
    bob.send({ type: 'CHAT', text: 'hi lab', action: false, room: '#LAB' });
    await alice.next('CHAT', (m) => m.text === 'hi lab' && m.id === 2);
    alice.send({ type: 'PART', room: '#lab', reason: 'lunch' });
    expect(await alice.next('PARTED')).toEqual({ type: 'PARTED', room: '#Lab', reason: 'lunch' });
    expect(await bob.next('NOTICE', (m) => m.event === 'parted')).toEqual({
      type: 'NOTICE',
      event: 'parted',
      nick: 'alice',
      room: '#Lab',
      reason: 'lunch',
    });
    bob.send({ type: 'CHAT', text: 'alice is gone', action: false, room: '#lab' });
    await bob.next('CHAT', (m) => m.text === 'alice is gone');
    // The lobby is still both's; the lab's line never reached alice after she left. Bob's next line, in the
    // lobby, is the marker: the store thread sequences one worker's requests in order and is the only poster
    // of room frames on the bus, so had the lab's line gone to alice it would have reached her before this one.
    bob.send({ type: 'CHAT', text: 'still in the lobby', action: false, room: '#lobby' });
    await alice.next('CHAT', (m) => m.text === 'still in the lobby');
    expect(alice.of('CHAT').map((m) => m.text)).toEqual(['only the lab hears this', 'hi lab', 'still in the lobby']);
  });

  it('topic, names and the room list; a new nick and a departure told once to each who shares a room', async () => {
    const s = await server();
    const alice = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.2' });
    const bob = await rawSession(s.port, 'bob', { version: 2, from: '127.0.0.3' });
    for (const p of [alice, bob]) p.send({ type: 'JOIN', room: '#net' });
    await bob.next('JOINED', (m) => m.room === '#net');
    alice.send({ type: 'TOPIC', room: '#net', text: 'sliding windows today' });
    expect(await bob.next('NOTICE', (m) => m.event === 'topic')).toEqual({
      type: 'NOTICE',
      event: 'topic',
      nick: 'alice',
      room: '#net',
      text: 'sliding windows today',
    });
    bob.send({ type: 'NAMES', room: '#NET' }, { type: 'ROOMS' });
    expect(await bob.next('NAMES_REPLY')).toEqual({
      type: 'NAMES_REPLY',
      room: '#net',
      nicks: ['alice', 'bob'],
      total: 2,
    });
    expect(await bob.next('ROOMS_REPLY')).toEqual({
      type: 'ROOMS_REPLY',
      rooms: [
        { room: '#lobby', members: 2, topic: '' },
        { room: '#net', members: 2, topic: 'sliding windows today' },
      ],
      total: 2,
    });
    alice.send({ type: 'NICK', nick: 'alicia' });
    await bob.next('NOTICE', (m) => m.event === 'nick');
    alice.send({ type: 'BYE', reason: 'done' });
    await bob.next('NOTICE', (m) => m.event === 'left');
    // A second notice for either would be posted by the store thread before it handles bob's next line,
    // and reach bob on the same bus before his own echo of it.
    bob.send({ type: 'CHAT', text: 'marker', action: false, room: '#net' });
    await bob.next('CHAT', (m) => m.text === 'marker');
    // Two shared rooms, one notice each.
    expect(bob.of('NOTICE').filter((m) => m.event === 'nick' || m.event === 'left')).toEqual([
      { type: 'NOTICE', event: 'nick', nick: 'alice', newNick: 'alicia' },
      { type: 'NOTICE', event: 'left', nick: 'alicia', reason: 'done' },
    ]);
    // A joiner later gets the topic in JOINED: it was kept.
    const carol = await rawSession(s.port, 'carol', { version: 2, from: '127.0.0.4' });
    carol.send({ type: 'JOIN', room: '#net' });
    expect(await carol.next('JOINED', (m) => m.room === '#net')).toEqual({
      type: 'JOINED',
      room: '#net',
      topic: 'sliding windows today',
      members: 2,
    });
  });

  it('limits and names: bad names, look-alikes, rooms per user, members per room, all with clear errors', async () => {
    const s = await server(['--max-rooms-per-user', '2', '--max-room-members', '2']);
    const alice = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.2' });
    const bob = await rawSession(s.port, 'bob', { version: 2, from: '127.0.0.3' });
    const carol = await rawSession(s.port, 'carol', { version: 2, from: '127.0.0.4' });
    expect(await carol.next('ERROR')).toMatchObject({
      code: 'ROOM_LIMIT',
      message: 'you are in no room: #lobby has 2 members, the most a room may have',
    });
    alice.send({ type: 'JOIN', room: 'lab' }, { type: 'JOIN', room: '#two words' }, { type: 'JOIN', room: '#paypal' });
    await alice.next('JOINED', (m) => m.room === '#paypal');
    alice.send({ type: 'JOIN', room: '#third' });
    carol.send({ type: 'JOIN', room: '#paypa1' });
    const errors = () => alice.of('ERROR').map((m) => `${m.code}: ${m.message}`);
    await alice.next('ERROR', (m) => m.code === 'ROOM_LIMIT');
    expect(errors()).toEqual([
      `ROOM_INVALID: invalid room name "lab": a room's name starts with # (#lab)`,
      'ROOM_INVALID: invalid room name "#two words": a space (U+0020) cannot be in a room\'s name',
      'ROOM_LIMIT: you are in 2 rooms, the most one user may be in; /part one first',
    ]);
    expect(await carol.next('ERROR', (m) => m.code === 'ROOM_INVALID')).toMatchObject({
      message:
        '#paypa1 looks like #paypal, which exists: join that one, or choose a name that cannot be mistaken for it',
    });
    void bob;
  });

  it('history: the last --history-on-join messages on joining, marked as history; HISTORY_REQUEST pages back and by time', async () => {
    const s = await server(['--history-on-join', '5']);
    const alice = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.2' });
    for (let i = 1; i <= 12; i++) alice.send({ type: 'CHAT', text: `m${i}`, action: false });
    await alice.next('CHAT', (m) => m.text === 'm12');
    const bob = await rawSession(s.port, 'bob', { version: 2, from: '127.0.0.3' });
    const onJoin = await bob.next('HISTORY');
    expect(onJoin.id).toBeUndefined();
    expect(onJoin).toMatchObject({ room: '#lobby', done: true, more: true });
    expect(onJoin.entries.map((e) => e.text)).toEqual(['m8', 'm9', 'm10', 'm11', 'm12']);
    bob.send({ type: 'HISTORY_REQUEST', id: 7, room: '#lobby', before: 8, limit: 4 });
    const page = await bob.next('HISTORY', (m) => m.id === 7);
    expect(page).toMatchObject({ room: '#lobby', done: true, more: true });
    expect(page.entries.map((e) => e.id)).toEqual([4, 5, 6, 7]);
    bob.send({ type: 'HISTORY_REQUEST', id: 8, room: '#lobby', since: onJoin.entries[0]!.ts, limit: 200 });
    const since = await bob.next('HISTORY', (m) => m.id === 8);
    expect(since.entries.length).toBeGreaterThanOrEqual(5);
    expect(since.entries.at(-1)!.text).toBe('m12');
    bob.send({ type: 'HISTORY_REQUEST', id: 9, room: '#elsewhere' });
    expect(await bob.next('ERROR')).toMatchObject({ code: 'NOT_IN_ROOM' });
  });

  it('a version-1 client stays in the default room: it hears the lobby and its notices, nothing it cannot decode', async () => {
    const s = await server();
    const old = await rawSession(s.port, 'old', { version: 1, from: '127.0.0.2' });
    const now = await rawSession(s.port, 'now', { version: 2, from: '127.0.0.3' });
    expect(old.of('WELCOME')[0]).toMatchObject({ version: 1 });
    expect(old.of('WELCOME')[0]).not.toHaveProperty('room');
    now.send(
      { type: 'JOIN', room: '#v2' },
      { type: 'CHAT', text: 'in v2', action: false, room: '#v2' },
      { type: 'TOPIC', room: '#lobby', text: 'new topic' },
      { type: 'CHAT', text: 'in the lobby', action: false },
    );
    await old.next('CHAT', (m) => m.text === 'in the lobby');
    old.send({ type: 'CHAT', text: 'from v1', action: false });
    await now.next('CHAT', (m) => m.text === 'from v1' && m.room === '#lobby');
    // Old's own echo of its line is the marker: everything the store thread posted before it (the v2 room's
    // line, its JOIN, anything else that could reach a version-1 session) reached old before it.
    await old.next('CHAT', (m) => m.text === 'from v1');
    expect(old.got.map((m) => m.type).filter((t) => !['HEARTBEAT'].includes(t))).toEqual([
      'WELCOME',
      'NOTICE',
      'NOTICE',
      'CHAT',
      'CHAT',
    ]);
    old.send({ type: 'JOIN', room: '#v2' });
    expect(await old.next('ERROR')).toMatchObject({
      code: 'UNKNOWN_TYPE',
      fatal: true,
      message: 'JOIN needs protocol version 2 (this session said HELLO with version 1)',
    });
  });
});
