/**
 * WHO and WHOIS answered from what the chat says: WHO_REPLY (everyone
 * online, with idle time and whether away) and, for a room, NAMES_REPLY (its
 * members). What only the door knows of a person (the door they came
 * through, an IRC user's real name and AWAY message, the account they are
 * logged in to) comes from `infoOf`; a chat or browser user's real name is
 * their nick. Masks: a room, or a nick pattern with `*` and `?` matched
 * against nicks as IRC shows them, without ASCII case (CASEMAPPING=ascii).
 */
import type { WhoEntry } from '../../common/messages.js';
import { foldCase } from '../../common/unicode/text-policy.js';
import type { IrcMessage } from './message.js';
import { type Door, type NickMode, toIrcNick, userPart } from './nick-map.js';
import { errorReply } from './numeric-errors.js';
import {
  type ServerInfo,
  type UserView,
  type WhoxRequest,
  endOfWho,
  numeric,
  whoReply,
  whoisReplies,
  whoxReply,
} from './numerics.js';

export interface WhoContext {
  server: ServerInfo;
  host: string;
  nickMode: NickMode;
  /** The asking session's chat nick. */
  me: string;
}

export interface PersonInfo {
  door: Door;
  realname?: string;
  account?: string;
  awayMessage?: string;
}

export type InfoOf = (nick: string) => PersonInfo | undefined;

function view(ctx: WhoContext, nick: string, entry: WhoEntry | undefined, infoOf: InfoOf): UserView {
  const info = infoOf(nick);
  const away = entry?.away ? 'connection lost: may come back' : info?.awayMessage;
  return {
    nick: toIrcNick(nick, ctx.nickMode),
    user: userPart(info?.door ?? { kind: 'chat' }),
    host: ctx.host,
    realname: info?.realname ?? nick,
    away,
    account: info?.account === undefined ? undefined : toIrcNick(info.account, ctx.nickMode),
    idleSeconds: Math.floor((entry?.idleMs ?? 0) / 1000),
    rooms: [],
  };
}

/** A WHO mask's nick pattern as a test: `*` any run, `?` one character, ASCII case ignored. */
export function maskMatcher(mask: string): (ircNick: string) => boolean {
  const pattern = [...mask.toLowerCase()]
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  const re = new RegExp(`^${pattern}$`, 'su');
  return (nick) => re.test(nick.toLowerCase());
}

/** The WHO answer: 352 (or 354 for WHOX) for each match, then 315 with the mask as asked. */
export function whoAnswer(
  ctx: WhoContext,
  mask: string,
  whox: WhoxRequest | null,
  users: readonly WhoEntry[],
  members: readonly string[] | null,
  infoOf: InfoOf,
): IrcMessage[] {
  const me = toIrcNick(ctx.me, ctx.nickMode);
  const byNick = new Map(users.map((u) => [foldCase(u.nick), u]));
  const room = mask.startsWith('#') ? mask : null;
  const nicks =
    room !== null
      ? (members ?? [])
      : users.map((u) => u.nick).filter((n) => maskMatcher(mask === '0' ? '*' : mask)(toIrcNick(n, ctx.nickMode)));
  const channel = room ?? '*';
  const lines = nicks.map((n) => {
    const v = view(ctx, n, byNick.get(foldCase(n)), infoOf);
    return whox ? whoxReply(ctx.server.name, me, channel, v, whox) : whoReply(ctx.server.name, me, channel, v);
  });
  return [...lines, endOfWho(ctx.server.name, me, mask)];
}

/** The WHOIS answer for a chat nick: its entry in WHO_REPLY, or 401 and 318 when nobody has it. */
export function whoisAnswer(ctx: WhoContext, nick: string, users: readonly WhoEntry[], infoOf: InfoOf): IrcMessage[] {
  const me = toIrcNick(ctx.me, ctx.nickMode);
  const shown = toIrcNick(nick, ctx.nickMode);
  const entry = users.find((u) => foldCase(u.nick) === foldCase(nick));
  if (entry === undefined)
    return [
      errorReply(ctx.server.name, me, 'ERR_NOSUCHNICK', [shown]),
      numeric(ctx.server.name, '318', me, shown, 'End of /WHOIS list'),
    ];
  return whoisReplies(ctx.server, me, view(ctx, entry.nick, entry, infoOf));
}
