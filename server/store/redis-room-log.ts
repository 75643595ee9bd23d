/**
 * The cluster's RoomLog (store/room-log.ts): every conversation a Redis
 * Stream (room-log-scripts.ts), appended by whichever node's store thread
 * takes the turn, read by all. A node appends its turns one after another,
 * as LocalRoomLog does, so that each is published before the next is stored:
 * on the node's ClusterBus (cluster/cluster-bus.ts), as one batch with the ids it
 * stored, which every node delivers in each conversation's id order. Turns of
 * different nodes interleave in Redis, each conversation's ids still one
 * more each.
 *
 * Entries are kept as the JSON of what was appended; a direct message's
 * parties filter the reads in the node, reading on until the page is full.
 */
import { randomBytes } from 'node:crypto';
import type { ConversationKey, NewEntry, Retention, StoredEntry } from './history.js';
import type { HistoryReader } from './history-reader.js';
import type { Appended, LogTurn, RoomLog } from './room-log.js';
import { StoreError } from './store-error.js';
import { TurnSequence } from './turn-sequence.js';
import type { ClusterKeys } from '../cluster/keys.js';
import { BUS_KEEP, type TurnBus } from '../cluster/cluster-bus.js';
import { encodeTurnTemplate } from '../cluster/bus-ops.js';
import type { RedisLink } from '../cluster/redis-link.js';
import { IdsGivenAgain } from './ids-given-again.js';
import { APPEND, NEW_EPOCH, FIRST_SINCE } from './room-log-scripts.js';
import { pruneClusterLog, retentionKeys } from './redis-retention.js';
import { RedisReader } from './redis-reader.js';
import { appendFailure, sendUntilAnswered } from './append-retry.js';

/** Entries read from Redis per round trip while a page that filters by parties fills. */
const READ_CHUNK = 128;

type StreamEntry = { id: string; message: Record<string, string> };

export class RedisRoomLog implements RoomLog {
  private readonly turns = new TurnSequence(
    (entries, turn) => this.store(entries, turn),
    () => this.epoch,
    (turn, stored, failure) => this.publish(turn, stored, failure),
  );

  private readonly given = new IdsGivenAgain((conv) => this.bus.highestSeen?.(conv) ?? 0);
  /** The turn being stored had its bus entry written by the append script. */
  private posted = false;
  /** This run of the log (its last turn's token and answer are kept in Redis under it: room-log-scripts.ts APPEND). */
  private readonly run = randomBytes(6).toString('hex');
  private turnsSent = 0;

  private constructor(
    private readonly link: RedisLink,
    private readonly keys: ClusterKeys,
    readonly bus: TurnBus,
    private current: string,
  ) {}

  /** The log of the cluster under these keys; its epoch made by the first node that opens it. */
  static async open(link: RedisLink, keys: ClusterKeys, bus: TurnBus): Promise<RedisRoomLog> {
    return new RedisRoomLog(link, keys, bus, await readEpoch(link, keys));
  }

  /**
   * Names the ids: a Redis that lost its data (restarted without persistence, or a failover to a replica that
   * had not caught up) starts a new epoch, and the next append learns it, so that clients know the ids they
   * hold mean nothing now (docs/PROTOCOL.md, "Resume").
   */
  get epoch(): string {
    return this.current;
  }

  append(turn: LogTurn): Promise<Appended> {
    return this.turns.append(turn);
  }

  /** What the turn posts goes as one batch on the cluster's bus, with the ids it stored. */
  private publish(turn: LogTurn, stored: Appended | null, failure: StoreError | null): void {
    this.bus.beginTurn();
    try {
      turn.publish(stored, failure);
    } finally {
      this.bus.endTurn(stored ? stored.entries.map((e): [string, number] => [e.conv, e.id]) : [], this.posted);
      this.posted = false;
    }
  }

  /**
   * A turn that posts only its messages to their rooms has its bus entry written by the append script, when the
   * bus can put it next in this node's order (bus-writer.ts reserve): one round trip from the turn to every node.
   */
  private async store(batch: readonly NewEntry[], turn: LogTurn): Promise<StoredEntry[]> {
    // What this node has seen of each conversation before asking: a Redis that lost its last writes gives ids again.
    const seen = new Map(batch.map((e) => [e.conv, this.given.seen(e.conv)]));
    const epoch = this.current;
    const head = turn.posts ? (this.bus.reserveTurn?.() ?? null) : null;
    const template = head && turn.posts ? encodeTurnTemplate(head, batch, turn.posts) : '';
    const stored = await this.appendScript(batch, template).catch((err: unknown) => {
      // In doubt, its bus entry in the script: should it have run, its entry is delivered here when it comes by.
      if (head && err instanceof StoreError && err.code === 'STORE_IN_DOUBT') this.bus.inDoubt?.(head.seq);
      throw err;
    });
    this.posted = template !== '';
    // Appended under an epoch another node has just started: what was seen before is of the old one.
    if (this.given.stored(stored, seen) && this.current === epoch) await this.newEpoch();
    return stored;
  }

  private epochIs(epoch: string): void {
    if (epoch === this.current) return;
    this.current = epoch;
    this.given.newEpoch();
  }

  /**
   * Ids given again: Redis lost what it had last been told (AOF everysec after a crash, a failover to a replica
   * behind). The log starts a new epoch (unless another node already did), and this turn goes out under it: a
   * client's ids from before then mean nothing, as after a Redis that came back empty.
   */
  private async newEpoch(): Promise<void> {
    const fresh = randomBytes(8).toString('hex');
    const key = `${this.keys.prefix}epoch`;
    this.epochIs(await this.read(async () => String(await NEW_EPOCH.run(this.link, [key], [this.current, fresh]))));
  }

