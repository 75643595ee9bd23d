/**
 * A registered IRC session's commands as the chat's frames (docs/IRC.md,
 * "From IRC to the chat"). Pure: the line and the session's view in; out
 * come the frames to hand to the chat's handlers as if a chat client had
 * sent them (so every limit and refusal is the chat's own), the replies IRC
 * answers at once, and the requests only the worker can answer (WHO,
 * WHOIS, MOTD, LUSERS, AWAY, QUIT, PONG, CHATHISTORY pages).
 */
import type { ClientMessage } from '../../common/messages.js';
import { type CtcpContext, answerQuery, readText } from './ctcp.js';
import type { IrcMessage } from './message.js';
import { type NickMode, fromIrcChannel, fromIrcNick, isServiceName, toIrcNick } from './nick-map.js';
import { errorReply } from './numeric-errors.js';
import { type WhoxRequest, numeric, parseWhox } from './numerics.js';
import { fromNickServ, nickservCommand } from './nickserv.js';

export interface InContext {
  server: string;
  host: string;
  nickMode: NickMode;
  /** The session's chat nick. */
  me: string;
  /** The rooms the session is in (JOIN 0, NAMES without a channel). */
  rooms: readonly string[];
  ctcp: CtcpContext;
}

export type LocalRequest =
  | { kind: 'who'; mask: string; whox: WhoxRequest | null }
  | { kind: 'whois'; nick: string }
  | { kind: 'motd' }
  | { kind: 'lusers' }
  | { kind: 'away'; text: string | null }
  | { kind: 'quit'; reason: string }
  | { kind: 'pong'; token: string };

export interface Inbound {
  frames: ClientMessage[];
  replies: IrcMessage[];
  local: LocalRequest[];
}

const MY_MODES = '+i';
const ROOM_MODES = '+n';

export function fromIrc(ctx: InContext, msg: IrcMessage): Inbound {
  const out: Inbound = { frames: [], replies: [], local: [] };
  const me = toIrcNick(ctx.me, ctx.nickMode);
  const err: Err = (name, args = [], text) => {
    out.replies.push(errorReply(ctx.server, me, name, args, text));
  };
  const p = msg.params;
  switch (msg.command) {
    case 'PRIVMSG':
    case 'NOTICE':
      message(ctx, msg.command, p, out, err);
      break;
    case 'JOIN':
      if (p[0] === undefined) err('ERR_NEEDMOREPARAMS', ['JOIN']);
      else if (p[0] === '0')
        for (const room of ctx.rooms) out.frames.push({ type: 'PART', room, reason: 'left all rooms' });
      else for (const room of rooms(p[0], 'JOIN', err)) out.frames.push({ type: 'JOIN', room });
      break;
    case 'PART':
      if (p[0] === undefined) err('ERR_NEEDMOREPARAMS', ['PART']);
      else
        for (const room of rooms(p[0], 'PART', err))
          out.frames.push(p[1] ? { type: 'PART', room, reason: p[1] } : { type: 'PART', room });
      break;
    case 'TOPIC': {
      if (p[0] === undefined) return (err('ERR_NEEDMOREPARAMS', ['TOPIC']), out);
      const [room] = rooms(p[0], 'TOPIC', err);
      if (room !== undefined)
        out.frames.push(p[1] === undefined ? { type: 'TOPIC', room } : { type: 'TOPIC', room, text: p[1] });
      break;
    }
    case 'NICK': {
      if (!p[0]) return (err('ERR_NONICKNAMEGIVEN'), out);
      const nick = fromIrcNick(p[0]);
      if (nick.ok) out.frames.push({ type: 'NICK', nick: nick.name });
      else err('ERR_ERRONEUSNICKNAME', [p[0]], nick.reason);
      break;
    }
    case 'NAMES':
      for (const room of p[0] === undefined ? ctx.rooms : rooms(p[0], 'NAMES', err))
        out.frames.push({ type: 'NAMES', room });
      break;
    case 'LIST':
      out.frames.push({ type: 'ROOMS' });
      break;
    default:
      others(ctx, me, msg, out, err);
  }
  return out;
}

type Err = (name: Parameters<typeof errorReply>[2], args?: string[], text?: string) => void;

/**
 * Rooms named in a comma list; a name the chat's rule refuses is 403 with the reason, the rest go on. A list that
 * names none (`JOIN ,`, `PART :`) is 461, as a missing one: silence would leave the client waiting for an answer.
 */
function rooms(list: string, command: string, err: Err): string[] {
  const out: string[] = [];
  const names = list.split(',').filter(Boolean);
  if (names.length === 0) err('ERR_NEEDMOREPARAMS', [command]);
  for (const name of names) {
    const room = fromIrcChannel(name);
    if (room.ok) out.push(room.name);
    else err('ERR_NOSUCHCHANNEL', [name], room.reason);
  }
  return out;
}

