/**
 * How the terminal client shows what the server sends: one line per event,
 * in the formats scripts and tests read (README.md, "What the client prints").
 * Every string from the network is neutralised again here: the server is
 * trusted to do it, but a terminal must not depend on that.
 */
import type { ServerMessage } from '../common/protocol.js';
import { neutralizeControls as safe } from '../common/unicode/text-policy.js';
import { formatBytes, formatDuration } from '../common/units.js';
import { accountReplyText } from '../common/account-lines.js';

export interface RenderContext {
  me: string;
  verbose: boolean;
  /** Whether a room is the current one: lines from others carry their room's name. */
  isCurrent?: (room: string | undefined) => boolean;
  /** A join always names its room (a terminal: "* bob joined #lab" never reads like "bob came online"). */
  nameRooms?: boolean;
}

/** The first line once connected. */
export function welcomeText(msg: Extract<ServerMessage, { type: 'WELCOME' }>, host: string, port: number): string {
  return (
    `* connected to ${host}:${port} as ${safe(msg.nick)} (${msg.users} online; ` +
    `heartbeat every ${formatDuration(msg.heartbeatIntervalMs)}, timeout ${formatDuration(msg.heartbeatTimeoutMs)}); /help for commands`
  );
}

/** "[#lab] " before a line from a room that is not the current one. */
function where(room: string | undefined, ctx: RenderContext): string {
  return room === undefined || (ctx.isCurrent?.(room) ?? true) ? '' : `[${safe(room)}] `;
}

/** A NOTICE's line: someone came, went, or changed something. */
function renderNotice(msg: Extract<ServerMessage, { type: 'NOTICE' }>, ctx: RenderContext): string[] {
  const nick = safe(msg.nick);
  switch (msg.event) {
    case 'joined':
      return [
        `* ${nick} joined${msg.room && (ctx.nameRooms === true || !(ctx.isCurrent?.(msg.room) ?? true)) ? ` ${safe(msg.room)}` : ''}`,
      ];
    case 'left':
      return [msg.reason ? `* ${nick} left (${safe(msg.reason)})` : `* ${nick} left`];
    case 'timed_out':
      return [`* ${nick} timed out`];
    case 'kicked':
      return [`* ${nick} was kicked (${safe(msg.reason ?? '') || 'no reason given'})`];
    case 'nick':
      return [`* ${nick} is now ${safe(msg.newNick ?? '?')}`];
    case 'shared':
      return [`* ${nick} shared ${safe(msg.name ?? '?')} (${formatBytes(msg.size ?? 0)})`];
    case 'parted':
      return [
        msg.reason
          ? `* ${nick} left ${safe(msg.room ?? '?')} (${safe(msg.reason)})`
          : `* ${nick} left ${safe(msg.room ?? '?')}`,
      ];
    case 'away':
      return [`* ${nick} lost connection`];
    case 'back':
      return [`* ${nick} is back`];
    case 'topic':
      return [
        msg.text
          ? `* ${nick} set the topic of ${safe(msg.room ?? '?')}: ${safe(msg.text)}`
          : `* ${nick} cleared the topic of ${safe(msg.room ?? '?')}`,
      ];
  }
  return [];
}

/**
 * A direct message as a line: mine as `-> *bob* text`, another's as `*alice* text`. A /me reads as a room's
 * action does, `* alice waves`, marked private (`-> *bob* * me waves`, `* alice waves (to you)`), so that it is
 * not taken for something said in the room.
 */
export function directLine(m: { from: string; to: string; text: string; action?: boolean }, me: string): string {
  const mine = m.from === me && m.to !== me;
  if (m.action === true)
    return mine ? `-> *${safe(m.to)}* * ${safe(m.from)} ${safe(m.text)}` : `* ${safe(m.from)} ${safe(m.text)} (to you)`;
  return mine ? `-> *${safe(m.to)}* ${safe(m.text)}` : `*${safe(m.from)}* ${safe(m.text)}`;
}

