/**
 * The chat's frames as IRC lines, for one IRC session (docs/IRC.md, "From
 * the chat to IRC"). Pure: the frame and the session's view in, lines out,
 * and the chat requests the lines need (JOINED shows the topic; NAMES must
 * be asked for). A room message longer than one line goes as several.
 * What IRC has no place for (file tickets, heartbeats, WELCOME, RESUMED) is
 * the worker's, not this module's.
 */
import type { ClientMessage, ServerMessage } from '../../common/messages.js';
import { foldCase } from '../../common/unicode/text-policy.js';
import type { Capability } from './caps.js';
import { toIrcText } from './ctcp.js';
import { type IrcMessage, splitUtf8, trailingRoom } from './message.js';
import { type Conversation, msgid } from './msgid.js';
import { type Door, type NickMode, prefixOf, toIrcNick } from './nick-map.js';
import { accountReplyLines } from './nickserv.js';
import { listReplies, namesReplies, topicReplies } from './numerics.js';

export interface OutContext {
  server: string;
  host: string;
  nickMode: NickMode;
  /** The session's chat nick. */
  me: string;
  caps: { has(cap: Capability): boolean };
  /** How someone connected (the user part of their prefix); 'chat' when not known. */
  doorOf?: (nick: string) => Door;
  /** Where CHAT without a room goes (--default-room). */
  defaultRoom: string;
  /** The registered nick someone is logged in as, if any (account-tag). */
  accountOf?: (nick: string) => string | undefined;
}

export interface Outbound {
  lines: IrcMessage[];
  /** Chat requests these lines need answered (NAMES after a join). */
  ask: ClientMessage[];
}

export function isMe(ctx: OutContext, nick: string): boolean {
  return foldCase(nick) === foldCase(ctx.me);
}

export function prefix(ctx: OutContext, nick: string): string {
  return prefixOf(nick, ctx.doorOf?.(nick) ?? { kind: 'chat' }, ctx.host, ctx.nickMode);
}

/** The server-time tag, when the client asked for it. */
export function timeTags(ctx: OutContext, ts: number): Record<string, string> | undefined {
  return ctx.caps.has('server-time') ? { time: new Date(Math.floor(ts)).toISOString() } : undefined;
}

/** A message's tags, each when its capability is on: time, msgid (message-tags), account (account-tag). */
export function messageTags(
  ctx: OutContext,
  m: { ts: number; from: string; id?: number | undefined; conversation: Conversation },
): Record<string, string> | undefined {
  const tags: Record<string, string> = { ...timeTags(ctx, m.ts) };
  if (m.id !== undefined && ctx.caps.has('message-tags')) tags.msgid = msgid(m.conversation, m.id, m.ts);
  const account = ctx.caps.has('account-tag') ? ctx.accountOf?.(m.from) : undefined;
  if (account !== undefined) tags.account = toIrcNick(account, ctx.nickMode);
  return Object.keys(tags).length > 0 ? tags : undefined;
}

/** PRIVMSG lines of one message, cut to fit, each with the same tags. */
export function privmsg(
  ctx: OutContext,
  from: string,
  target: string,
  text: string,
  action: boolean,
  tags?: Record<string, string>,
): IrcMessage[] {
  const base: IrcMessage = { source: prefix(ctx, from), command: 'PRIVMSG', params: [target] };
  // An action's frame (\x01ACTION and \x01) goes on every piece.
  const room = trailingRoom(base) - (action ? 9 : 0);
  return splitUtf8(text, room).map((piece) => ({
    ...(tags ? { tags } : {}),
    ...base,
    params: [target, toIrcText(piece, action)],
  }));
}

function serverNotice(ctx: OutContext, text: string, ts?: number): IrcMessage {
  const tags = ts === undefined ? undefined : timeTags(ctx, ts);
  return { ...(tags ? { tags } : {}), source: ctx.server, command: 'NOTICE', params: [irc(ctx, ctx.me), text] };
}

const irc = (ctx: OutContext, nick: string) => toIrcNick(nick, ctx.nickMode);

