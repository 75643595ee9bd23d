/**
 * The IRC door's people across a cluster's nodes (people-elsewhere.ts): each
 * node keeps its IRC sessions' ident, real name, account and AWAY message in
 * a hash of its own, `{p}irc:NODE` (session key → JSON), and tells every
 * change on one Redis channel, `{p}irc-people`, in the same script, so that a
 * worker that subscribes, then reads the hashes, misses nothing. Each worker
 * keeps the other nodes' people in memory, where WHO, WHOIS, prefixes,
 * account-tag and 301 read them at once.
 *
 * What ends a person: its owner's word at the session's end; a worker that
 * died, said by its node's supervisor (peopleGone); a dead node's sessions
 * when the cluster ends them (the reaper, peopleGone); a node's previous run,
 * at its start (peopleReset). An entry carries its owner's version, so that a
 * message older than what a worker has is dropped.
 */
import { foldCase } from '../../common/unicode/text-policy.js';
import { sessionKey } from '../bus/node-id.js';
import type { ClusterKeys } from '../cluster/keys.js';
import { LuaScript } from '../cluster/lua.js';
import type { RedisLink } from '../cluster/redis-link.js';
import type { SharedPerson } from '../shm/irc-people-table.js';
import type { SlotRef } from '../shm/slot-layout.js';
import type { AwayChange, PeopleElsewhere } from './people-elsewhere.js';

/** A person as kept and told: its nick and its owner's version beside the fields. */
interface Entry extends SharedPerson {
  nick: string;
  v: number;
}

/** What a node tells: its session `k` is `e` now (null: ended), `r` the rooms to tell of an AWAY change; or all of its people are gone. */
type Told = { n: string; k: string; e: Entry | null; r?: string[] } | { n: string; reset: true };

export const peopleChannel = (prefix: string) => `${prefix}irc-people`;
const peopleHash = (prefix: string, node: string) => `${prefix}irc:${node}`;

/** KEYS: the node's hash. ARGV: channel, session key, entry ('': gone), what to tell. */
const TELL = new LuaScript(
  'irc-people-tell',
  `
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[2]) else redis.call('HSET', KEYS[1], ARGV[2], ARGV[3]) end
redis.call('PUBLISH', ARGV[1], ARGV[4])
`,
);

/** Versions only ever rise within a worker, across its restarts too (a session is its owner's alone). */
let version = Date.now() * 1000;

export class ClusterPeople implements PeopleElsewhere {
  private readonly byKey = new Map<string, Entry & { node: string }>();
  private readonly byNick = new Map<string, string>();
  private readonly listeners: Array<(change: AwayChange) => void> = [];
  /**
   * Sessions ended and nodes reset while start() reads the hashes (null once read): a hash read before the end
   * was told, but answered after, must not bring them back.
   */
  private whileReading: { ended: Set<string>; reset: Set<string> } | null = { ended: new Set(), reset: new Set() };

  private readonly prefix: string;

  /** This node's people are told from now on; the others' are known once start() has read them. */
  constructor(
    private readonly link: RedisLink,
    private readonly keys: ClusterKeys,
    private readonly node: string,
  ) {
    this.prefix = keys.prefix;
  }

  /**
   * Subscribed on a listener (a connection of its own: a subscribed one does nothing else), then every other
   * node's people read. The listener never keeps the worker alive (unref); the thread's end closes it.
   */
  async start(openListener: () => Promise<RedisLink>): Promise<void> {
    const listener = await openListener();
    listener.unref();
    await listener.subscribe(peopleChannel(this.prefix), (json) => this.apply(json));
    for (const other of await this.link.sMembers(this.keys.nodes)) {
      if (other === this.node) continue;
      const all = await this.link.hGetAll(peopleHash(this.prefix, other));
      for (const [k, json] of Object.entries(all)) if (!this.gone(other, k)) this.put(other, k, parseEntry(json));
    }
    this.whileReading = null;
  }

  private gone(node: string, k: string): boolean {
    return this.whileReading !== null && (this.whileReading.reset.has(node) || this.whileReading.ended.has(k));
  }

  tell(at: SlotRef, nick: string, person: SharedPerson | null, awayIn?: string[]): void {
    const k = sessionKey({ node: this.node, ...at });
    const e: Entry | null = person && { nick, v: ++version, ...sharedOf(person) };
    const told: Told = { n: this.node, k, e, ...(awayIn ? { r: awayIn } : {}) };
    const args = [peopleChannel(this.prefix), k, e ? JSON.stringify(e) : '', JSON.stringify(told)];
    // A link that is down loses the change: the others show this person as they last knew it, until its next one.
    TELL.run(this.link, [peopleHash(this.prefix, this.node)], args).catch(() => undefined);
  }

  get(nick: string): SharedPerson | undefined {
    const k = this.byNick.get(foldCase(nick));
    return k === undefined ? undefined : this.byKey.get(k);
  }

  onAway(listener: (change: AwayChange) => void): void {
    this.listeners.push(listener);
  }

  /** What a node told. */
  private apply(json: string): void {
    let told: Told;
    try {
      told = JSON.parse(json) as Told;
    } catch {
      return;
    }
    if (told.n === this.node) return;
    if ('reset' in told) {
      for (const [k, e] of this.byKey) if (e.node === told.n) this.drop(k);
      this.whileReading?.reset.add(told.n);
      return;
    }
    if (told.e === null) this.drop(told.k);
    else this.put(told.n, told.k, told.e);
    if (told.r && told.e) {
      const change = { nick: told.e.nick, message: told.e.awayMessage ?? null, rooms: told.r };
      for (const listener of this.listeners) listener(change);
    }
  }

  private put(node: string, k: string, e: Entry | null): void {
    if (!e) return;
    const had = this.byKey.get(k);
    if (had && had.v >= e.v) return;
    if (had && this.byNick.get(foldCase(had.nick)) === k) this.byNick.delete(foldCase(had.nick));
    this.byKey.set(k, { ...e, node });
    this.byNick.set(foldCase(e.nick), k);
  }

  private drop(k: string): void {
    this.whileReading?.ended.add(k);
    const had = this.byKey.get(k);
    if (!had) return;
    this.byKey.delete(k);
    if (this.byNick.get(foldCase(had.nick)) === k) this.byNick.delete(foldCase(had.nick));
  }
}

function sharedOf(p: SharedPerson): SharedPerson {
  return {
    ident: p.ident,
    realname: p.realname,
    ...(p.account !== undefined ? { account: p.account } : {}),
    ...(p.awayMessage !== undefined ? { awayMessage: p.awayMessage } : {}),
  };
}

function parseEntry(json: string): Entry | null {
  try {
    const e = JSON.parse(json) as Entry;
    return typeof e.nick === 'string' && typeof e.v === 'number' ? e : null;
  } catch {
    return null;
  }
}

/** Sessions of `node` that ended without their worker's word (it died, or the node did): the others forget them. */
export async function peopleGone(link: RedisLink, prefix: string, node: string, keys: string[]): Promise<void> {
  for (const k of keys) {
    const told: Told = { n: node, k, e: null };
    await TELL.run(link, [peopleHash(prefix, node)], [peopleChannel(prefix), k, '', JSON.stringify(told)]);
  }
}

/** A node starting: its previous run's people (an IRC session does not outlive its node) are gone everywhere. */
export async function peopleReset(link: RedisLink, prefix: string, node: string): Promise<void> {
  await link.del(peopleHash(prefix, node));
  await link.publish(peopleChannel(prefix), JSON.stringify({ n: node, reset: true } satisfies Told));
}
