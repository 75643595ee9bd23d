/**
 * What every request handler of the store thread works with: the room
 * context, the segment it may add to, which kinds read the store, and the
 * steps handlers share (the room a member names, joining a room, which both
 * the room requests and a resume that finds its member gone do). Its own
 * module so that the room, session and account requests need not import each
 * other.
 */
import { encodeMessage, errorMessage, type ServerMessage } from '../../common/protocol.js';
import { withRef } from '../../common/messages.js';
import type { WireErrorCode } from '../../common/errors.js';
import type { OwnCopy, RoomBus, SessionAddress } from '../bus/room-bus.js';
import { sameSession } from '../bus/node-id.js';
import type { RoomPost } from '../bus/room-message.js';
import { roomConversation, type HistoryStore, type NewEntry, type StoredEntry } from './history.js';
import { answerWithin, historyFrames } from './history-frames.js';
import type { Member, Room, RoomDirectory } from './room-directory.js';
import type { RoomLog } from './room-log.js';
import type { ToStore } from './store-messages.js';
import type { StoreError } from './store-error.js';
import { foldCase } from '../../common/unicode/text-policy.js';
import { readCost } from '../../common/flood-gate.js';
import type { HistoryReads } from './history-reads.js';

export interface RoomContext {
  /** The node this store thread serves (--node-id): the sessions in its session table have addresses on it. */
  node: string;
  rooms: RoomDirectory;
  /** Where messages are appended and published, and read back. */
  log: RoomLog;
  bus: RoomBus;
  /** Accounts, kept sessions, direct conversations, topics. */
  store: HistoryStore;
  defaultRoom: string;
  historyOnJoin: number;
  maxFrame: number;
  /** A topic changed: keep it (the store), without holding up the order. */
  saveTopic(room: Room): void;
  /** What a resume needs of the member changed: keep it (its record, if it has one). */
  persist(m: Member): void;
  /** The session ended: its record goes, and any replay it had. */
  forget(m: Member): void;
  /** The store's clock (ms since the epoch). */
  now(): number;
  /** A member a worker told a restarted store thread of: its record, as kept, if it has one. */
  adopt(m: Member): void;
  /** The account (folded nick) missed the conversation from `id` on: noted in its inbox, without holding up the order. */
  inboxAdd(fold: string, conv: string, id: number): void;
  /** HISTORY_REQUEST pages, read beside the order (history-reads.ts); a session that goes is dropped there. */
  reads: HistoryReads;
  /** What the store read for a session costs it in flood credits (common/flood-gate.ts readCost), taken by its worker. */
  charge(to: SessionAddress, credits: number): void;
}

/** What a handler inside a segment may do. */
export interface Segment {
  /**
   * A message to store; `then` runs after the commit with its stored entry, or null when the store refused it.
   * `post`: all `then` posts is this room message (a cluster's log may then post it in the append's own step).
   */
  append(entry: NewEntry, then: (e: StoredEntry | null, failure: StoreError | null) => void, post?: RoomPost): void;
  /** Something to post after the commit, in order with the messages. */
  later(fn: () => void): void;
}

export type Req<K extends ToStore['k']> = Extract<ToStore, { k: K }>;

/** Requests that read the store: the sequencer runs them between segments. */
export type ReadKind =
  | 'enter'
  | 'join'
  | 'history'
  | 'resume'
  | 'replay-next'
  | 'register'
  | 'set-password'
  | 'unregister'
  | 'direct-offline'
  | 'inbox';
/** The session requests (session-requests.ts) besides these; history-next: an answer was paid for (history-reads.ts). */
export type SessionKind = 'away' | 'expire' | 'end-away' | 'node-gone' | 'history-next';

/**
 * A stored direct message, posted: to the receiver's connection (`to`, null when it has none now), the sender's
 * copy (its confirmation, and the exact recipient; one copy when writing to yourself), and noted in the inbox of
 * `keepFor` (a registered nick that is away or offline: it gets it at its next login, inbox-requests.ts).
 */
