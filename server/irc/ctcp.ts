/**
 * CTCP (modern.ircdocs.horse/ctcp): the \x01-framed queries inside PRIVMSG
 * and NOTICE text, and IRC's formatting codes.
 *
 * ACTION (/me) crosses the door both ways: a room's CHAT with `action` is
 * the IRC ACTION. Every other query stops at the door: the chat's text
 * carries no control characters (its text policy turns \x01 into U+2401),
 * so no chat client could see a query, let alone answer it, and relaying
 * them between IRC users would pass through the history store as garbage.
 * The door answers VERSION, PING, TIME, CLIENTINFO and SOURCE itself, from
 * the server's name, never in a user's name (that would be forging what a
 * person's client said); anything else (DCC, FINGER, USERINFO, unknown)
 * gets ERRMSG saying it is not relayed. CTCP replies an IRC client sends
 * (NOTICE with \x01) are dropped: they answer queries the door never relays.
 */

export const CTCP_MARK = '\u0001';
/** What the chat's text policy makes of \x01: a visible picture, never a CTCP frame. */
const CTCP_PICTURE = '\u2401';

export type IncomingText =
  | { kind: 'text'; text: string; action: boolean }
  | { kind: 'query'; query: string; arg: string }
  | { kind: 'drop' };

/**
 * What an IRC client's PRIVMSG (or NOTICE) text is for the chat. A CTCP
 * frame's closing \x01 is optional (the spec allows clients to leave it off).
 */
export function readText(text: string, command: 'PRIVMSG' | 'NOTICE'): IncomingText {
  if (!text.startsWith(CTCP_MARK)) return { kind: 'text', text: stripFormatting(text), action: false };
  if (command === 'NOTICE') return { kind: 'drop' };
  const body = text.endsWith(CTCP_MARK) && text.length > 1 ? text.slice(1, -1) : text.slice(1);
  const space = body.indexOf(' ');
  const query = (space < 0 ? body : body.slice(0, space)).toUpperCase();
  const arg = space < 0 ? '' : body.slice(space + 1);
  if (query === 'ACTION') return { kind: 'text', text: stripFormatting(arg), action: true };
  // A frame with no query in it is an empty message (412), as an empty ACTION is: dropped, it went unanswered.
  if (query === '') return { kind: 'text', text: '', action: false };
  return { kind: 'query', query, arg };
}

export interface CtcpContext {
  /** The server's software and version, e.g. "heartbeat-chat 0.1.0". */
  version: string;
  /** Where the source is (CTCP SOURCE). */
  source: string;
  now: () => number;
}

export const CTCP_ANSWERED = ['ACTION', 'CLIENTINFO', 'PING', 'SOURCE', 'TIME', 'VERSION'] as const;

/** The door's CTCP reply (the text of a NOTICE from the server), framed in \x01. */
export function answerQuery(query: string, arg: string, ctx: CtcpContext): string {
  const reply = (body: string) => `${CTCP_MARK}${body}${CTCP_MARK}`;
  switch (query) {
    case 'VERSION':
      return reply(`VERSION ${ctx.version} (answered by the server: users here may be on any client)`);
    case 'PING':
      // The token comes back as it was, so the client measures its lag to the server.
      return reply(arg === '' ? 'PING' : `PING ${arg}`);
    case 'TIME':
      return reply(`TIME ${new Date(ctx.now()).toISOString()}`);
    case 'CLIENTINFO':
      return reply(`CLIENTINFO ${CTCP_ANSWERED.join(' ')}`);
    case 'SOURCE':
      return reply(`SOURCE ${ctx.source}`);
    default:
      return reply(`ERRMSG ${query} :not relayed: this chat carries text and /me only`);
  }
}

/** Chat text as IRC text: an action framed as ACTION; any \x01 (the policy leaves none) shown, never a frame. */
export function toIrcText(text: string, action: boolean): string {
  const safe = text.replaceAll(CTCP_MARK, CTCP_PICTURE);
  return action ? `${CTCP_MARK}ACTION ${safe}${CTCP_MARK}` : safe;
}

/**
 * IRC formatting removed: bold \x02, colour \x03 with up to two digits and
 * an optional comma and two more, hex colour \x04 with six hex digits and
 * an optional comma and six more, monospace \x11, reverse \x16, italics
 * \x1d, strikethrough \x1e, underline \x1f, reset \x0f. The chat shows
 * plain text; left in, the codes would become control pictures (␂, ␃).
 */
export function stripFormatting(text: string): string {
  return text.replace(
    /\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]/g,
    '',
  );
}
