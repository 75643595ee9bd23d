/**
 * The store thread's core. What arrives from the workers is taken in arrival
 * order and cut into segments: a segment's messages are stored in one
 * transaction, and everything it posts (the messages with their ids,
 * notices, membership changes, answers) goes out on the room bus after that
 * commit, in arrival order. Nothing is posted before its commit, so a sender
 * that sees its own message knows it is stored (docs/PROTOCOL.md, History); a
 * segment the store refuses is refused to its senders and posted to no one.
 *
 * Requests that read the store (joining a room with its history, a history
 * page) end a segment and run alone after it has been posted: the read then
 * sees exactly what was posted before the session's membership began, and
 * every later message is posted after it, live. Exactly once, in order.
 *
 * The store, the bus and the scheduling of a flush are injected: the unit
 * tests run this without threads, timers or files.
 */
import type { RoomBus, SessionAddress } from '../bus/room-bus.js';
import type { HistoryStore } from './history.js';
import { asStoreError, StoreError } from './store-error.js';
import type { ToStore } from './store-messages.js';
import { segmentRequests } from './room-requests.js';
import { readRequests } from './room-read-requests.js';
import type { ReadKind, Segment } from './request-context.js';
import { SegmentBuilder } from './segment-builder.js';
import { sessionReadRequests, sessionSegmentRequests, type SessionContext } from './session-requests.js';
import { accountRequests } from './account-requests.js';
import { inboxRequests } from './inbox-requests.js';
import { memberKey, type Member, type RoomLimits } from './rooms.js';
import type { RegistrationQuota } from './store-quotas.js';
import { nodeDirectory } from './node-directory.js';
import type { DirectoryChannel } from '../bus/directory-change.js';
import type { RoomDirectory } from './room-directory.js';
import type { Appended, RoomLog } from './room-log.js';
import { LocalRoomLog } from './local-room-log.js';
import { roomKey } from '../../common/unicode/room-rule.js';
import { foldCase } from '../../common/unicode/text-policy.js';
import type { SessionTable } from '../shm/session-table.js';
import type { SessionRecord } from './sessions.js';
import { HistoryReads } from './history-reads.js';
import type { HistoryReader } from './history-reader.js';
import { sendAnswer } from './room-read-requests.js';
import { refuse } from './request-context.js';
import { answerFailure } from './request-failures.js';

/** Requests handled in one turn at most: a long backlog is worked off in several, others' frames between them. */
export const MAX_BATCH = 2000;

export interface SequencerDeps {
  /** Accounts, kept sessions, topics, direct conversations (and, by default, the log's store). */
  store: HistoryStore;
  bus: RoomBus;
  /** Where a turn's messages are appended and published, on its bus (default: a LocalRoomLog on `store` and `bus`). */
  roomLog?: RoomLog;
  /** Who is in which room (default: rooms.ts, in memory, under `roomLimits`; written through to `replicate`). */
  directory?: RoomDirectory;
  /** A cluster's node: where its directory meets the other nodes' (replicated-rooms.ts). */
  replicate?: DirectoryChannel;
  /** The directory made or closed a room: how many there are now (LUSERS: shm/node-counts.ts). */
  roomsCounted?(rooms: number): void;
  /** A cluster's node: where registrations per address prefix are counted for every node (redis-registrations.ts). */
  registrations?: (max: number) => RegistrationQuota;
  /** The operator must hear of it (the store failed). */
  fault(err: StoreError): void;
  /** Runs fn once the current turn is over (setImmediate in the thread). */
  schedule(fn: () => void): void;
  defaultRoom: string;
  roomLimits: RoomLimits;
  historyOnJoin: number;
  maxFrame: number;
  /** This node's id (--node-id, bus/node-id.ts): its session table's sessions have addresses on it. */
  node: string;
  /** Topics kept from before, by room key. */
  topics?: Map<string, string>;
  /** The session table, where away sessions' slots are freed when their window ends (null in unit tests that have none). */
  table?: SessionTable | null;
  /** --resume-window (0: sessions are not kept). */
  resumeWindowMs?: number;
  /** A line for the operator's console. */
  event?(text: string): void;
  now?(): number;
  /**
   * After each batch: how many requests from each origin (a worker's port) have been handled in all, so
   * that the worker can tell which of its requests a dead store thread took with it (store-link.ts).
   */
  handled?(counts: ReadonlyMap<number, number>): void;
  /** Where HISTORY_REQUEST pages are read (history-reader.ts); default: the store's own connection, on this thread. */
  reader?: HistoryReader;
  /** The session's worker takes `credits` from its flood credits; with `next`, it says 'history-next' once taken. */
  charge?(to: SessionAddress, credits: number, next: boolean): void;
  /** A page's frames to its requester's worker (default: on the bus, room-read-requests.ts sendAnswer). */
  answer?(to: SessionAddress, frames: Buffer[]): void;
  /** A line for the store thread's log. */
  log?(detail: Record<string, unknown>, msg: string): void;
}