  private async appendScript(batch: readonly NewEntry[], template: string): Promise<StoredEntry[]> {
    const keys = [
      this.ids,
      `${this.ids}:ts`,
      this.bytes,
      `${this.keys.prefix}epoch`,
      `${this.keys.prefix}bus`,
      `${this.keys.prefix}turn:${this.run}`,
      retentionKeys(this.keys).heads,
      ...batch.map((e) => this.stream(e.conv)),
    ];
    const token = `${++this.turnsSent}`;
    const args = [template, String(BUS_KEEP), token, ...batch.flatMap((e) => [e.conv, JSON.stringify(e)])];
    const out = (await sendUntilAnswered(() =>
      APPEND.run(this.link, keys, [this.current, ...args]).catch(async (err: unknown) => {
        if (!/EPOCH/.test((err as Error).message)) throw err;
        this.epochIs(await readEpoch(this.link, this.keys));
        return APPEND.run(this.link, keys, [this.current, ...args]);
      }),
    ).catch((err: unknown) => {
      throw appendFailure(err);
    })) as number[];
    return batch.map((e, i) => ({ ...e, id: Number(out[2 * i]), ts: Number(out[2 * i + 1]) }));
  }

  /** The direct conversations a nick (folded) has taken part in (the append script lists them). */
  async directConversations(foldedNick: string): Promise<ConversationKey[]> {
    return (await this.read(() => this.link.sMembers(`${this.keys.prefix}dms:${foldedNick}`))) as ConversationKey[];
  }

  async lastId(conv: ConversationKey): Promise<number> {
    return Number((await this.read(() => this.link.hGet(this.ids, conv))) ?? 0);
  }

  after(conv: ConversationKey, afterId: number, limit: number, parties?: readonly string[]): Promise<StoredEntry[]> {
    return this.forward(conv, afterId + 1, limit, parties);
  }

  async before(
    conv: ConversationKey,
    beforeId: number,
    limit: number,
    parties?: readonly string[],
  ): Promise<StoredEntry[]> {
    const out: StoredEntry[] = [];
    let end = beforeId === Infinity ? '+' : `(${beforeId}-0`;
    while (out.length < limit) {
      const chunk =
        (await this.read(() => this.link.xRevRange(this.stream(conv), end, '-', { COUNT: READ_CHUNK }))) ?? [];
      for (const e of chunk.map(entryOf)) if (out.length < limit && visible(e, parties)) out.push(e);
      if (chunk.length < READ_CHUNK) break;
      end = `(${chunk.at(-1)!.id}`;
    }
    return out.reverse();
  }

  async since(
    conv: ConversationKey,
    sinceTs: number,
    limit: number,
    parties?: readonly string[],
  ): Promise<StoredEntry[]> {
    const first = Number(await this.read(() => FIRST_SINCE.run(this.link, [this.stream(conv)], [String(sinceTs)])));
    return first === 0 ? [] : this.forward(conv, first, limit, parties);
  }

  /** HISTORY_REQUEST pages, read from the streams on the store thread (a round trip each, never a block). */
  reader(): HistoryReader {
    return new RedisReader(this);
  }

  /** Up to `limit` entries from id `from` on, oldest first. */
  private async forward(
    conv: ConversationKey,
    from: number,
    limit: number,
    parties?: readonly string[],
  ): Promise<StoredEntry[]> {
    const out: StoredEntry[] = [];
    let start = `${from}-0`;
    while (out.length < limit) {
      const chunk =
        (await this.read(() => this.link.xRange(this.stream(conv), start, '+', { COUNT: READ_CHUNK }))) ?? [];
      for (const e of chunk.map(entryOf)) if (out.length < limit && visible(e, parties)) out.push(e);
      if (chunk.length < READ_CHUNK) break;
      start = `(${chunk.at(-1)!.id}`;
    }
    return out;
  }

  /** Retention over the whole cluster's log, by one node at a time (redis-retention.ts). */
  prune(now: number, retention: Retention): Promise<number> {
    return pruneClusterLog(this.link, this.keys, now, retention);
  }

  /** The JSON of the entries kept, in bytes (what --history-max-size bounds). */
  async keptBytes(): Promise<number> {
    return Number((await this.read(() => this.link.get(this.bytes))) ?? 0);
  }

  private get ids(): string {
    return retentionKeys(this.keys).ids;
  }

  private get bytes(): string {
    return retentionKeys(this.keys).bytes;
  }

  private stream(conv: ConversationKey): string {
    return retentionKeys(this.keys).streams + conv;
  }

  private async read<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      throw new StoreError('STORE_IO', `cannot read the cluster's room log: ${(err as Error).message}`);
    }
  }
}

function entryOf(e: StreamEntry): StoredEntry {
  return { ...(JSON.parse(e.message.e!) as NewEntry), id: Number(e.id.split('-')[0]), ts: Number(e.message.ts) };
}

/** No parties asked: every entry; else only a direct message one of them took part in (as the SQLite reads filter). */
function visible(e: StoredEntry, parties?: readonly string[]): boolean {
  return !parties || (e.parties?.some((p) => parties.includes(p)) ?? false);
}

/** The log's epoch, made (SET NX) by the first node that asks when there is none. */
async function readEpoch(link: RedisLink, keys: ClusterKeys): Promise<string> {
  const key = `${keys.prefix}epoch`;
  try {
    await link.set(key, randomBytes(8).toString('hex'), { condition: 'NX' });
    const epoch = await link.get(key);
    if (epoch === null) throw new Error(`${key} is gone`);
    return epoch;
  } catch (err) {
    throw new StoreError('STORE_IO', `cannot open the cluster's room log: ${(err as Error).message}`);
  }
}