/** Lines to print for a message (possibly none). */
export function renderServerMessage(msg: ServerMessage, ctx: RenderContext): string[] {
  switch (msg.type) {
    case 'CHAT':
      return [
        where(msg.room, ctx) +
          (msg.action ? `* ${safe(msg.from)} ${safe(msg.text)}` : `<${safe(msg.from)}> ${safe(msg.text)}`),
      ];
    case 'DIRECT':
      return [directLine(msg, ctx.me)];
    case 'BROADCAST':
      return [`[server] ${safe(msg.text)}`];
    case 'NOTICE':
      return renderNotice(msg, ctx);
    case 'JOINED':
      return [
        `* you are in ${safe(msg.room)} (${msg.members} member${msg.members === 1 ? '' : 's'})${msg.topic ? `; topic: ${safe(msg.topic)}` : ''}`,
      ];
    case 'PARTED':
      return [`* you left ${safe(msg.room)}`];
    case 'ROOMS_REPLY': {
      const lines = [`* ${msg.total} room${msg.total === 1 ? '' : 's'}:`];
      for (const r of msg.rooms)
        lines.push(
          `*   ${safe(r.room)}  ${r.members} member${r.members === 1 ? '' : 's'}${r.topic ? `  ${safe(r.topic)}` : ''}`,
        );
      if (msg.rooms.length < msg.total) lines.push(`*   ... and ${msg.total - msg.rooms.length} more`);
      return lines;
    }
    case 'NAMES_REPLY':
      return [
        `* ${safe(msg.room)}: ${msg.nicks.map(safe).join(' ')}${msg.nicks.length < msg.total ? ` ... and ${msg.total - msg.nicks.length} more` : ''}`,
      ];
    case 'HISTORY':
      return renderHistory(msg, ctx);
    case 'FILES_REPLY': {
      if (msg.total === 0) return ['* no files on the server yet (share one with /post <path>)'];
      const lines = [`* ${msg.total} file${msg.total === 1 ? '' : 's'} on the server:`];
      for (const f of msg.files)
        lines.push(
          `*   ${safe(f.name)}  ${formatBytes(f.size)}${f.files !== undefined ? ` in ${f.files} file${f.files === 1 ? '' : 's'}` : ''}${f.node !== undefined ? `  (on node ${safe(f.node)})` : ''}`,
        );
      if (msg.files.length < msg.total) lines.push(`*   ... and ${msg.total - msg.files.length} more`);
      return lines;
    }
    case 'TICKET':
      return []; // the listener starts or reports the transfer
    case 'WHO_REPLY': {
      const lines = [`* ${msg.total} user${msg.total === 1 ? '' : 's'} online:`];
      for (const u of msg.users) {
        const rtt = u.away ? 'away (connection lost)' : u.rttMs === null ? 'rtt -' : `rtt ${u.rttMs.toFixed(1)}ms`;
        lines.push(`*   ${safe(u.nick)}${u.nick === ctx.me ? ' (you)' : ''}  idle ${formatDuration(u.idleMs)}, ${rtt}`);
      }
      if (msg.users.length < msg.total) lines.push(`*   ... and ${msg.total - msg.users.length} more`);
      return lines;
    }
    case 'ERROR':
      return [`! ${safe(msg.code)}: ${safe(msg.message)}`];
    case 'HEARTBEAT':
      return ctx.verbose ? [`. heartbeat #${msg.seq} from the server, answered`] : [];
    case 'RESUMED':
      return [`* reconnected: ${msg.missed} missed message${msg.missed === 1 ? '' : 's'}`];
    case 'ACCOUNT_REPLY':
      return [accountReplyText(msg, '--password, CHAT_PASSWORD, or typed when asked')];
    case 'WELCOME':
    case 'BYE':
      return []; // handled by the listener's connection logic
  }
}

/** A HISTORY answer: dated lines closed by a separator, or (missed while away) lines as if live. */
function renderHistory(msg: Extract<ServerMessage, { type: 'HISTORY' }>, ctx: RenderContext): string[] {
  const said = (e: (typeof msg.entries)[number]) =>
    e.to !== undefined
      ? directLine({ ...e, to: e.to }, ctx.me)
      : e.action
        ? `* ${safe(e.from)} ${safe(e.text)}`
        : `<${safe(e.from)}> ${safe(e.text)}`;
  // What was missed while the connection was down reads as live: it is new to the user.
  if (msg.missed) return msg.entries.map((e) => `${where(msg.room, ctx)}${said(e)}`);
  const lines = msg.entries.map((e) => `${where(msg.room, ctx)}${historyTime(e.ts)} ${said(e)}`);
  if (!msg.done) return lines;
  const of = msg.room ? safe(msg.room) : `your messages with ${safe(msg.with ?? '?')}`;
  if (msg.id === undefined)
    return msg.entries.length > 0 ? [...lines, `--- ${of}: earlier messages above, live from here ---`] : lines;
  if (lines.length === 0) return [`* no earlier messages in ${of}`];
  return [...lines, `--- ${of}: ${msg.more ? 'more before these: /history again' : 'that is the beginning'} ---`];
}

/** When a history line was said, as [YYYY-MM-DD HH:MM] (history may be days old). */
function historyTime(ts: number): string {
  const d = new Date(ts);
  const p = (n: number) => String(n).padStart(2, '0');
  return `[${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}]`;
}

/** The client was pointed at the web port. */
export function webPortText(host: string, port: number): string {
  return `chat-client: ${host}:${port} is a web server (it answered in HTTP), not the chat port; the chat server's web port is its chat port + 1 by default, so try --port ${port - 1}`;
}

/** Why the server refused the connection, for the client's last line. */
export function rejectionText(code: string, message: string, nick: string): string {
  switch (code) {
    case 'NICK_TAKEN':
      return `${safe(message || `nick ${nick} is taken`)}; choose another with --nick`;
    case 'NICK_INVALID':
      return safe(message);
    case 'SERVER_FULL':
      return 'the server is full; try again later';
    case 'NICK_REGISTERED':
      return `${safe(message)}; or choose another nick with --nick`;
    default:
      return `the server refused the connection: ${safe(code)}: ${safe(message)}`;
  }
}

/** Why a connection could not be made, for the client's last line. */
export function connectErrorText(err: NodeJS.ErrnoException): string {
  if (err.code === 'ECONNREFUSED') return 'connection refused (is chat-server running?)';
  if (err.code === 'ENOTFOUND') return 'unknown host';
  // The server admits a connection before any TLS byte, and closes one it will not take without a word.
  if (/before secure TLS connection was established/.test(err.message))
    return 'the server closed the connection before TLS began (it is full, or has as many connections from this address as it takes)';
  return err.message;
}

/** A connection failure that trying again will not cure (an untrusted certificate, TLS against plain), or null. */
export function hopelessConnectText(
  err: NodeJS.ErrnoException,
  tls: boolean,
  host: string,
  port: number,
): string | null {
  if (err.code === 'TLS_UNTRUSTED') return `chat-client: ${err.message}`;
  if (tls && /wrong version number|packet length too long/i.test(err.message))
    return `chat-client: ${host}:${port} does not speak TLS (the server runs with --no-tls?): connect with --no-tls`;
  return null;
}
