/**
 * Request references (PROTOCOL.md, "Request references"): a request sent
 * with `ref` gets it back on every frame that answers it to its sender (the
 * echo of its room message and of its direct message, JOINED and the join's
 * own NOTICE, PARTED, NAMES_REPLY, ROOMS_REPLY, WHO_REPLY, a nick's NOTICE,
 * a topic's NOTICE, each refusal, the worker's and the store's), never on
 * the copies the others get, and requests without one are answered as
 * before. A refusal made at once by the worker and an earlier request's echo
 * from the store come back out of order: the ref says which is which. The
 * sender's own copy of a room post crosses the thread bus from the store
 * thread beside the room's; in a cluster (two nodes on a real Redis), the
 * room's copy crosses to the other node and the sender's stays on its own.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rawSession, rawSessionServers } from '../helpers/raw-session.js';
import { startClient, stopAll } from '../helpers/processes.js';
import { startRedis, type RedisUnderTest } from '../helpers/redis-server.js';
import { until } from '../helpers/wait.js';

const server = rawSessionServers(afterEach);
let redis: RedisUnderTest;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

describe('request references', () => {
  it('come back on what answers the request, only to its sender', async () => {
    const s = await server();
    const alice = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.2' });
    const bob = await rawSession(s.port, 'bob', { version: 2, from: '127.0.0.3' });
    await alice.next('JOINED');
    await bob.next('JOINED');

    // Four requests at once: the second is refused by the worker before the first is stored and echoed.
    alice.send(
      { type: 'CHAT', text: 'hello', action: false, room: '#lobby', ref: 'c1' },
      { type: 'CHAT', text: '\u200b', action: false, room: '#lobby', ref: 'c2' },
      { type: 'DIRECT', to: 'nobody_here', text: 'x', ref: 'c3' },
      { type: 'CHAT', text: 'second', action: false, room: '#lobby', ref: 'c4' },
    );
    await alice.next('CHAT', (m) => m.text === 'second');
    await until(
      () => alice.of('ERROR').length >= 2,
      5000,
      () => JSON.stringify(alice.got),
    );
    const errors = alice.of('ERROR');
    expect(errors.find((e) => e.ref === 'c2')?.code).toBe('TEXT_INVALID');
    expect(errors.find((e) => e.ref === 'c3')?.code).toBe('NO_SUCH_NICK');
    expect(alice.of('CHAT').map((m) => [m.text, m.ref])).toEqual([
      ['hello', 'c1'],
      ['second', 'c4'],
    ]);
    // The others' copy is the room's, without the sender's ref.
    await bob.next('CHAT', (m) => m.text === 'second');
    expect(bob.of('CHAT').every((m) => m.ref === undefined)).toBe(true);

    alice.send({ type: 'DIRECT', to: 'bob', text: 'psst', ref: 'd1' });
    expect((await alice.next('DIRECT', (m) => m.text === 'psst')).ref).toBe('d1');
    expect((await bob.next('DIRECT', (m) => m.text === 'psst')).ref).toBeUndefined();

    alice.send({ type: 'JOIN', room: '#refs', ref: 'j1' });
    expect((await alice.next('JOINED', (m) => m.room === '#refs')).ref).toBe('j1');
    const own = alice.of('NOTICE').find((n) => n.event === 'joined' && n.room === '#refs');
    expect(own?.ref).toBe('j1');
    bob.send({ type: 'JOIN', room: '#refs' });
    await bob.next('JOINED', (m) => m.room === '#refs');
    expect(bob.of('JOINED').every((m) => m.ref === undefined)).toBe(true);
    const seen = await alice.next('NOTICE', (n) => n.event === 'joined' && n.nick === 'bob');
    expect(seen.ref).toBeUndefined();

    alice.send(
      { type: 'NAMES', room: '#refs', ref: 'n1' },
      { type: 'NAMES', room: '#none', ref: 'n2' },
      { type: 'ROOMS', ref: 'l1' },
      { type: 'TOPIC', room: '#refs', ref: 't1' },
      { type: 'TOPIC', room: '#refs', text: 'labels', ref: 't2' },
      { type: 'WHO', ref: 'w1' },
      { type: 'PART', room: '#nowhere', ref: 'p0' },
      { type: 'JOIN', room: 'no spaces', ref: 'j2' },
    );
    expect((await alice.next('NAMES_REPLY', (m) => m.ref === 'n1')).nicks).toEqual(['alice', 'bob']);
    expect((await alice.next('ERROR', (m) => m.ref === 'n2')).code).toBe('NO_SUCH_ROOM');
    expect((await alice.next('ROOMS_REPLY', (m) => m.ref === 'l1')).total).toBe(2);
    expect((await alice.next('ROOMS_REPLY', (m) => m.ref === 't1')).rooms[0]?.room).toBe('#refs');
    expect((await alice.next('NOTICE', (m) => m.ref === 't2')).event).toBe('topic');
    expect((await bob.next('NOTICE', (m) => m.event === 'topic')).ref).toBeUndefined();
    expect((await alice.next('WHO_REPLY', (m) => m.ref === 'w1')).total).toBe(2);
    expect((await alice.next('ERROR', (m) => m.ref === 'p0')).code).toBe('NOT_IN_ROOM');
    expect((await alice.next('ERROR', (m) => m.ref === 'j2')).code).toBe('ROOM_INVALID');

    alice.send({ type: 'NICK', nick: 'alicia', ref: 'k1' }, { type: 'NICK', nick: 'bob', ref: 'k2' });
    expect((await alice.next('NOTICE', (m) => m.ref === 'k1')).newNick).toBe('alicia');
    expect((await alice.next('ERROR', (m) => m.ref === 'k2')).code).toBe('NICK_TAKEN');
    expect((await bob.next('NOTICE', (m) => m.event === 'nick')).ref).toBeUndefined();
    // The same nick again changes nothing; with a ref, it is still answered.
    alice.send({ type: 'NICK', nick: 'alicia', ref: 'k3' });
    expect(await alice.next('NOTICE', (m) => m.ref === 'k3')).toMatchObject({ nick: 'alicia', newNick: 'alicia' });

    alice.send({ type: 'PART', room: '#refs', ref: 'p1' });
    expect((await alice.next('PARTED', (m) => m.room === '#refs')).ref).toBe('p1');

    // Without refs, nothing carries one.
    bob.send({ type: 'CHAT', text: 'plain', action: false, room: '#lobby' }, { type: 'JOIN', room: '#plain' });
    await bob.next('JOINED', (m) => m.room === '#plain');
    await bob.next('CHAT', (m) => m.text === 'plain');
    expect(bob.got.filter((m) => 'ref' in m && m.ref !== undefined)).toEqual([]);
  });

  it('a ref that is not 1 to 64 printable ASCII characters is a bad frame', async () => {
    const s = await server();
    const alice = await rawSession(s.port, 'alice', { version: 2 });
    alice.send({ type: 'CHAT', text: 'x', action: false, ref: 'has space' });
    const err = await alice.next('ERROR');
    expect(err).toMatchObject({ code: 'BAD_FRAME', fatal: true });
    expect(err.message).toContain('ref');
    // The terminal client, which sends none, is unaffected.
    const c = await startClient(s.port, 'carol');
    c.send('hi');
    await c.waitFor('<carol> hi');
    await stopAll(c);
  });

  it('in a cluster: the sender on one node gets its ref, a member on the other node the room copy', async () => {
    const n1 = await server(['--redis', `${redis.url}/1`, '--node-id', 'n1']);
    const n2 = await server(['--redis', `${redis.url}/1`, '--node-id', 'n2']);
    const alice = await rawSession(n1.port, 'alice', { version: 2 });
    const bob = await rawSession(n2.port, 'bob', { version: 2 });
    await alice.next('JOINED');
    await bob.next('JOINED');
    alice.send(
      { type: 'JOIN', room: '#across', ref: 'j' },
      { type: 'CHAT', text: 'over the nodes', action: false, room: '#lobby', ref: 'c' },
    );
    expect((await alice.next('JOINED', (m) => m.room === '#across')).ref).toBe('j');
    expect((await alice.next('CHAT', (m) => m.text === 'over the nodes')).ref).toBe('c');
    expect((await bob.next('CHAT', (m) => m.text === 'over the nodes')).ref).toBeUndefined();
    alice.send({ type: 'NICK', nick: 'alicia', ref: 'n' });
    expect((await alice.next('NOTICE', (m) => m.event === 'nick')).ref).toBe('n');
    expect((await bob.next('NOTICE', (m) => m.event === 'nick')).ref).toBeUndefined();
  });
});
