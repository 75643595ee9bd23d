/**
 * The room bus of a cluster node's store thread: what it posts reaches this
 * node's workers (the thread bus) and, through one Redis Stream (`{p}bus`),
 * every other node, whose store thread reads the stream from the last entry
 * it has seen (XREAD BLOCK on a connection of its own), so that a node whose
 * link blips reads what it missed when it is back instead of losing it, as
 * Socket.IO's Redis Streams adapter resumes its stream. A turn's posts go as
 * one entry (RedisRoomLog brackets its publish with beginTurn/endTurn),
 * carrying the ids the turn stored; every batch, this node's and the
 * others', passes through OrderedDelivery, so each conversation is in id
 * order on every node. This node's batches are written in order
 * (bus-writer.ts), and reach its own sessions once written, so that an
 * echoed message is on every node's way; one written twice after a blip is
 * taken once (run and seq). A turn that posts only its messages to their
 * rooms is written by the log's append script (reserveTurn), in the round
 * trip that stores it. The stream keeps about BUS_KEEP entries: a node cut
 * off longer than that takes up at the oldest kept.
 */
import { randomBytes } from 'node:crypto';
import type { OwnCopy, RoomBus, RoomRef, SessionAddress } from '../bus/room-bus.js';
import { decodeBatch, encodeBatch, type BatchHead, type BusBatch, type BusOp } from './bus-ops.js';
import { BusWriter, type Reserved } from './bus-writer.js';
import type { ClusterKeys } from './keys.js';
import { OrderedDelivery, TIMERS, type DeliveryClock } from './ordered-delivery.js';
import { TakenEntries } from './taken-entries.js';
import type { RedisLink } from './redis-link.js';
import {
  decodeMemberState,
  type DirectoryChange,
  type DirectoryChannel,
  type DirectorySnapshot,
} from '../bus/directory-change.js';
import { decodeTopic } from './directory-scripts.js';

/**
 * How long a conversation's gap is waited for before what follows it goes (ordered-delivery.ts): longer than a
 * node's usual stalls (a GC pause, its bus writer retrying a blip every 200 ms), since a gap passed over delivers
 * the late one out of order; short enough that a node dead between storing and posting holds the others up briefly.
 */
export const GAP_WAIT_MS = 2000;
const READ_BLOCK_MS = 1000;
const READ_COUNT = 512;
const RETRY_MS = 200;
export { BUS_KEEP, MAX_UNSENT } from './bus-writer.js';

export interface ClusterBusOptions {
  /** Said once per trouble (a write or read failing, entries dropped), and when it ends. */
  log(detail: Record<string, unknown>, msg: string): void;
  /** Another node moved or ended a session of this node's (letGo there): this node lets go of it. */
  letGo?(target: SessionAddress, nick: string, how: 'moved' | 'ended'): void;
  /** Another node kicked a session of this node's (its operator): this node ends it (default: the thread bus's kick). */
  kicked?(target: SessionAddress, reason: string): void;
  clock?: DeliveryClock;
}

/** A bus whose posts made during a turn's publish can be told apart (redis-room-log.ts calls these). */
export interface TurnBus extends RoomBus {
  beginTurn(): void;
  /** `posted`: the append script wrote the turn's entry (reserveTurn), so it is delivered here without a write. */
  endTurn(ids: Array<[conv: string, id: number]>, posted?: boolean): void;
  /**
   * The next place in this node's order for the turn being stored, when nothing of this node's is waiting to be
   * written before it (else null: the turn is posted after its append, as others are). endTurn fills it.
   */
  reserveTurn?(): Required<BatchHead> | null;
  /** The highest id of the conversation this node has seen go by (0: none): the log's ids must pass it. */
  highestSeen?(conv: string): number;
  /** The turn with place `seq` (reserveTurn) was given up in doubt: its entry, if its script ran, is delivered here too. */
  inDoubt?(seq: number): void;
}

export class ClusterBus implements TurnBus, DirectoryChannel {
  private turn: BusOp[] | null = null;
  private reserved: { seq: number; slot: Reserved } | null = null;
  private readonly out: BusWriter;
  private readonly stream: string;
  private reading = true;
  private lastId = '0-0';
  private readonly run = randomBytes(6).toString('hex');
  private seq = 0;
  /** Which entries of the stream this node takes (taken-entries.ts). */
  private readonly entries: TakenEntries;
  private gate: OrderedDelivery | null = null;
  private readonly clock: DeliveryClock;
  private readLoop: Promise<void> | null = null;
  private receivedCount = 0;
  private directory: DirectorySnapshot = { members: [], topics: new Map() };
  private applyDirectory: ((change: DirectoryChange) => void) | null = null;