export function postDirect(
  ctx: RoomContext,
  e: StoredEntry,
  sender: SessionAddress,
  to: SessionAddress | null,
  keepFor: string | null,
  ref?: string,
): void {
  const msg: ServerMessage = {
    type: 'DIRECT',
    from: e.from,
    to: e.to!,
    text: e.text,
    ts: e.ts,
    id: e.id,
    ...(e.kind === 'direct-action' ? { action: true } : {}),
  };
  const frame = encodeMessage(msg);
  const self = to !== null && sameSession(to, sender);
  if (to) ctx.bus.postTo(to, self && ref !== undefined ? encodeMessage({ ...msg, ref }) : frame);
  if (!self) ctx.bus.postTo(sender, ref === undefined ? frame : encodeMessage({ ...msg, ref }));
  if (keepFor !== null) ctx.inboxAdd(keepFor, e.conv, e.id);
}

/** The folded nick whose inbox keeps what comes for this member while it is away, if it is a registered nick's. */
export function awayAccount(m: Member | undefined): string | null {
  return m && m.awaySince !== null && m.account ? foldCase(m.nick) : null;
}

/** Why a message was refused when the store could not keep it. */
export function notStored(failure: StoreError | null): string {
  if (failure?.code === 'STORE_IN_DOUBT')
    return "not confirmed: the cluster's Redis stopped answering while your message was being stored, and may have stored it (it then reaches the room late, once, and is in its history); look before you send it again";
  return `not sent: the server cannot store messages (${failure?.code === 'STORE_FULL' ? 'its disk is full' : 'its history database failed'}); try again later`;
}

export function send(ctx: RoomContext, to: SessionAddress, msg: ServerMessage): void {
  ctx.bus.postTo(to, encodeMessage(msg));
}
/** A request refused to the session that made it (an ERROR it survives), with the request's ref if it had one. */
export function refuse(ctx: RoomContext, to: SessionAddress, code: WireErrorCode, message: string, ref?: string): void {
  send(ctx, to, errorMessage(code, message, false, ref));
}
/** The member and the room it names, or null after telling the session why not. */
export function inRoom(
  ctx: RoomContext,
  session: SessionAddress,
  name: string,
  ref?: string,
): { m: Member; room: Room } | null {
  const m = ctx.rooms.member(session);
  const room = ctx.rooms.room(name);
  if (m && room && ctx.rooms.isMember(m, name)) return { m, room };
  refuse(ctx, session, 'NOT_IN_ROOM', `you are not in ${name}: /join ${name} first`, ref);
  return null;
}

/** A room post whose copy for the member whose request it answers carries that request's ref. */
export function ownCopy(to: SessionAddress, msg: ServerMessage, ref: string | undefined): OwnCopy | undefined {
  return ref === undefined ? undefined : { to, frame: encodeMessage({ ...msg, ...withRef(ref) } as ServerMessage) };
}
/**
 * Into a room: membership from this point of the order, the notice, then (version 2) JOINED and the room's latest
 * history; `charged` (a JOIN, not the login's room): the history costs the joiner by its bytes, as a page does.
 */
export async function enterRoom(ctx: RoomContext, m: Member, room: Room, charged = false, ref?: string): Promise<void> {
  const conv = roomConversation(room.key);
  m.marks.set(room.key, await ctx.log.lastId(conv));
  ctx.persist(m);
  ctx.bus.membership(m.address, { key: room.key, name: room.name }, true);
  const notice: ServerMessage = { type: 'NOTICE', event: 'joined', nick: m.nick, room: room.name };
  ctx.bus.postToRooms([room.key], encodeMessage(notice), 1, ownCopy(m.address, notice, ref));
  await showRoom(ctx, m, room, charged, ref);
}

/** Version 2: the room as a join shows it to the member, JOINED and its latest history (`charged`: see enterRoom). */
export async function showRoom(ctx: RoomContext, m: Member, room: Room, charged = false, ref?: string): Promise<void> {
  if (m.version < 2) return;
  const conv = roomConversation(room.key);
  send(ctx, m.address, {
    type: 'JOINED',
    room: room.name,
    topic: room.topic,
    members: room.members.size,
    ...withRef(ref),
  });
  if (ctx.historyOnJoin === 0) return;
  const entries = await ctx.log.before(conv, Infinity, ctx.historyOnJoin + 1);
  const { kept, cut } = answerWithin(entries.length > ctx.historyOnJoin ? entries.slice(1) : entries, 'newest');
  const more = entries.length > ctx.historyOnJoin || cut;
  const frames = historyFrames({ room: room.name }, kept, more, ctx.maxFrame);
  for (const f of frames) ctx.bus.postTo(m.address, f);
  if (charged) ctx.charge(m.address, readCost(frames.reduce((n, f) => n + f.length, 0)));
}