const READS = new Set<ToStore['k']>([
  'enter',
  'join',
  'history',
  'resume',
  'replay-next',
  'register',
  'set-password',
  'unregister',
  'direct-offline',
  'inbox',
] satisfies ReadKind[]);
/** The read requests' handlers, by the module that owns them (the rest are room-read-requests.ts's readRequests). */
const READ_TABLES = [sessionReadRequests, accountRequests, inboxRequests];
const SESSION_SEGMENT = new Set<ToStore['k']>(['away', 'expire', 'end-away', 'node-gone']);

export class Sequencer {
  private pending: ToStore[] = [];
  /** Where each pending request came from (-1: nowhere that needs to know). */
  private pendingOrigin: number[] = [];
  private readonly handledBy = new Map<number, number>();
  private scheduled = false;
  private flushing: Promise<void> | null = null;
  readonly rooms: RoomDirectory;
  readonly log: RoomLog;
  /** Records of sessions that were connected when this store thread started, by slot: their workers tell of them again (restore). */
  readonly kept = new Map<number, SessionRecord>();
  readonly node: string;
  private readonly ctx: SessionContext;

  constructor(private readonly deps: SequencerDeps) {
    const topics = deps.topics ?? new Map<string, string>();
    const table = deps.table ?? null;
    this.node = deps.node;
    this.log = deps.roomLog ?? new LocalRoomLog(deps.store, deps.bus);
    this.rooms =
      deps.directory ??
      nodeDirectory({
        node: this.node,
        limits: deps.roomLimits,
        defaultRoom: deps.defaultRoom,
        topics,
        table,
        ...(deps.replicate ? { replicate: deps.replicate } : {}),
        ...(deps.roomsCounted ? { counted: (n: number) => deps.roomsCounted!(n) } : {}),
        ...(deps.registrations ? { registrations: deps.registrations } : {}),
      });
    this.ctx = {
      node: this.node,
      rooms: this.rooms,
      bus: this.log.bus,
      log: this.log,
      store: deps.store,
      defaultRoom: deps.defaultRoom,
      historyOnJoin: deps.historyOnJoin,
      maxFrame: deps.maxFrame,
      saveTopic: (room) => {
        topics.set(room.key, room.topic);
        deps.store.setTopic(room.key, room.name, room.topic).catch((err: unknown) => deps.fault(asStoreError(err)));
      },
      persist: (m) => this.persist(m),
      forget: (m) => {
        this.ctx.replays.delete(memberKey(m.address));
        this.ctx.reads.drop(m.address);
        if (m.record) deps.store.sessions?.remove(m.record.sid).catch((err: unknown) => deps.fault(asStoreError(err)));
        m.record = null;
      },
      adopt: (m) => {
        const kept = m.address.node === this.node ? this.kept.get(m.address.slot) : undefined;
        if (!kept || foldCase(kept.nick) !== foldCase(m.nick)) return;
        this.kept.delete(m.address.slot);
        m.record = kept;
        for (const r of kept.rooms) m.marks.set(roomKey(r.name), r.mark);
      },
      now: deps.now ?? Date.now,
      table: deps.table ?? null,
      resumeWindowMs: deps.resumeWindowMs ?? 0,
      replays: new Map(),
      event: deps.event ?? (() => undefined),
      inboxAdd: (fold, conv, id) =>
        void deps.store.accounts?.inboxAdd(fold, conv, id).catch((err: unknown) => deps.fault(asStoreError(err))),
      reads: new HistoryReads({
        reader: deps.reader ?? this.log.reader(),
        maxFrame: deps.maxFrame,
        deliver: (to, frames) => (deps.answer ? deps.answer(to, frames) : sendAnswer(this.ctx, to, frames)),
        refuse: (to, code, message, ref) => refuse(this.ctx, to, code, message, ref),
        charge: (to, credits, next) =>
          deps.charge ? deps.charge(to, credits, next) : next && this.handle({ k: 'history-next', session: to }),
        fault: deps.fault,
        log: deps.log ?? (() => undefined),
      }),
      charge: (to, credits) => deps.charge?.(to, credits, false),
    };
  }