/** PRIVMSG and NOTICE. NOTICE is never answered with an error (RFC 2812: no automatic reply to a NOTICE). */
function message(ctx: InContext, command: 'PRIVMSG' | 'NOTICE', p: readonly string[], out: Inbound, err: Err): void {
  const say: Err = command === 'NOTICE' ? () => {} : err;
  const [target, raw] = p;
  if (!target) return say('ERR_NORECIPIENT', [], `No recipient given (${command})`);
  if (raw === undefined || raw === '') return say('ERR_NOTEXTTOSEND');
  if (target.includes(',')) return say('ERR_TOOMANYTARGETS', [target]);
  const read = readText(raw, command);
  if (read.kind === 'drop') return;
  if (read.kind === 'query') {
    const me = toIrcNick(ctx.me, ctx.nickMode);
    out.replies.push({
      source: ctx.server,
      command: 'NOTICE',
      params: [me, answerQuery(read.query, read.arg, ctx.ctcp)],
    });
    return;
  }
  if (read.text === '') return say('ERR_NOTEXTTOSEND');
  if (isServiceName(target)) {
    // A NOTICE is never a command to a service (nothing answers a NOTICE).
    if (command === 'NOTICE') return;
    const r = nickservCommand(read.text, ctx.me);
    if ('frame' in r) out.frames.push(r.frame);
    else out.replies.push(...r.notices.map((t) => fromNickServ(ctx.host, toIrcNick(ctx.me, ctx.nickMode), t)));
    return;
  }
  if (target.startsWith('#')) {
    const room = fromIrcChannel(target);
    if (room.ok) out.frames.push({ type: 'CHAT', text: read.text, action: read.action, room: room.name });
    else say('ERR_NOSUCHCHANNEL', [target], room.reason);
    return;
  }
  const to = fromIrcNick(target);
  if (!to.ok) return say('ERR_NOSUCHNICK', [target], to.reason);
  out.frames.push({ type: 'DIRECT', to: to.name, text: read.text, ...(read.action ? { action: true } : {}) });
}

function others(ctx: InContext, me: string, msg: IrcMessage, out: Inbound, err: Err): void {
  const p = msg.params;
  switch (msg.command) {
    case 'WHO':
      out.local.push({ kind: 'who', mask: p[0] ?? '*', whox: parseWhox(p[1]) });
      return;
    case 'WHOIS': {
      // WHOIS [server] nick: the nick is the last parameter.
      const name = p.at(-1);
      if (!name) return err('ERR_NONICKNAMEGIVEN');
      const nick = fromIrcNick(name);
      if (nick.ok) return void out.local.push({ kind: 'whois', nick: nick.name });
      // Ended with 318 as for a nick nobody has: clients wait for it to close the WHOIS they asked.
      err('ERR_NOSUCHNICK', [name], nick.reason);
      out.replies.push(numeric(ctx.server, '318', me, name, 'End of /WHOIS list'));
      return;
    }
    case 'MOTD':
    case 'LUSERS':
      out.local.push({ kind: msg.command === 'MOTD' ? 'motd' : 'lusers' });
      return;
    case 'AWAY':
      out.local.push({ kind: 'away', text: p[0] ? p[0] : null });
      return;
    case 'QUIT':
      out.frames.push({ type: 'BYE', reason: p[0] ?? 'quit' });
      out.local.push({ kind: 'quit', reason: p[0] ?? 'quit' });
      return;
    case 'PING':
      if (p[0] === undefined) return err('ERR_NEEDMOREPARAMS', ['PING']);
      out.replies.push({ source: ctx.server, command: 'PONG', params: [ctx.server, p[0]] });
      return;
    case 'PONG':
      out.local.push({ kind: 'pong', token: p.at(-1) ?? '' });
      return;
    case 'MODE':
      return mode(ctx, me, p, out, err);
    case 'KICK':
      // Rooms have no operators: only the server's operator ends sessions (its console, the dashboard).
      return p[0] === undefined ? err('ERR_NEEDMOREPARAMS', ['KICK']) : err('ERR_CHANOPRIVSNEEDED', [p[0]]);
    case 'TAGMSG':
      return; // Client-only tags (typing, reactions) have nowhere to go in the chat.
    case 'VERSION':
      out.replies.push(
        numeric(ctx.server, '351', me, ctx.ctcp.version.replaceAll(' ', '-'), ctx.server, 'heartbeat-chat IRC door'),
      );
      return;
    default:
      err('ERR_UNKNOWNCOMMAND', [msg.command]);
  }
}

/** MODE: rooms are +n and nobody can change that; users are +i. Asking is answered; setting one's own +i is a no-op, any other change of one's own 501. */
function mode(ctx: InContext, me: string, p: readonly string[], out: Inbound, err: Err): void {
  const [target, change] = p;
  if (target === undefined) return err('ERR_NEEDMOREPARAMS', ['MODE']);
  if (target.startsWith('#')) {
    if (change === undefined) out.replies.push(numeric(ctx.server, '324', me, target, ROOM_MODES));
    else if (/^[+-]?b$/.test(change) && p.length === 2)
      out.replies.push(numeric(ctx.server, '368', me, target, 'End of channel ban list'));
    else err('ERR_CHANOPRIVSNEEDED', [target]);
    return;
  }
  const self = fromIrcNick(target);
  if (!self.ok || self.name.toLowerCase() !== ctx.me.toLowerCase())
    return void out.replies.push(numeric(ctx.server, '502', me, "Can't change mode for other users"));
  if (change === undefined) out.replies.push(numeric(ctx.server, '221', me, MY_MODES));
  // Anything but +i (which one has) changes nothing: said, so the client does not think it did.
  else if (!/^\+?i+$/.test(change)) out.replies.push(numeric(ctx.server, '501', me, 'Unknown MODE flag'));
}