  constructor(
    /** This node's thread bus: what reaches its workers. */
    private readonly local: RoomBus,
    writer: RedisLink,
    /** A connection of its own: XREAD BLOCK holds it. */
    private readonly reader: RedisLink,
    private readonly keys: ClusterKeys,
    readonly node: string,
    private readonly opts: ClusterBusOptions,
  ) {
    const directory: [string, string] = [keys.directory, keys.topics];
    this.stream = `${keys.prefix}bus`;
    this.out = new BusWriter(writer, this.stream, directory, (b) => this.started.push(b), opts.log);
    this.clock = opts.clock ?? TIMERS;
    this.entries = new TakenEntries(node, this.run);
  }

  /**
   * Takes the stream's end as it is now (what was posted before this node started is not its to deliver), with
   * every conversation's last id and the room directory as they are now (read in the same step): where the id
   * order and the directory start from. listen() then reads on from there.
   */
  async start(): Promise<void> {
    const [last, ids, members, topics] = (await this.reader
      .multi()
      .xRevRange(this.stream, '+', '-', { COUNT: 1 })
      .hGetAll(`${this.keys.prefix}ids`)
      .hGetAll(this.keys.directory)
      .hGetAll(this.keys.topics)
      .exec()) as unknown as [Array<{ id: string }> | null, ...Array<Record<string, string> | null>];
    this.lastId = last?.[0]?.id ?? '0-0';
    const known = new Map(Object.entries(ids ?? {}).map(([conv, id]) => [conv, Number(id) + 1]));
    this.gate = new OrderedDelivery((b) => this.deliver(b), this.clock, GAP_WAIT_MS, known);
    this.takeSnapshot(members ?? {}, topics ?? {});
  }

  /**
   * Reads the other nodes' posts from the position start() took: once whatever they reach (the store thread's
   * sequencer, its directory) is there to take them; nothing is lost meanwhile, the stream keeps it.
   */
  listen(): void {
    this.readLoop ??= this.readForever();
  }

  /**
   * The directory as it stood at the stream position read with it. This node's own entries are a previous run's
   * (its sessions say themselves again as they come back): every node is told they are gone.
   */
  private takeSnapshot(members: Record<string, string>, topics: Record<string, string>): void {
    for (const [key, json] of Object.entries(members)) {
      const state = decodeMemberState(json);
      if (state?.node === this.node || key.startsWith(`${this.node}/`)) this.publish({ t: 'member', key, state: null });
      else if (state) this.directory.members.push([key, state]);
    }
    for (const [key, json] of Object.entries(topics)) {
      const topic = decodeTopic(json);
      if (topic !== null) this.directory.topics.set(key, topic);
    }
  }

  snapshot(): DirectorySnapshot {
    return this.directory;
  }

  publish(change: DirectoryChange): void {
    this.op({ k: 'dir', change });
  }

  subscribe(apply: (change: DirectoryChange) => void): void {
    this.applyDirectory = apply;
  }

  post(frame: Buffer): void {
    this.op({ k: 'all', frame });
  }
  postTo(target: SessionAddress, frame: Buffer): void {
    this.op({ k: 'to', target, frame });
  }
  kick(target: SessionAddress, reason: string): void {
    this.op({ k: 'kick', target, reason });
  }
  postToRooms(rooms: string[], frame: Buffer, minVersion: number, own?: OwnCopy): void {
    this.op({ k: 'rooms', rooms, frame, minVersion, ...(own ? { own } : {}) });
  }
  membership(target: SessionAddress, room: RoomRef, joined: boolean): void {
    this.op({ k: 'member', target, room, joined });
  }
  replay(target: SessionAddress, frames: Buffer[], done: boolean): void {
    this.op({ k: 'replay', target, frames, done });
  }

  /** Tells the session's node that it moved here or ended (cluster/redis-nicks.ts DisplacedSession). */
  letGo(target: SessionAddress, nick: string, how: 'moved' | 'ended'): void {
    this.op({ k: 'let-go', target, nick, how });
  }

  beginTurn(): void {
    this.turn = [];
  }