  /** HISTORY_REQUEST pages being read (history-reads.ts): closed with the store thread. */
  get reads(): HistoryReads {
    return this.ctx.reads;
  }

  /** The store it writes to (session-restore.ts asks it about the sessions it brings back). */
  get store(): HistoryStore {
    return this.deps.store;
  }

  /** Writes what a resume needs of the member to its record, and the record to the store (and tells the directory). */
  persist(m: Member): void {
    this.rooms.saved?.(m);
    const sessions = this.deps.store.sessions;
    if (!m.record || !sessions) return;
    const r = m.record;
    r.nick = m.nick;
    r.version = m.version;
    r.awaySince = m.awaySince;
    r.rooms = m.rooms.map((key) => ({ name: this.rooms.byKey(key)!.name, mark: m.marks.get(key) ?? 0 }));
    // Rooms closed while it is away are still its own: it gets them back when it resumes, after a restart too.
    for (const name of m.lapsed) r.rooms.push({ name, mark: m.marks.get(roomKey(name)) ?? 0 });
    sessions.save(r).catch((err: unknown) => this.deps.fault(asStoreError(err)));
  }

  handle(msg: ToStore, origin = -1): void {
    this.pending.push(msg);
    this.pendingOrigin.push(origin);
    this.wake();
  }

  /** Resolves once everything handed in so far has been stored and posted (shutdown waits for it). */
  async drain(): Promise<void> {
    while (this.pending.length > 0 || this.flushing || this.scheduled) {
      if (this.flushing) await this.flushing;
      else await this.flush();
    }
  }

  private wake(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    this.deps.schedule(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    if (this.flushing || this.pending.length === 0) return;
    const batch = this.pending.splice(0, MAX_BATCH);
    const origins = this.pendingOrigin.splice(0, MAX_BATCH);
    this.flushing = this.run(batch);
    await this.flushing;
    this.flushing = null;
    if (this.deps.handled) {
      for (const o of origins) if (o >= 0) this.handledBy.set(o, (this.handledBy.get(o) ?? 0) + 1);
      this.deps.handled(this.handledBy);
    }
    if (this.pending.length > 0) this.wake();
  }

  private async run(batch: ToStore[]): Promise<void> {
    let seg = new SegmentBuilder();
    for (const msg of batch) {
      try {
        if (msg.k === 'history-next') this.ctx.reads.paid(msg.session);
        else if (READS.has(msg.k)) {
          await this.commit(seg);
          seg = new SegmentBuilder();
          const table = READ_TABLES.find((t) => msg.k in t) ?? readRequests;
          const read = (table as Record<string, (ctx: SessionContext, m: ToStore) => Promise<void>>)[msg.k]!;
          await read(this.ctx, msg);
        } else {
          const table = SESSION_SEGMENT.has(msg.k) ? sessionSegmentRequests : segmentRequests;
          const step = (table as Record<string, (ctx: SessionContext, s: Segment, m: ToStore) => void>)[msg.k]!;
          step(this.ctx, seg, msg);
        }
      } catch (err) {
        // A read that failed (the store) costs that request, not the order: the operator hears of it, and the
        // session that asked is answered (an ERROR is an answer).
        this.deps.fault(asStoreError(err));
        answerFailure(this.ctx, msg, asStoreError(err));
      }
    }
    await this.commit(seg);
  }

  /** Appends the segment's messages to the log in one turn; once stored, it posts everything it holds in order. */
  private async commit(seg: SegmentBuilder): Promise<void> {
    const publish = (stored: Appended | null, failure: StoreError | null): void => {
      if (failure) this.deps.fault(failure);
      for (const step of seg.steps) step(stored ? stored.entries : null, failure);
    };
    // A refusal has been published (to its senders) and the operator told; the order goes on.
    const posts = seg.entries.length > 0 && seg.posts ? { posts: seg.posts } : {};
    await this.log.append({ entries: seg.entries, publish, ...posts }).catch((err: unknown) => {
      if (err instanceof StoreError) return;
      throw err;
    });
  }
}
