/**
 * NickServ, for clients without SASL (irssi and HexChat out of the box, most
 * bots): `/msg NickServ IDENTIFY [nick] password`, `REGISTER password` and
 * `PASSWORD old new` are the chat's ACCOUNT identify, register and password
 * (docs/PROTOCOL.md, "Registered nicks"), with the same throttles and the
 * same refusals; the door says its answers as NOTICEs from NickServ.
 */
import type { ClientMessage, ServerMessage } from '../../common/messages.js';
import type { IrcMessage } from './message.js';
import { errorReply } from './numeric-errors.js';

export const NICKSERV = 'NickServ';

export const NICKSERV_HELP = [
  "NickServ keeps registered nicks (the chat's accounts). Commands:",
  'IDENTIFY [nick] <password>: take your registered nick (SASL PLAIN does this at connect)',
  'REGISTER <password>: register the nick you are using (8 characters or more)',
  'PASSWORD <current> <new>: change the password of your registered nick',
];

export function nickservPrefix(host: string): string {
  return `${NICKSERV}!${NICKSERV}@${host}`;
}

/** A NOTICE from NickServ to the client. */
export function fromNickServ(host: string, me: string, text: string): IrcMessage {
  return { source: nickservPrefix(host), command: 'NOTICE', params: [me, text] };
}

export type NickServResult = { frame: ClientMessage } | { notices: string[] };

/** A line sent to NickServ; `me` is the session's chat nick (IDENTIFY without a nick means it). */
export function nickservCommand(text: string, me: string): NickServResult {
  const words = text.trim().split(/ +/);
  const verb = words[0]?.toUpperCase() ?? '';
  const args = words.slice(1);
  switch (verb) {
    case 'IDENTIFY':
    case 'LOGIN':
      if (args.length === 1) return { frame: { type: 'ACCOUNT', op: 'identify', nick: me, password: args[0]! } };
      if (args.length === 2) return { frame: { type: 'ACCOUNT', op: 'identify', nick: args[0]!, password: args[1]! } };
      return { notices: ['Syntax: IDENTIFY [nick] <password>'] };
    case 'REGISTER':
      // Clients add an e-mail address after the password (Atheme's syntax): the chat has no use for one.
      if (args.length >= 1) return { frame: { type: 'ACCOUNT', op: 'register', password: args[0]! } };
      return { notices: ['Syntax: REGISTER <password>'] };
    case 'PASSWORD':
      if (args.length === 2)
        return { frame: { type: 'ACCOUNT', op: 'password', password: args[0]!, newPassword: args[1]! } };
      return { notices: ['Syntax: PASSWORD <current> <new>'] };
    default:
      return {
        notices: verb === 'HELP' || verb === '' ? NICKSERV_HELP : [`Unknown command ${verb}.`, ...NICKSERV_HELP],
      };
  }
}

type AccountReply = Extract<ServerMessage, { type: 'ACCOUNT_REPLY' }>;

/** The chat's ACCOUNT_REPLY as NickServ says it; identified is also 900 (logged in), unregistered 901. */
export function accountReplyLines(
  server: string,
  host: string,
  me: string,
  mask: string,
  r: AccountReply,
): IrcMessage[] {
  switch (r.op) {
    case 'registered':
      return [fromNickServ(host, me, `${me} is now registered: log in with SASL or IDENTIFY next time.`)];
    case 'identified':
      return [
        errorReply(server, me, 'RPL_LOGGEDIN', [mask, me], `You are now logged in as ${me}`),
        fromNickServ(host, me, `You are now identified for ${me}.`),
      ];
    case 'password':
      return [fromNickServ(host, me, 'Your password is changed.')];
    case 'unregistered':
      return [
        errorReply(server, me, 'RPL_LOGGEDOUT', [mask]),
        fromNickServ(host, me, `${me} is no longer registered (the operator removed it); you keep the nick for now.`),
      ];
    case 'offline':
      return [fromNickServ(host, me, `${r.count ?? 0} private messages came while you were away; they follow.`)];
  }
}
