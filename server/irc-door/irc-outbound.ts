/**
 * What the chat sends a registered IRC session, as IRC lines (docs/IRC.md,
 * "From the chat to IRC"). to-irc.ts maps each frame; this module adds what
 * needs the session's state: its own nick and rooms followed from the
 * notices about it, the answers to requests the door made for it (NAMES
 * after a join, WHO, WHOIS, CHATHISTORY) matched to why they were asked,
 * the history of a joined room held until its NAMES are shown, history in
 * chathistory batches that span the chat's HISTORY frames, heartbeats as
 * PING, and the chat's refusals as the numerics IRC has for them.
 */
import type { ClientMessage, ServerMessage } from '../../common/messages.js';
import { foldCase } from '../../common/unicode/text-policy.js';
import { roomKey } from '../../common/unicode/room-rule.js';
import type { WireErrorCode } from '../../common/errors.js';
import { keptEntries } from '../irc/chathistory.js';
import { heartbeatPing } from '../irc/heartbeat-ping.js';
import { batchEnd, batchStart, historyLines } from '../irc/history-batch.js';
import type { IrcMessage } from '../irc/message.js';
import { isServiceName, toIrcNick } from '../irc/nick-map.js';
import { fromNickServ } from '../irc/nickserv.js';
import { chatRefusal, closing } from '../irc/numeric-errors.js';
import { namesReplies, numeric, topicReplies } from '../irc/numerics.js';
import { toIrc } from '../irc/to-irc.js';
import { whoAnswer, whoisAnswer, type WhoContext } from '../irc/who-answer.js';
import type { HistoryFrame, IrcSessionState, WhoRoom } from './irc-session.js';

export interface Outgoing {
  lines: IrcMessage[];
  /** Requests to the chat the lines need (NAMES after a join). */
  ask: ClientMessage[];
}

type Message<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

/** One chat frame for a registered IRC session. */
export function chatToIrc(st: IrcSessionState, msg: ServerMessage): Outgoing {
  const out: Outgoing = { lines: [], ask: [] };
  switch (msg.type) {
    case 'HEARTBEAT':
      out.lines.push(heartbeatPing(st.config.server.name, msg.seq, msg.ts));
      break;
    case 'ERROR':
      refused(st, msg, out);
      break;
    case 'JOINED':
      st.joined(msg.room);
      out.lines.push(...toIrc(st.out(), msg).lines);
      // The default room's join (no JOIN of the client's): its NAMES asked now.
      if (st.joinAnswered(msg.ref, true)) break;
      st.namesAsks.push({ room: msg.room, purpose: 'join' });
      out.ask.push({ type: 'NAMES', room: msg.room });
      break;
    case 'NAMES_REPLY':
      names(st, msg, out);
      break;
    case 'WHO_REPLY':
      who(st, msg, out);
      break;
    case 'HISTORY':
      history(st, msg, out);
      break;
    case 'NOTICE':
      // A NICK to the nick it has already changes nothing: answered (a ref needs an answer), shown as nothing.
      if (msg.event !== 'nick' || msg.newNick !== msg.nick) out.lines.push(...toIrc(st.out(), msg).lines);
      aboutMe(st, msg);
      break;
    case 'ROOMS_REPLY': {
      // TOPIC #room without text is answered with the room's line of a list: IRC answers it with the topic.
      const room = msg.rooms[0];
      if (st.requests.commandOf(msg) === 'TOPIC' && room)
        out.lines.push(...topicReplies(st.config.server.name, me(st), room.room, room.topic));
      else out.lines.push(...toIrc(st.out(), msg).lines);
      break;
    }
    case 'PARTED':
      st.parted(msg.room);
      out.lines.push(...toIrc(st.out(), msg).lines);
      break;
    case 'ACCOUNT_REPLY':
      // Registering a nick logs the session in to it, as identifying does (the chat's order counts it as the account's).
      if (st.person && (msg.op === 'identified' || msg.op === 'registered')) st.person.account = msg.nick;
      if (st.person && msg.op === 'unregistered') delete st.person.account;
      if (st.person) st.people.changed(st.person);
      out.lines.push(...toIrc(st.out(), msg).lines);
      break;
    case 'WELCOME':
    case 'TICKET':
    case 'FILES_REPLY':
    case 'RESUMED':
      break;
    default:
      out.lines.push(...toIrc(st.out(), msg).lines);
  }
  return out;
}

