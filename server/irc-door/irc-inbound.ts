/**
 * A registered IRC session's lines as the chat's frames (docs/IRC.md,
 * "From IRC to the chat"). from-irc.ts maps each command; this module adds
 * what needs the session's state or the worker: CHATHISTORY as a numbered
 * HISTORY_REQUEST, WHO and WHOIS as the chat's WHO (and NAMES for a room),
 * MOTD, LUSERS, AWAY, and the PONG that answers a heartbeat. The frames go
 * to the chat's handlers as a chat client's would, through the
 * connection's flood gate; the replies are written at once.
 */
import type { ClientMessage } from '../../common/messages.js';
import { parseChathistory } from '../irc/chathistory.js';
import { fromIrc, type LocalRequest } from '../irc/from-irc.js';
import { pongAck } from '../irc/heartbeat-ping.js';
import type { IrcMessage } from '../irc/message.js';
import { fromIrcChannel, toIrcNick } from '../irc/nick-map.js';
import { errorReply } from '../irc/numeric-errors.js';
import { awayReplies, endOfWho, lusersReplies, motdReplies } from '../irc/numerics.js';
import type { DoorServices } from './door-services.js';
import type { IrcSessionState, WhoRoom } from './irc-session.js';

export interface Incoming {
  frames: ClientMessage[];
  replies: IrcMessage[];
}

/** One line of a registered session. */
export function ircToChat(st: IrcSessionState, door: DoorServices, msg: IrcMessage): Incoming {
  const c = st.config;
  const me = toIrcNick(st.me, c.nickMode);
  if (msg.command === 'CHATHISTORY') return chathistory(st, msg, me);
  const inbound = fromIrc(
    {
      server: c.server.name,
      host: c.host,
      nickMode: c.nickMode,
      me: st.me,
      rooms: [...st.rooms.values()],
      ctcp: c.ctcp,
    },
    msg,
  );
  const out: Incoming = { frames: [], replies: inbound.replies };
  for (const f of inbound.frames) {
    out.frames.push(f);
    // A join shows the room's NAMES: asked at once, answered after the JOIN (the chat answers a session in order).
    if (f.type === 'JOIN') out.frames.push({ type: 'NAMES', room: f.room });
    if (f.type === 'NAMES') st.namesAsks.push({ room: f.room, purpose: 'names' });
    if (f.type === 'DIRECT') awayNotice(st, door, f.to, out);
  }
  for (const request of inbound.local) local(st, door, request, out);
  return out;
}

function chathistory(st: IrcSessionState, msg: IrcMessage, me: string): Incoming {
  const c = st.config;
  if (!c.offered.has('draft/chathistory'))
    return { frames: [], replies: [errorReply(c.server.name, me, 'ERR_UNKNOWNCOMMAND', ['CHATHISTORY'])] };
  const parsed = parseChathistory(c.server.name, st.me, msg.params, c.limits.historyMax);
  if (!parsed.ok) return { frames: [], replies: [parsed.reply] };
  const id = st.askHistory(parsed.ask);
  return { frames: [{ type: 'HISTORY_REQUEST', id, ...parsed.ask.request }], replies: [] };
}

/** 301 to someone messaging an IRC user (of any worker of the node) who set an AWAY message. */
function awayNotice(st: IrcSessionState, door: DoorServices, to: string, out: Incoming): void {
  const away = door.people.awayOf(to);
  if (away === undefined) return;
  const c = st.config;
  out.replies.push(awayReplies(c.server.name, toIrcNick(st.me, c.nickMode)).away(toIrcNick(to, c.nickMode), away));
}

function local(st: IrcSessionState, door: DoorServices, request: LocalRequest, out: Incoming): void {
  const c = st.config;
  const server = c.server.name;
  const me = toIrcNick(st.me, c.nickMode);
  switch (request.kind) {
    case 'who': {
      if (!request.mask.startsWith('#')) {
        st.whoAsks.push({ kind: 'mask', mask: request.mask, whox: request.whox });
        out.frames.push({ type: 'WHO' });
        return;
      }
      const room = fromIrcChannel(request.mask);
      if (!room.ok) return void out.replies.push(endOfWho(server, me, request.mask));
      const who: WhoRoom = { mask: request.mask, whox: request.whox };
      st.namesAsks.push({ room: room.name, purpose: 'who', who });
      st.whoAsks.push({ kind: 'room', who });
      out.frames.push({ type: 'NAMES', room: room.name }, { type: 'WHO' });
      return;
    }
    case 'whois':
      st.whoAsks.push({ kind: 'whois', nick: request.nick });
      out.frames.push({ type: 'WHO' });
      return;
    case 'motd':
      out.replies.push(...motdReplies(server, me, null));
      return;
    case 'lusers':
      out.replies.push(...lusersReplies(server, me, door.counts()));
      return;
    case 'away': {
      const replies = awayReplies(server, me);
      if (st.person) {
        if (request.text === null) delete st.person.awayMessage;
        else st.person.awayMessage = [...request.text].slice(0, c.limits.awayLen).join('');
        // Every worker's WHOIS sees it, and (away-notify) everyone who shares a room is told.
        door.people.awayChanged(st.me, st.person, [...st.rooms.keys()]);
      }
      out.replies.push(request.text === null ? replies.unaway() : replies.nowAway());
      return;
    }
    case 'pong': {
      const ack = pongAck(request.token);
      if (ack) out.frames.push(ack);
      return;
    }
    case 'quit':
      return; // BYE is among the frames: the chat ends the session and says goodbye.
  }
}
