/**
 * Sessions that outlive their connection (docs/PROTOCOL.md, "Resume"): a
 * lost connection makes its member away (it stays in its rooms, its direct
 * messages are stored), a resume moves it to its new connection (so does a
 * take-over by a login with its registered nick's password: its rooms shown
 * as a join shows them, no replay), and the end of the window ends it. One
 * handler per request, as in room-requests.ts.
 *
 * Exactly once, in order: a resume is a read, so the sequencer runs it
 * between segments. At that point the member moves to its new address and
 * its rooms' frames start reaching the new connection; everything committed
 * before is in the store, below the bounds taken here, and goes out as the
 * replay; everything after is live, and the new connection's worker holds
 * it until the replay's last part has been sent. A direct message goes to
 * the member as this order knows it (room-requests.ts, direct), so none
 * reaches the new connection live before this point either.
 */
import { encodeMessage, type ServerMessage } from '../../common/protocol.js';
import type { LastSeen } from '../../common/messages.js';
import { roomKey } from '../../common/unicode/room-rule.js';
import { foldCase } from '../../common/unicode/text-policy.js';
import { formatDuration } from '../../common/units.js';
import type { SessionAddress } from '../bus/room-bus.js';
import { parseSessionKey } from '../bus/node-id.js';
import type { SessionTable } from '../shm/session-table.js';
import { roomConversation, type ConversationKey, type StoredEntry } from './history.js';
import { historyFrames } from './history-frames.js';
import { memberKey, type Member } from './rooms.js';
import { partiesOf } from './direct-parties.js';
import { newSessionRecord } from './sessions.js';
import { enterRoom, send, showRoom, type Req, type RoomContext, type Segment } from './request-context.js';
import { readRequests } from './room-read-requests.js';

/** Entries read for one part of a replay at most; its size in bytes is the resuming worker's choice (partBytes). */
export const REPLAY_PART_MAX = 2000;
/** Bytes an entry is taken to be until a part has measured them. */
const ENTRY_BYTES_GUESS = 200;

interface ReplayItem {
  conv: ConversationKey;
  /** The room's name, or null for a direct conversation (its HISTORY names the other nick). */
  room: string | null;
  /** Sent up to here; the replay ends at upto (the conversation's last id when the resume took its place in the order). */
  after: number;
  upto: number;
  /** A direct conversation's: only the messages the session (or its account) took part in (direct-parties.ts). */
  parties?: string[];
}

interface Replay {
  address: SessionAddress;
  nick: string;
  items: ReplayItem[];
  missed: number;
  partBytes: number;
  /** The average size of an entry's JSON so far: how many entries make a part. */
  entryBytes: number;
  /** The next part, read and framed while the last one is on its way (null: not read yet). */
  ready: { frames: Buffer[]; done: boolean } | null;
}

/** What session requests need beyond the room context. */
export interface SessionContext extends RoomContext {
  table: SessionTable | null;
  resumeWindowMs: number;
  /** Replays in progress, by member key. */
  replays: Map<string, Replay>;
  /** A line for the operator's console. */
  event(text: string): void;
}

/** The member's connection is lost: it waits, in its rooms, and the others hear of it (version 2: version 1 has no word for it). */
export function wentAway(ctx: RoomContext, seg: Segment, m: Member): void {
  // Its history requests are not read for a connection that is gone (it asks again once back).
  ctx.reads.drop(m.address);
  m.awaySince = ctx.now();
  m.address = { ...m.address, owner: -1 };
  ctx.persist(m);
  const rooms = [...m.rooms];
  if (rooms.length > 0)
    seg.later(() => ctx.bus.postToRooms(rooms, encodeMessage({ type: 'NOTICE', event: 'away', nick: m.nick }), 2));
}

function ended(ctx: RoomContext, seg: Segment, m: Member, notice: ServerMessage): void {
  ctx.forget(m);
  const was = ctx.rooms.leave(m);
  if (was.length > 0) seg.later(() => ctx.bus.postToRooms(was, encodeMessage(notice), 1));
}