/** A notice about this very session: it joined a room (the JOIN echo), or its nick changed. */
function aboutMe(st: IrcSessionState, n: Message<'NOTICE'>): void {
  if (foldCase(n.nick) !== foldCase(st.me)) return;
  if (n.event === 'joined') st.joined(n.room ?? st.config.defaultRoom);
  if (n.event === 'nick' && n.newNick) {
    if (st.person) st.people.renamed(st.me, n.newNick, st.person);
    st.me = n.newNick;
  }
}

function me(st: IrcSessionState): string {
  return toIrcNick(st.me, st.config.nickMode);
}

function whoContext(st: IrcSessionState): WhoContext {
  return { server: st.config.server, host: st.config.host, nickMode: st.config.nickMode, me: st.me };
}

function names(st: IrcSessionState, msg: Message<'NAMES_REPLY'>, out: Outgoing): void {
  const ask = st.takeNames(msg.room);
  if (ask?.purpose === 'who') {
    ask.who.members = msg.nicks;
    return answerRoomWho(st, ask.who, out);
  }
  // The NAMES of a JOIN that was refused: nothing shown, as nothing was joined.
  if (ask?.purpose === 'join' && ask.join !== undefined && ask.join !== 'joined')
    return releaseHistory(st, msg.room, out);
  const mode = st.config.nickMode;
  const shown = msg.nicks.map((n) => toIrcNick(n, mode));
  out.lines.push(...namesReplies(st.config.server.name, me(st), msg.room, shown));
  if (ask?.purpose === 'join') releaseHistory(st, msg.room, out);
}

function who(st: IrcSessionState, msg: Message<'WHO_REPLY'>, out: Outgoing): void {
  const ask = st.whoAsks.shift();
  if (!ask) return;
  const infoOf = (nick: string) => personOf(st, nick);
  if (ask.kind === 'mask') out.lines.push(...whoAnswer(whoContext(st), ask.mask, ask.whox, msg.users, null, infoOf));
  else if (ask.kind === 'whois') out.lines.push(...whoisAnswer(whoContext(st), ask.nick, msg.users, infoOf));
  else {
    ask.who.users = msg.users;
    answerRoomWho(st, ask.who, out);
  }
}

function personOf(st: IrcSessionState, nick: string) {
  const info = st.people.infoOf(nick);
  if (st.person && foldCase(nick) === foldCase(st.me)) info.door = { kind: 'irc', ident: st.person.ident };
  return info;
}

/** WHO #room, once both its members and everyone's state have come. */
function answerRoomWho(st: IrcSessionState, w: WhoRoom, out: Outgoing): void {
  if (w.members === undefined || w.users === undefined) return;
  out.lines.push(...whoAnswer(whoContext(st), w.mask, w.whox, w.users, w.members, (n) => personOf(st, n)));
}