/** One chat frame for this IRC session. */
export function toIrc(ctx: OutContext, msg: ServerMessage): Outbound {
  const out: Outbound = { lines: [], ask: [] };
  switch (msg.type) {
    case 'CHAT':
      // The chat echoes a sender's own message; an IRC client expects it only with echo-message.
      if (!isMe(ctx, msg.from) || ctx.caps.has('echo-message')) {
        const room = msg.room ?? ctx.defaultRoom;
        const tags = messageTags(ctx, { ...msg, conversation: { room } });
        out.lines.push(...privmsg(ctx, msg.from, room, msg.text, msg.action, tags));
      }
      break;
    case 'DIRECT': {
      const mine = isMe(ctx, msg.from);
      const tags = messageTags(ctx, { ...msg, conversation: { between: [msg.from, msg.to] } });
      // A message to oneself is received too: the chat sends it once, so without echo-message it is shown as that.
      if (!mine || ctx.caps.has('echo-message') || isMe(ctx, msg.to))
        out.lines.push(
          ...privmsg(ctx, msg.from, irc(ctx, mine ? msg.to : ctx.me), msg.text, msg.action === true, tags),
        );
      break;
    }
    case 'BROADCAST':
      out.lines.push(serverNotice(ctx, `Message from the operator: ${msg.text}`, msg.ts));
      break;
    case 'NOTICE':
      out.lines.push(...noticeLines(ctx, msg));
      break;
    case 'JOINED':
      out.lines.push(...topicReplies(ctx.server, irc(ctx, ctx.me), msg.room, msg.topic));
      out.ask.push({ type: 'NAMES', room: msg.room });
      break;
    case 'PARTED':
      out.lines.push(part(ctx, ctx.me, msg.room, msg.reason));
      break;
    case 'NAMES_REPLY':
      out.lines.push(
        ...namesReplies(
          ctx.server,
          irc(ctx, ctx.me),
          msg.room,
          msg.nicks.map((n) => irc(ctx, n)),
        ),
      );
      break;
    case 'ROOMS_REPLY':
      out.lines.push(...listReplies(ctx.server, irc(ctx, ctx.me), msg.rooms));
      break;
    case 'ACCOUNT_REPLY':
      // The reply names the nick it is about: after identify, the session's new one.
      out.lines.push(...accountReplyLines(ctx.server, ctx.host, irc(ctx, msg.nick), prefix(ctx, msg.nick), msg));
      break;
    case 'BYE':
      out.lines.push({ command: 'ERROR', params: [`Closing link: ${msg.reason}`] });
      break;
    default:
      break;
  }
  return out;
}

function part(ctx: OutContext, nick: string, room: string, reason?: string): IrcMessage {
  return { source: prefix(ctx, nick), command: 'PART', params: reason ? [room, reason] : [room] };
}

function quit(ctx: OutContext, nick: string, reason: string): IrcMessage {
  return { source: prefix(ctx, nick), command: 'QUIT', params: [reason] };
}

type Notice = Extract<ServerMessage, { type: 'NOTICE' }>;

/** away-notify: someone is away with this message, or back (null); nothing without the capability. */
export function awayLines(ctx: OutContext, nick: string, message: string | null): IrcMessage[] {
  if (!ctx.caps.has('away-notify')) return [];
  return [{ source: prefix(ctx, nick), command: 'AWAY', params: message === null ? [] : [message] }];
}

/** NOTICE events: what happened to someone, as IRC tells it. */
export function noticeLines(ctx: OutContext, n: Notice): IrcMessage[] {
  const room = n.room ?? ctx.defaultRoom;
  switch (n.event) {
    case 'joined':
      return [{ source: prefix(ctx, n.nick), command: 'JOIN', params: [room] }];
    case 'parted':
      return [part(ctx, n.nick, room, n.reason)];
    case 'left':
      return [quit(ctx, n.nick, n.reason ? `Quit: ${n.reason}` : 'Quit')];
    case 'timed_out':
      return [quit(ctx, n.nick, 'Ping timeout')];
    case 'kicked':
      // The chat's kick is the operator ending a session, server-wide: on IRC that is a QUIT, not a channel KICK.
      return [quit(ctx, n.nick, `Kicked by the operator${n.reason ? `: ${n.reason}` : ''}`)];
    case 'nick':
      return n.newNick ? [{ source: prefix(ctx, n.nick), command: 'NICK', params: [irc(ctx, n.newNick)] }] : [];
    case 'topic':
      return [{ source: prefix(ctx, n.nick), command: 'TOPIC', params: [room, n.text ?? ''] }];
    case 'away':
      return awayLines(ctx, n.nick, 'connection lost: may come back');
    case 'back':
      return awayLines(ctx, n.nick, null);
    case 'shared':
      return [serverNotice(ctx, `${irc(ctx, n.nick)} shared ${n.name ?? 'a file'} (${n.size ?? 0} bytes)`)];
  }
}