/** What the member missed, per conversation: after the later of the client's last id and where the member came in. */
async function plan(ctx: RoomContext, m: Member, last: LastSeen[]): Promise<ReplayItem[]> {
  const items: ReplayItem[] = [];
  const seenRoom = new Map(last.filter((l) => l.room !== undefined).map((l) => [roomKey(l.room!), l.id]));
  for (const key of m.rooms) {
    const conv = roomConversation(key);
    const after = Math.max(seenRoom.get(key) ?? 0, m.marks.get(key) ?? 0);
    const upto = await ctx.log.lastId(conv);
    if (upto > after) items.push({ conv, room: ctx.rooms.byKey(key)!.name, after, upto });
  }
  const me = foldCase(m.nick);
  const seenWith = new Map(last.filter((l) => l.with !== undefined).map((l) => [foldCase(l.with!), l.id]));
  const parties = partiesOf(m);
  for (const conv of await ctx.log.directConversations(me)) {
    const pair = conv.slice(3).split('\n');
    const other = pair[0] === me ? pair[1]! : pair[0]!;
    const upto = await ctx.log.lastId(conv);
    let after = seenWith.get(other);
    // A pair the client has nothing of: what was said in it since the session began.
    if (after === undefined)
      after = ((await ctx.log.since(conv, m.record?.startedTs ?? ctx.now(), 1, parties))[0]?.id ?? upto + 1) - 1;
    if (upto > after) items.push({ conv, room: null, after, upto, parties });
  }
  return items;
}

/**
 * Taken over by a login with the nick's password: a client with nothing to resume from gets the member's rooms
 * as a join shows them, from this place in the order on (their marks moved here: a later resume replays after
 * them); what came for the nick while it was away follows from its inbox (the worker's 'inbox', next).
 */
async function takenOver(ctx: RoomContext, m: Member): Promise<void> {
  m.account = true;
  for (const key of m.rooms) {
    m.marks.set(key, await ctx.log.lastId(roomConversation(key)));
    await showRoom(ctx, m, ctx.rooms.byKey(key)!);
  }
  ctx.persist(m);
}

/** A direct conversation's HISTORY names the other side, as its messages show it. */
export function otherNick(entries: StoredEntry[], me: string): string {
  const e = entries[0]!;
  return foldCase(e.from) === foldCase(me) ? (e.to ?? e.from) : e.from;
}

/** Reads and frames the next part of a replay; the last part ends with RESUMED. */
async function readPart(ctx: SessionContext, job: Replay): Promise<{ frames: Buffer[]; done: boolean }> {
  let frames: Buffer[] = [];
  while (frames.length === 0 && job.items.length > 0) {
    const item = job.items[0]!;
    const want = Math.max(
      1,
      Math.min(REPLAY_PART_MAX, Math.floor(job.partBytes / job.entryBytes), item.upto - item.after),
    );
    const entries = (await ctx.log.after(item.conv, item.after, want, item.parties)).filter((e) => e.id <= item.upto);
    // Retention may have taken some: what is left of the range is what there is.
    item.after = entries.at(-1)?.id ?? item.upto;
    if (item.after >= item.upto) job.items.shift();
    if (entries.length === 0) continue;
    job.missed += entries.length;
    frames = historyFrames(
      item.room !== null ? { room: item.room, missed: true } : { with: otherNick(entries, job.nick), missed: true },
      entries,
      false,
      ctx.maxFrame,
    );
    job.entryBytes = Math.max(16, frames.reduce((n, f) => n + f.length, 0) / entries.length);
  }
  const done = job.items.length === 0;
  if (done) frames.push(encodeMessage({ type: 'RESUMED', missed: job.missed }));
  return { frames, done };
}

/**
 * Sends the next part of a replay (nothing when none is in progress), then
 * reads the one after it, so that the store's reading overlaps the
 * connection's sending: one part on its way, one ready.
 */
async function replayPart(ctx: SessionContext, address: SessionAddress): Promise<void> {
  const job = ctx.replays.get(memberKey(address));
  if (!job || job.address.owner !== address.owner) return;
  const part = job.ready ?? (await readPart(ctx, job));
  job.ready = null;
  ctx.bus.replay(address, part.frames, part.done);
  if (part.done) ctx.replays.delete(memberKey(address));
  else job.ready = await readPart(ctx, job);
}