function history(st: IrcSessionState, msg: Message<'HISTORY'>, out: Outgoing): void {
  const frame: HistoryFrame = { entries: msg.entries, done: msg.done };
  if (msg.room !== undefined) frame.room = msg.room;
  if (msg.with !== undefined) frame.with = msg.with;
  const ask = msg.id === undefined ? undefined : st.historyAsks.get(msg.id);
  if (ask) {
    frame.entries = keptEntries(ask, frame.entries);
    if (msg.done) st.historyAsks.delete(msg.id!);
    return emitHistory(st, `id:${msg.id}`, ask.target, frame, true, out);
  }
  const room = msg.room;
  if (
    room !== undefined &&
    !msg.missed &&
    st.namesAsks.some((a) => a.purpose === 'join' && roomKey(a.room) === roomKey(room))
  ) {
    const held = st.heldHistory.get(roomKey(room)) ?? [];
    st.heldHistory.set(roomKey(room), [...held, frame]);
    return;
  }
  const target = room ?? toIrcNick(msg.with ?? st.me, st.config.nickMode);
  const stream = msg.id !== undefined ? `id:${msg.id}` : `${msg.missed ? 'missed' : 'join'}:${room ?? `@${msg.with}`}`;
  emitHistory(st, stream, target, frame, false, out);
}

/** A joined room's history, held while its NAMES were asked, now after them. */
function releaseHistory(st: IrcSessionState, room: string, out: Outgoing): void {
  const held = st.heldHistory.get(roomKey(room));
  st.heldHistory.delete(roomKey(room));
  for (const frame of held ?? []) emitHistory(st, `join:${room}`, room, frame, false, out);
}

/**
 * History in one batch per answer (the chat may send it in several frames; `done` ends it). An answer with
 * nothing in it is an empty batch when the client asked (CHATHISTORY), and nothing at all on a join.
 */
function emitHistory(
  st: IrcSessionState,
  stream: string,
  target: string,
  frame: HistoryFrame,
  asked: boolean,
  out: Outgoing,
): void {
  const ctx = st.out();
  let ref = st.batches.get(stream);
  if (ref === undefined && (frame.entries.length > 0 || (asked && frame.done))) {
    ref = st.batchRef();
    st.batches.set(stream, ref);
    const start = batchStart(ctx, ref, target);
    if (start) out.lines.push(start);
  }
  if (ref === undefined) return;
  out.lines.push(...historyLines(ctx, frame.entries, frame.room ?? null, ref));
  if (!frame.done) return;
  st.batches.delete(stream);
  const end = batchEnd(ctx, ref);
  if (end) out.lines.push(end);
}

/** The chat refused: a fatal refusal closes with ERROR; the rest are the numeric IRC has, or FAIL. */
function refused(st: IrcSessionState, msg: Message<'ERROR'>, out: Outgoing): void {
  const server = st.config.server.name;
  if (msg.fatal) {
    out.lines.push(closing(msg.message));
    return;
  }
  // A JOIN refused: the NAMES sent with it show nothing, refused in turn or not.
  st.joinAnswered(msg.ref, false);
  const unjoined = st.takeUnjoinedNames(msg.ref);
  if (unjoined) return releaseHistory(st, unjoined.room, out);
  if (msg.code === 'NO_SUCH_ROOM' && noRoom(st, msg.message, out)) return;
  const what = st.requests.refusedOf(msg.ref);
  // RFC 2812: nothing answers a NOTICE, not even its refusal.
  if (what.command === 'NOTICE') return;
  // What NickServ was asked to do, refused: NickServ says why, as services do.
  if (what.target !== undefined && isServiceName(what.target))
    return void out.lines.push(fromNickServ(st.config.host, me(st), `${msg.code}: ${msg.message}`));
  out.lines.push(chatRefusal(server, me(st), msg.code as WireErrorCode, msg.message, what));
}

/** NAMES the door asked for a room that does not exist: the answer is an empty list, not an error. */
function noRoom(st: IrcSessionState, message: string, out: Outgoing): boolean {
  const ask = st.namesAsks.find((a) => message.startsWith(`there is no room ${a.room} `));
  if (!ask) return false;
  st.takeNames(ask.room);
  if (ask.purpose === 'who') {
    ask.who.members = [];
    answerRoomWho(st, ask.who, out);
  } else {
    out.lines.push(numeric(st.config.server.name, '366', me(st), ask.room, 'End of /NAMES list'));
    if (ask.purpose === 'join') releaseHistory(st, ask.room, out);
  }
  return true;
}
