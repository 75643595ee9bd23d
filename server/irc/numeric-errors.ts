/**
 * The error numerics the door answers with, each in its standard shape
 * (modern.ircdocs.horse; SASL's from ircv3.net sasl-3.1), and what a
 * refusal of the chat (an ERROR code of docs/PROTOCOL.md) is on IRC.
 */
import type { WireErrorCode } from '../../common/errors.js';
import { IrcError, IrcErrorCode } from './irc-error.js';
import type { IrcMessage } from './message.js';
import { numeric } from './numerics.js';

/** Each error: its numeric, the parameters it names (before the text), and its usual text. */
export const ERRORS = {
  ERR_NOSUCHNICK: ['401', ['nick'], 'No such nick/channel'],
  ERR_NOSUCHCHANNEL: ['403', ['channel'], 'No such channel'],
  ERR_CANNOTSENDTOCHAN: ['404', ['channel'], 'Cannot send to channel'],
  ERR_TOOMANYCHANNELS: ['405', ['channel'], 'You have joined too many channels'],
  ERR_TOOMANYTARGETS: ['407', ['target'], 'Too many targets: one at a time'],
  ERR_INVALIDCAPCMD: ['410', ['subcommand'], 'Invalid CAP command'],
  ERR_NORECIPIENT: ['411', [], 'No recipient given'],
  ERR_NOTEXTTOSEND: ['412', [], 'No text to send'],
  ERR_INPUTTOOLONG: ['417', [], 'Input line was too long'],
  ERR_UNKNOWNCOMMAND: ['421', ['command'], 'Unknown command'],
  ERR_NONICKNAMEGIVEN: ['431', [], 'No nickname given'],
  ERR_ERRONEUSNICKNAME: ['432', ['nick'], 'Erroneous nickname'],
  ERR_NICKNAMEINUSE: ['433', ['nick'], 'Nickname is already in use'],
  ERR_NICKCOLLISION: ['436', ['nick'], 'Nickname collision KILL'],
  ERR_USERNOTINCHANNEL: ['441', ['nick', 'channel'], "They aren't on that channel"],
  ERR_NOTONCHANNEL: ['442', ['channel'], "You're not on that channel"],
  ERR_NOTREGISTERED: ['451', [], 'You have not registered'],
  ERR_NEEDMOREPARAMS: ['461', ['command'], 'Not enough parameters'],
  ERR_ALREADYREGISTERED: ['462', [], 'You may not reregister'],
  ERR_PASSWDMISMATCH: ['464', [], 'Password incorrect'],
  ERR_YOUREBANNEDCREEP: ['465', [], 'You are banned from this server'],
  ERR_CHANNELISFULL: ['471', ['channel'], 'Cannot join channel (+l)'],
  ERR_INVITEONLYCHAN: ['473', ['channel'], 'Cannot join channel (+i)'],
  ERR_NEEDREGGEDNICK: ['477', ['channel'], 'You need a registered nick to join that channel'],
  ERR_CHANOPRIVSNEEDED: ['482', ['channel'], "You're not channel operator"],
  RPL_LOGGEDIN: ['900', ['mask', 'account'], 'You are now logged in'],
  RPL_LOGGEDOUT: ['901', ['mask'], 'You are now logged out'],
  ERR_NICKLOCKED: ['902', [], 'You must use a nick assigned to you'],
  RPL_SASLSUCCESS: ['903', [], 'SASL authentication successful'],
  ERR_SASLFAIL: ['904', [], 'SASL authentication failed'],
  ERR_SASLTOOLONG: ['905', [], 'SASL message too long'],
  ERR_SASLABORTED: ['906', [], 'SASL authentication aborted'],
  ERR_SASLALREADY: ['907', [], 'You have already authenticated using SASL'],
  RPL_SASLMECHS: ['908', ['mechanisms'], 'are available SASL mechanisms'],
} as const satisfies Record<string, readonly [string, readonly string[], string]>;

export type ErrorName = keyof typeof ERRORS;

/**
 * The numeric `name` to `me` with its parameters, in order, and `text` in
 * place of the usual one (the chat's reason, when it has one: people read
 * why, as chat users do). A wrong count of parameters is the door's bug.
 */
