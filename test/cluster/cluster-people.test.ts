/**
 * The IRC door's people across nodes (server/irc-door/cluster-people.ts) on a real redis-server: two nodes' doors
 * (IrcPeople over ClusterPeople, each with its own session table's view) see each other's IRC users' real name,
 * ident, account and AWAY, hear AWAY changes, follow a rename and an end; a node that starts later reads those
 * already there; a dead worker's or node's people (peopleGone) and a node's previous run (peopleReset) are forgotten.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterPeople, peopleGone, peopleReset } from '../../server/irc-door/cluster-people.js';
import { IrcPeople, type AwayChange } from '../../server/irc-door/irc-people.js';
import { clusterKeys } from '../../server/cluster/keys.js';
import { closeRedis, type RedisLink } from '../../server/cluster/redis-link.js';
import { openRedis } from '../../server/cluster/open-redis.js';
import { parseRedisUrl } from '../../server/cluster/redis-url.js';
import { sessionKey } from '../../server/bus/node-id.js';
import { IrcPeopleTable } from '../../server/shm/irc-people-table.js';
import type { Transport } from '../../server/shm/slot-layout.js';
import { startRedis, type RedisUnderTest } from '../helpers/redis-server.js';

let redis: RedisUnderTest;
const links: RedisLink[] = [];
let clusters = 0;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(links.map(closeRedis));
  await redis.stop();
});

const open = async () => {
  const link = await openRedis(parseRedisUrl(redis.url));
  links.push(link);
  return link;
};

type Slots = Map<string, { slot: number; generation: number; transport: Transport }>;

/** A node's door: its session table's view (`slots`) and the other nodes' people from Redis. */
async function door(keys: ReturnType<typeof clusterKeys>, node: string, slots: Slots) {
  const link = await open();
  await link.sAdd(keys.nodes, node);
  const elsewhere = new ClusterPeople(link, keys, node);
  await elsewhere.start(open);
  const where = (nick: string) => slots.get(nick.toLowerCase()) ?? null;
  const people = new IrcPeople(where, IrcPeopleTable.create(16), null, elsewhere);
  const heard: AwayChange[] = [];
  people.listen((c) => heard.push(c));
  return { link, people, heard };
}

async function until(ok: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the IRC door’s people across nodes', () => {
  it('are told to the other nodes: real name, ident, account, AWAY (heard), a rename, an end', async () => {
    const keys = clusterKeys(`p${++clusters}:`);
    const n1Slots: Slots = new Map([['alice', { slot: 3, generation: 7, transport: 'irc' }]]);
    const n1 = await door(keys, 'n1', n1Slots);
    const n2 = await door(keys, 'n2', new Map([['bob', { slot: 1, generation: 1, transport: 'tcp' }]]));
    const alice = { ident: 'al', realname: 'Alice Liddell' };
    n1.people.add('alice', alice);
    await until(() => n2.people.infoOf('Alice').realname === 'Alice Liddell', 'alice on n2');
    expect(n2.people.doorOf('alice')).toEqual({ kind: 'irc', ident: 'al' });
    expect(n2.people.infoOf('bob').realname).toBeUndefined(); // n2's own chat user: never another node's

    Object.assign(alice, { account: 'alice', awayMessage: 'at lunch' });
    n1.people.awayChanged('alice', alice, ['#lobby']);
    await until(() => n2.heard.length === 1, 'the AWAY heard on n2');
    expect(n2.heard).toEqual([{ nick: 'alice', message: 'at lunch', rooms: ['#lobby'] }]);
    expect([n2.people.accountOf('alice'), n2.people.awayOf('alice')]).toEqual(['alice', 'at lunch']);

    n1Slots.set('alys', n1Slots.get('alice')!);
    n1Slots.delete('alice');
    n1.people.renamed('alice', 'alys', alice);
    await until(() => n2.people.infoOf('alys').realname === 'Alice Liddell', 'the new nick on n2');
    expect(n2.people.infoOf('alice').realname).toBeUndefined();
    n1.people.remove('alys', alice);
    await until(() => n2.people.infoOf('alys').realname === undefined, 'the end on n2');
  });

  it('a node that starts later reads those already there; a dead worker’s, a dead node’s and a previous run’s are forgotten', async () => {
    const keys = clusterKeys(`p${++clusters}:`);
    const n1Slots: Slots = new Map([
      ['ann', { slot: 1, generation: 4, transport: 'irc' }],
      ['ben', { slot: 2, generation: 4, transport: 'irc' }],
    ]);
    const n1 = await door(keys, 'n1', n1Slots);
    n1.people.add('ann', { ident: 'ann', realname: 'Ann' });
    n1.people.add('ben', { ident: 'ben', realname: 'Ben' });
    // Told through Redis on n1's own link: by the time its next command is answered, the hash has them.
    await n1.link.ping();
    const n3 = await door(keys, 'n3', new Map());
    expect([n3.people.infoOf('ann').realname, n3.people.infoOf('ben').realname]).toEqual(['Ann', 'Ben']);

    await peopleGone(n1.link, keys.prefix, 'n1', [sessionKey({ node: 'n1', slot: 1, generation: 4 })]);
    await until(() => n3.people.infoOf('ann').realname === undefined, 'ann forgotten');
    expect(n3.people.infoOf('ben').realname).toBe('Ben');
    await peopleReset(n1.link, keys.prefix, 'n1');
    await until(() => n3.people.infoOf('ben').realname === undefined, 'n1’s run forgotten');
    expect(await n1.link.hLen(`${keys.prefix}irc:n1`)).toBe(0);
  });

  it('an end told while a starting worker reads the hashes is not undone by a reply read before it', async () => {
    const keys = clusterKeys('race:');
    let deliver: (json: string) => void = () => undefined;
    const listener = { unref: () => undefined, subscribe: (_: string, cb: (json: string) => void) => (deliver = cb) };
    const entry = (nick: string) => JSON.stringify({ nick, v: 1, ident: nick, realname: nick.toUpperCase() });
    const link = {
      sMembers: () => Promise.resolve(['n1', 'n2', 'n3']),
      hGetAll: (hash: string) => {
        // n1's ann ended, and n3 started again, after Redis read these hashes but before the replies arrived.
        if (hash.endsWith(':n1')) deliver(JSON.stringify({ n: 'n1', k: 'n1/1:1', e: null }));
        if (hash.endsWith(':n3')) deliver(JSON.stringify({ n: 'n3', reset: true }));
        const all: Record<string, Record<string, string>> = {
          'race:irc:n1': { 'n1/1:1': entry('ann'), 'n1/2:1': entry('ben') },
          'race:irc:n3': { 'n3/1:1': entry('cat') },
        };
        return Promise.resolve(all[hash] ?? {});
      },
    };
    const people = new ClusterPeople(link as unknown as RedisLink, keys, 'n2');
    await people.start(() => Promise.resolve(listener as unknown as RedisLink));
    expect([people.get('ann'), people.get('ben')?.realname, people.get('cat')]).toEqual([undefined, 'BEN', undefined]);
  });
});