export const sessionSegmentRequests: {
  [K in 'away' | 'expire' | 'end-away' | 'node-gone']: (ctx: SessionContext, seg: Segment, msg: Req<K>) => void;
} = {
  away(ctx, seg, msg) {
    const m = ctx.rooms.member(msg.session);
    if (!m) return;
    ctx.replays.delete(memberKey(m.address));
    wentAway(ctx, seg, m);
  },

  expire(ctx, seg, msg) {
    // Rooms whose members have all been away for the grace are closed; their members get them back when they resume.
    for (const m of ctx.rooms.reclaim(msg.now)) ctx.persist(m);
    for (const m of ctx.rooms.away()) {
      if (m.awaySince! + ctx.resumeWindowMs > msg.now) continue;
      // Not AWAY any more: a worker has just taken it over, and its resume is on the way here.
      if (ctx.table && !ctx.table.releaseAway(m.address)) continue;
      ctx.event(`* ${m.nick} timed out (not back within ${formatDuration(ctx.resumeWindowMs)})`);
      ended(ctx, seg, m, { type: 'NOTICE', event: 'timed_out', nick: m.nick });
    }
  },

  'end-away'(ctx, seg, msg) {
    const m = ctx.rooms.member({ ...msg.target, node: ctx.node });
    if (!m || m.awaySince === null || (ctx.table && !ctx.table.releaseAway(msg.target))) return;
    ended(ctx, seg, m, { type: 'NOTICE', event: 'kicked', nick: m.nick, reason: msg.reason });
  },

  'node-gone'(ctx, seg, msg) {
    for (const key of msg.away) {
      const parts = parseSessionKey(key);
      const m = parts && ctx.rooms.member(parts);
      const rooms = m ? [...m.rooms] : [];
      const notice = m && encodeMessage({ type: 'NOTICE', event: 'away', nick: m.nick });
      if (notice && rooms.length > 0) seg.later(() => ctx.bus.postToRooms(rooms, notice, 2));
    }
    for (const gone of ctx.rooms.ended?.(msg.ended) ?? []) {
      const notice = encodeMessage({ type: 'NOTICE', event: 'left', nick: gone.nick, reason: msg.reason });
      if (gone.rooms.length > 0) seg.later(() => ctx.bus.postToRooms(gone.rooms, notice, 1));
    }
  },
};

export const sessionReadRequests: {
  [K in 'resume' | 'replay-next']: (ctx: SessionContext, msg: Req<K>) => Promise<void>;
} = {
  async resume(ctx, msg) {
    const m = ctx.rooms.member(msg.previous);
    if (!m && msg.takeOver) return readRequests.enter(ctx, { ...msg, k: 'enter', account: true });
    if (!m) {
      // Not known here (it ended as it came back): a new session in the default room, with nothing to replay.
      const fresh = ctx.rooms.enter(msg.session, msg.nick, msg.version);
      const joined = ctx.rooms.join(fresh, ctx.defaultRoom);
      if (joined.ok) await enterRoom(ctx, fresh, joined.room);
      ctx.bus.replay(msg.session, [encodeMessage({ type: 'RESUMED', missed: 0 })], true);
      return;
    }
    const wasAway = m.awaySince !== null;
    ctx.replays.delete(memberKey(m.address));
    ctx.reads.drop(m.address);
    // Rooms closed while it was away are joined again, made again if need be; one that cannot be is parted.
    for (const lost of ctx.rooms.rekey(m, msg.session))
      send(ctx, msg.session, { type: 'PARTED', room: lost.name, reason: `closed while you were away: ${lost.why}` });
    m.awaySince = null;
    m.version = msg.version;
    if (m.record) m.record.hash = msg.token;
    // Another node's session, resumed here: its record is this node's to keep from now on.
    else if (m.elsewhere) m.record = { ...newSessionRecord(msg.token, m.nick, m.version, 0), ...m.elsewhere };
    ctx.persist(m);
    // Before its membership begins: the one who is back does not hear of itself.
    if (wasAway && m.rooms.length > 0)
      ctx.bus.postToRooms(m.rooms, encodeMessage({ type: 'NOTICE', event: 'back', nick: m.nick }), 2);
    for (const key of m.rooms) ctx.bus.membership(m.address, { key, name: ctx.rooms.byKey(key)!.name }, true);
    if (msg.takeOver) return takenOver(ctx, m);
    // What a registered nick missed while away comes in this replay: not again at its next login.
    if (m.account) await ctx.store.accounts?.inboxClear(foldCase(m.nick));
    const items = await plan(ctx, m, msg.last);
    ctx.replays.set(memberKey(m.address), {
      address: m.address,
      nick: m.nick,
      items,
      missed: 0,
      partBytes: Math.max(4096, msg.partBytes),
      entryBytes: ENTRY_BYTES_GUESS,
      ready: null,
    });
    await replayPart(ctx, m.address);
  },

  async 'replay-next'(ctx, msg) {
    await replayPart(ctx, msg.session);
  },
};