export function errorReply(
  server: string,
  me: string,
  name: ErrorName,
  args: string[] = [],
  text?: string,
): IrcMessage {
  const [code, names, usual] = ERRORS[name];
  if (args.length !== names.length)
    throw new IrcError(IrcErrorCode.BAD_OUTPUT, `${name} takes ${names.join(', ') || 'no parameters'}`);
  return numeric(server, code, me, ...args, text ?? usual);
}

/** What the client was doing when the chat refused: the command and what it named. */
export interface Refused {
  command: string;
  /** The nick or room the command named, when it named one. */
  target?: string;
}

/**
 * A chat refusal as IRC says it. Fatal codes become ERROR (the connection
 * closes after it); the ones IRC has a numeric for, that numeric with the
 * chat's reason as its text; the rest FAIL <command> <CODE> (IRCv3 standard
 * replies), which names the chat's own code.
 */
export function chatRefusal(server: string, me: string, code: WireErrorCode, message: string, r: Refused): IrcMessage {
  const target = r.target ?? '*';
  const inRoom = target.startsWith('#');
  switch (code) {
    case 'NICK_INVALID':
      return errorReply(server, me, 'ERR_ERRONEUSNICKNAME', [target], message);
    case 'NICK_TAKEN':
    case 'NICK_REGISTERED':
      return errorReply(server, me, 'ERR_NICKNAMEINUSE', [target], message);
    case 'NO_SUCH_NICK':
      return errorReply(server, me, 'ERR_NOSUCHNICK', [target], message);
    case 'NO_SUCH_ROOM':
    case 'ROOM_INVALID':
      return errorReply(server, me, 'ERR_NOSUCHCHANNEL', [target], message);
    case 'NOT_IN_ROOM':
      return r.command === 'PRIVMSG' || r.command === 'NOTICE' || r.command === 'TAGMSG'
        ? errorReply(server, me, 'ERR_CANNOTSENDTOCHAN', [target], message)
        : errorReply(server, me, 'ERR_NOTONCHANNEL', [target], message);
    case 'ROOM_LIMIT':
      return errorReply(server, me, 'ERR_TOOMANYCHANNELS', [target], message);
    case 'TEXT_INVALID':
      return errorReply(server, me, 'ERR_NOTEXTTOSEND', [], message);
    case 'NOT_STORED':
      return inRoom
        ? errorReply(server, me, 'ERR_CANNOTSENDTOCHAN', [target], message)
        : fail(server, r.command, code, message);
    case 'PASSWORD_REQUIRED':
    case 'PASSWORD_WRONG':
      return errorReply(server, me, 'ERR_PASSWDMISMATCH', [], message);
    case 'PASSWORD_LOCKED':
      return errorReply(server, me, 'ERR_YOUREBANNEDCREEP', [], message);
    case 'SERVER_FULL':
    case 'ADDRESS_LIMIT':
    case 'FLOOD':
    case 'SEND_QUEUE_FULL':
    case 'SHUTTING_DOWN':
      return closing(message);
    default:
      return fail(server, r.command, code, message);
  }
}

/** IRCv3 standard replies: FAIL <command> <code> [<context>...] :<description>. */
export function fail(server: string, command: string, code: string, message: string, ...context: string[]): IrcMessage {
  return { source: server, command: 'FAIL', params: [command, code, ...context, message] };
}

/** The last line before the server closes a connection. */
export function closing(reason: string): IrcMessage {
  return { command: 'ERROR', params: [`Closing link: ${reason}`] };
}

/** What a line the parser refused is answered with. */
export function lineRefusal(server: string, me: string, err: IrcError): IrcMessage | null {
  switch (err.code) {
    case IrcErrorCode.INPUT_TOO_LONG:
      return errorReply(server, me, 'ERR_INPUTTOOLONG');
    case IrcErrorCode.INVALID_UTF8:
      return fail(server, err.command, 'INVALID_UTF8', 'Message rejected: this network takes UTF-8 only');
    case IrcErrorCode.BAD_LINE:
      return fail(server, err.command, 'INVALID_LINE', err.message);
    default:
      return null;
  }
}