  inDoubt(seq: number): void {
    this.entries.inDoubt(seq);
  }

  /** Entries taken from the stream, and those written twice and taken once. */
  get counts(): { received: number; duplicates: number } {
    return { received: this.receivedCount, duplicates: this.entries.duplicates };
  }

  highestSeen(conv: string): number {
    return this.gate?.passed(conv) ?? 0;
  }

  reserveTurn(): Required<BatchHead> | null {
    const slot = this.reserved ? null : this.out.reserve();
    if (!slot) return null;
    this.reserved = { seq: ++this.seq, slot };
    return { node: this.node, run: this.run, seq: this.reserved.seq };
  }

  endTurn(ids: Array<[conv: string, id: number]>, posted = false): void {
    const ops = this.turn ?? [];
    this.turn = null;
    const reserved = this.reserved;
    this.reserved = null;
    if (!reserved) return this.emit(ids, ops);
    const batch: BusBatch = { node: this.node, run: this.run, seq: reserved.seq, ids, ops };
    this.out.fill(reserved.slot, batch, posted ? null : encodeBatch(batch), posted);
  }

  /** Stops reading and writing (what is unsent stays unsent: the node is going); stop() waits for the reading to end. */
  close(): void {
    this.reading = false;
    this.out.stop();
    this.local.close();
  }

  async stop(): Promise<void> {
    this.close();
    await this.readLoop;
  }

  private op(op: BusOp): void {
    if (this.turn) this.turn.push(op);
    else this.emit([], [op]);
  }

  private emit(ids: Array<[string, number]>, ops: BusOp[]): void {
    const batch: BusBatch = { node: this.node, run: this.run, seq: ++this.seq, ids, ops };
    this.out.send(batch, encodeBatch(batch));
  }

  private async readForever(): Promise<void> {
    let failing = false;
    while (this.reading) {
      try {
        const r = await this.reader.xRead(
          { key: this.stream, id: this.lastId },
          { BLOCK: READ_BLOCK_MS, COUNT: READ_COUNT },
        );
        if (failing) this.opts.log({ from: this.lastId }, 'cluster bus: reading again');
        failing = false;
        for (const s of (r as Array<{ messages: Array<{ id: string; message: Record<string, string> }> }> | null) ?? [])
          for (const m of s.messages) this.received(m.id, m.message.b!, m.message.x);
      } catch (err) {
        if (!this.reading) return;
        if (!failing) this.opts.log({ err: (err as Error).message }, 'cluster bus: cannot read from Redis; retrying');
        failing = true;
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  /** An entry of the stream: `x`, the ids and times of a turn the append script posted (bus-ops.ts decodeBatch). */
  private received(id: string, json: string, x: string | undefined): void {
    this.lastId = id;
    const batch = decodeBatch(json, (head) => this.entries.skip(head, x !== undefined), x);
    if (!batch) return;
    this.receivedCount++;
    this.started.push(batch);
  }

  /** A batch in its order: what concerns this node's sessions goes to the thread bus. */
  private deliver(b: BusBatch): void {
    const mine = b.node === this.node;
    for (const op of b.ops) {
      if (op.k === 'all') this.local.post(op.frame);
      else if (op.k === 'rooms') this.local.postToRooms(op.rooms, op.frame, op.minVersion, mine ? op.own : undefined);
      else if (op.k === 'dir') {
        if (!mine) this.applyDirectory?.(op.change);
      } else if (op.target.node !== this.node) continue;
      else if (op.k === 'to') this.local.postTo(op.target, op.frame);
      else if (op.k === 'kick') this.kickHere(op.target, op.reason, mine);
      else if (op.k === 'let-go') this.opts.letGo?.(op.target, op.nick, op.how);
      else if (mine && op.k === 'member') this.local.membership(op.target, op.room, op.joined);
      else if (mine && op.k === 'replay') this.local.replay(op.target, op.frames, op.done);
    }
  }

  /** Another node's kick goes to the hook (which knows an away session from a connected one); this node's own to its worker. */
  private kickHere(target: SessionAddress, reason: string, mine: boolean): void {
    if (!mine && this.opts.kicked) this.opts.kicked(target, reason);
    else this.local.kick(target, reason);
  }

  private get started(): OrderedDelivery {
    if (!this.gate) throw new Error('ClusterBus used before start()');
    return this.gate;
  }
}
