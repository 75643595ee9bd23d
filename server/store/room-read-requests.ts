/**
 * The room requests that read the store, which the sequencer runs alone
 * between segments (sequencer.ts says why that gives exactly-once): entering
 * (the default room, with its latest history), joining a room, and a history
 * page. The rest of the room requests run inside a segment (room-requests.ts).
 */
import { withRef } from '../../common/messages.js';
import { newSessionRecord } from './sessions.js';
import { roomConversation } from './history.js';
import { directConversation } from './conversations.js';
import { partiesOf } from './direct-parties.js';
import type { SessionAddress } from '../bus/room-bus.js';
import { enterRoom, inRoom, refuse, send, type ReadKind, type Req, type RoomContext } from './request-context.js';

/** Entries one HISTORY_REQUEST may ask for. */
export const HISTORY_PAGE_MAX = 200;

export const readRequests: {
  [K in Exclude<
    ReadKind,
    'resume' | 'replay-next' | 'register' | 'set-password' | 'unregister' | 'direct-offline' | 'inbox'
  >]: (ctx: RoomContext, msg: Req<K>) => Promise<void>;
} = {
  async enter(ctx, msg) {
    const m = ctx.rooms.enter(msg.session, msg.nick, msg.version);
    m.account = msg.account === true;
    if (msg.token !== null) m.record = newSessionRecord(msg.token, msg.nick, msg.version, ctx.now());
    ctx.persist(m);
    const joined = ctx.rooms.join(m, ctx.defaultRoom);
    if (!joined.ok) return refuse(ctx, msg.session, joined.code, `you are in no room: ${joined.message}`);
    await enterRoom(ctx, m, joined.room);
  },

  async join(ctx, msg) {
    const m = ctx.rooms.member(msg.session);
    if (!m) return;
    const joined = ctx.rooms.join(m, msg.room);
    if (!joined.ok) return refuse(ctx, msg.session, joined.code, joined.message, msg.ref);
    if (joined.already)
      return send(ctx, m.address, {
        type: 'JOINED',
        room: joined.room.name,
        topic: joined.room.topic,
        members: joined.room.members.size,
        ...withRef(msg.ref),
      });
    await enterRoom(ctx, m, joined.room, true, msg.ref);
  },

  /**
   * A page: its place in the order is here (it ends at the conversation's last id now), its reading is the
   * reader thread's (history-reads.ts), paid for first; a direct conversation's, only what this session (or its
   * account) took part in (direct-parties.ts).
   */
  async history(ctx, msg) {
    const m = ctx.rooms.member(msg.session);
    if (!m) return;
    let conv: string;
    let where: { id: number; room?: string; with?: string };
    let parties: string[] | null = null;
    if (msg.room !== undefined) {
      const found = inRoom(ctx, msg.session, msg.room, msg.ref);
      if (!found) return;
      conv = roomConversation(found.room.key);
      where = { id: msg.id, room: found.room.name };
    } else {
      conv = directConversation(m.nick, msg.with ?? '');
      where = { id: msg.id, with: msg.with ?? '' };
      parties = partiesOf(m);
    }
    const limit = Math.max(1, Math.min(HISTORY_PAGE_MAX, msg.limit ?? 50));
    const upto = await ctx.log.lastId(conv);
    const paging = msg.since !== undefined ? { since: msg.since } : { before: msg.before ?? Infinity };
    ctx.reads.ask(m.address, { conv, parties, where, ask: { ...paging, upto, limit }, ...withRef(msg.ref) });
  },
};

/** A page's frames to the session that asked (history-reads.ts reads them; at most ANSWER_MAX_TEXT of text). */
export function sendAnswer(ctx: RoomContext, to: SessionAddress, frames: Buffer[]): void {
  for (const f of frames) ctx.bus.postTo(to, f);
}
