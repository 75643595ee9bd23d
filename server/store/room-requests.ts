/**
 * What each request to the store thread does, one handler per kind (as
 * aedes has one per packet type). Most run inside a segment: their messages
 * are stored with the segment's, and what they post waits for that commit so
 * it keeps its place in the order; those about rooms are here. Joining and
 * history requests read the store, so the sequencer runs them between
 * segments (room-read-requests.ts; sequencer.ts says why that gives
 * exactly-once).
 */
import { encodeMessage, type ServerMessage } from '../../common/protocol.js';
import { withRef } from '../../common/messages.js';
import { asBuffer } from '../bus/thread-bus.js';
import { roomMessage, roomMessageFrame, type RoomPost } from '../bus/room-message.js';
import { directKind, roomConversation } from './history.js';
import { directConversation } from './conversations.js';
import { partyOf } from './direct-parties.js';
import { holderOf, memberKey } from './rooms.js';
import { inboxRefusal } from './inbox-requests.js';
import {
  awayAccount,
  inRoom,
  notStored,
  ownCopy,
  postDirect,
  refuse,
  send,
  type ReadKind,
  type Req,
  type RoomContext,
  type Segment,
  type SessionKind,
} from './request-context.js';
import { wentAway } from './session-requests.js';
import { holdsAccount } from './account-requests.js';
import type { ToStore } from './store-messages.js';

/** Rooms listed, nicks named in one answer (the total says how many there are). */
const LIST_MAX = 200;

