/**
 * Names across the two doors (docs/IRC.md, "Nicks and rooms").
 *
 * The chat allows nicks in any script (common/unicode/nick-rule.ts). Every
 * chat nick already keeps IRC's hard rules (modern.ircdocs.horse: no space,
 * comma, '*', '?', '!' or '@'; no leading '$', ':', '#' or membership
 * prefix): its characters are letters, marks, digits and _ - . [ ] { } | ^ `.
 * So by default ('utf8') IRC clients see chat nicks as they are, in UTF-8, as
 * Ergo shows them; irssi, WeeChat, HexChat, The Lounge and irc-framework all
 * take them. '.' (which IRC says servers SHOULD NOT allow) is kept: it only
 * confuses a reader of a bare prefix, and the door always sends nick!user@host.
 *
 * For clients that cannot show or type such a nick, and for a server run
 * with ASCII nicks ('ascii'), a nick that is not an RFC 2812 nick is shown as
 * "xn--" and its Punycode (RFC 3492; `小明` is `xn--yeto6u`), which is one
 * (a '.' in it written '\', which RFC 2812 allows and no chat nick has).
 * In both modes a name an IRC client sends that starts with "xn--" (any case)
 * is decoded, so `/msg xn--yeto6u hi` reaches 小明 from any client; for that
 * to be a bijection a chat nick that itself starts with "xn--" is always
 * shown encoded (`xn--abc` as `xn--xn--abc-`), and so is a chat user named
 * like one of the door's services (NickServ as `xn--NickServ-`), whose name
 * IRC clients use for the service.
 *
 * The other way is the chat's rule: a name from IRC becomes a chat nick only
 * if it is one (checkNick); '\' for instance is IRC's and not the chat's
 * (432 with the rule's reason). Rooms need no mapping: IRC channel names
 * take any UTF-8 but space, comma, BEL and ':', a superset of the chat's
 * room names, so `#lobby` is `#lobby` and `#实验室` is `#实验室`; the chat's
 * room rule decides what may be joined, and only '#' rooms exist.
 */
import { checkNick } from '../../common/unicode/nick-rule.js';
import { checkRoomName } from '../../common/unicode/room-rule.js';
import { IrcError } from './irc-error.js';
import { decode, encode } from './punycode.js';

export type NickMode = 'utf8' | 'ascii';

const ACE = /^xn--/i;
/** RFC 2812: a letter or one of [ ] \ ` _ ^ { | } first, then those, digits and '-'. */
const RFC2812_NICK = /^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]*$/;

/** The nick an IRC client sees for a chat nick. */
/** Names the door answers itself (nickserv.ts): a chat user so named is shown encoded, as xn-- names are. */
export const SERVICE_NICKS = ['NickServ'] as const;
const SERVICE_KEYS = new Set(SERVICE_NICKS.map((n) => n.toLowerCase()));

export function isServiceName(name: string): boolean {
  return SERVICE_KEYS.has(name.toLowerCase());
}

export function toIrcNick(chatNick: string, mode: NickMode): string {
  const plain = !ACE.test(chatNick) && !isServiceName(chatNick);
  if (plain && (mode === 'utf8' || RFC2812_NICK.test(chatNick))) return chatNick;
  // Punycode keeps ASCII as it is, '.' too, which RFC 2812 refuses: it goes as '\', which no chat nick holds.
  return `xn--${encode(chatNick.replaceAll('.', '\\'))}`;
}

export type NameResult = { ok: true; name: string } | { ok: false; reason: string };

/** The chat nick an IRC client means by `name` (a NICK it asks for, a target it names), or why it is none. */
export function fromIrcNick(name: string): NameResult {
  let nick = name;
  if (ACE.test(name)) {
    try {
      nick = decode(name.slice(4)).replaceAll('\\', '.');
    } catch (err) {
      if (err instanceof IrcError) return { ok: false, reason: `${name} is not a valid xn-- (Punycode) name` };
      throw err;
    }
  }
  const check = checkNick(nick);
  return check.ok ? { ok: true, name: check.nick } : check;
}

/** The chat room an IRC channel name is: the same name, if the chat's room rule takes it. */
export function fromIrcChannel(name: string): NameResult {
  if (!name.startsWith('#')) return { ok: false, reason: `only # rooms exist here (${name})` };
  const check = checkRoomName(name);
  return check.ok ? { ok: true, name: check.room } : check;
}

/** How a session connected: the user part of its IRC prefix. */
export type Door = { kind: 'chat' } | { kind: 'web' } | { kind: 'irc'; ident: string };

/**
 * The user part of a prefix. IRC sessions show their USER ident with '~'
 * (never verified by ident lookup), cut to ASCII letters, digits, '_', '-'
 * and '.' and 10 characters; chat and browser sessions show 'chat' and
 * 'web'. Addresses are never shown (the chat never shows one user
 * another's): the host is the same cloak for everyone.
 */
export function userPart(door: Door): string {
  if (door.kind !== 'irc') return door.kind;
  const ident = door.ident.replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 10);
  return `~${ident || 'user'}`;
}

export function prefixOf(chatNick: string, door: Door, host: string, mode: NickMode): string {
  return `${toIrcNick(chatNick, mode)}!${userPart(door)}@${host}`;
}