export const segmentRequests: {
  [K in Exclude<ToStore['k'], ReadKind | SessionKind>]: (ctx: RoomContext, seg: Segment, msg: Req<K>) => void;
} = {
  say(ctx, seg, msg) {
    const where = inRoom(ctx, msg.sender, msg.room, msg.ref);
    if (!where) return;
    const { room } = where;
    const origin = holderOf(where.m)?.key;
    const post: RoomPost = { room: room.key, name: room.name, action: msg.action };
    seg.append(
      { conv: roomConversation(room.key), kind: msg.action ? 'action' : 'say', from: msg.from, text: msg.text, origin },
      (e, failure) => {
        if (!e) return refuse(ctx, msg.sender, 'NOT_STORED', notStored(failure), msg.ref);
        ctx.bus.postToRooms(
          [post.room],
          roomMessageFrame(e, post),
          1,
          ownCopy(msg.sender, roomMessage(e, post), msg.ref),
        );
      },
      post,
    );
  },

  direct(ctx, seg, msg) {
    // To the receiver as the sequencer knows it (its lookup may have seen a resume this order has not reached):
    // away, or not yet back in this order, it gets the message when it resumes, from the history.
    const known = ctx.rooms.byNick(msg.to);
    const target = known ? (known.awaySince === null ? known.address : null) : msg.target;
    const conv = directConversation(msg.from, msg.to);
    // Noted in an away registered nick's inbox, within its caps (else refused, stored for no one).
    const full =
      known && awayAccount(known) ? inboxRefusal(ctx, awayAccount(known)!, known.nick, conv, msg.text) : null;
    if (full !== null) return refuse(ctx, msg.sender, 'INBOX_FULL', full, msg.ref);
    const sender = ctx.rooms.member(msg.sender);
    const origin = sender ? holderOf(sender)?.key : undefined;
    // Who took part: only they read it back, whoever holds the nicks later (direct-parties.ts).
    const parties: [string, string] = [partyOf(sender), partyOf(known ?? ctx.rooms.member(msg.target))];
    const kind = directKind(msg.action);
    seg.append({ conv, kind, from: msg.from, to: msg.to, text: msg.text, origin, parties }, (e, failure) => {
      if (!e) return refuse(ctx, msg.sender, 'NOT_STORED', notStored(failure), msg.ref);
      // Away, a registered nick may not come back before its window ends: its inbox keeps it for the next login.
      postDirect(ctx, e, msg.sender, target, awayAccount(known), msg.ref);
    });
  },

  post(ctx, seg, msg) {
    seg.later(() => ctx.bus.post(asBuffer(msg.frame)));
  },

  leave(ctx, seg, msg) {
    const m = ctx.rooms.member(msg.session);
    if (!m) return;
    ctx.forget(m);
    const was = ctx.rooms.leave(m);
    const notice = msg.notice;
    if (notice && was.length > 0) seg.later(() => ctx.bus.postToRooms(was, asBuffer(notice), 1));
  },

  rename(ctx, seg, msg) {
    const m = ctx.rooms.member(msg.session);
    if (!m) return;
    ctx.rooms.renamed(m, msg.nick);
    m.account = msg.account === true;
    ctx.persist(m);
    const notice = asBuffer(msg.notice);
    const own = msg.own ? { to: m.address, frame: asBuffer(msg.own) } : undefined;
    // Everyone who shares a room hears it once; someone in no room still sees their own.
    seg.later(() =>
      m.rooms.length > 0
        ? ctx.bus.postToRooms(m.rooms, notice, 1, own)
        : ctx.bus.postTo(m.address, own?.frame ?? notice),
    );
  },

  part(ctx, seg, msg) {
    const where = inRoom(ctx, msg.session, msg.room, msg.ref);
    if (!where) return;
    const { m, room } = where;
    ctx.rooms.part(m, msg.room);
    ctx.persist(m);
    seg.later(() => {
      ctx.bus.membership(m.address, { key: room.key, name: room.name }, false);
      ctx.bus.postToRooms(
        [room.key],
        encodeMessage({
          type: 'NOTICE',
          event: 'parted',
          nick: m.nick,
          room: room.name,
          ...(msg.reason ? { reason: msg.reason } : {}),
        }),
        2,
      );
      send(ctx, m.address, {
        ...{ type: 'PARTED', room: room.name, ...(msg.reason ? { reason: msg.reason } : {}) },
        ...withRef(msg.ref),
      });
    });
  },

  topic(ctx, seg, msg) {
    const where = inRoom(ctx, msg.session, msg.room, msg.ref);
    if (!where) return;
    const { m, room } = where;
    if (msg.text === undefined) {
      seg.later(() =>
        send(ctx, m.address, {
          type: 'ROOMS_REPLY',
          rooms: [{ room: room.name, members: room.members.size, topic: room.topic }],
          total: 1,
          ...withRef(msg.ref),
        }),
      );
      return;
    }
    ctx.rooms.setTopic(room, msg.text);
    ctx.saveTopic(room);
    const notice: ServerMessage = { type: 'NOTICE', event: 'topic', nick: m.nick, room: room.name, text: msg.text };
    seg.later(() => ctx.bus.postToRooms([room.key], encodeMessage(notice), 2, ownCopy(m.address, notice, msg.ref)));
  },

  rooms(ctx, seg, msg) {
    const all = ctx.rooms.list();
    seg.later(() =>
      send(ctx, msg.session, {
        type: 'ROOMS_REPLY',
        rooms: all.slice(0, LIST_MAX).map((r) => ({ room: r.name, members: r.members.size, topic: r.topic })),
        total: all.length,
        ...withRef(msg.ref),
      }),
    );
  },

  names(ctx, seg, msg) {
    const room = ctx.rooms.room(msg.room);
    if (!room)
      return refuse(
        ctx,
        msg.session,
        'NO_SUCH_ROOM',
        `there is no room ${msg.room} (it has no members); /join ${msg.room} makes it`,
        msg.ref,
      );
    const nicks = [...room.members.values()].map((m) => m.nick).sort((a, b) => a.localeCompare(b));
    seg.later(() =>
      send(ctx, msg.session, {
        type: 'NAMES_REPLY',
        room: room.name,
        nicks: nicks.slice(0, LIST_MAX),
        total: nicks.length,
        ...withRef(msg.ref),
      }),
    );
  },

  /** A restarted store thread learns again who is where from each worker: no notices, no limits (they held before). */
  restore(ctx, _seg, msg) {
    const m = ctx.rooms.enter(msg.session, msg.nick, msg.version);
    for (const r of msg.rooms) ctx.rooms.join(m, r.name, true);
    ctx.adopt(m);
    // Whether it is its nick's account was not kept: asked again (direct messages while it is away go to its inbox).
    holdsAccount(ctx.store, m.nick).then(
      (yes) => void (yes && (m.account = true)),
      () => undefined,
    );
  },

  'worker-died'(ctx, seg, msg) {
    // A worker of this node died: its sessions are the members owned by that worker on this node.
    const away = new Set(msg.away.map((r) => memberKey({ ...r, node: ctx.node })));
    for (const m of ctx.rooms.ownedBy(msg.worker).filter((o) => o.address.node === ctx.node)) {
      if (away.has(memberKey(m.address))) {
        wentAway(ctx, seg, m);
        continue;
      }
      ctx.forget(m);
      const was = ctx.rooms.leave(m);
      const notice = encodeMessage({ type: 'NOTICE', event: 'left', nick: m.nick, reason: msg.reason });
      if (was.length > 0) seg.later(() => ctx.bus.postToRooms(was, notice, 1));
    }
  },
};
