/**
 * What the server's messages say in the page's log, in the terminal client's
 * formats (client/render.ts): chat and direct messages, the rooms joined and
 * left, history, notices, the server's broadcasts, account answers and
 * goodbyes. The People and Files lists show the rest (people-panel.ts,
 * files-panel.ts).
 */
import { accountReplyText } from '../../common/account-lines.js';
import type { Attention } from './attention.js';
import type { ChatLog } from './chat-log.js';
import type { ServerMessage } from './codec.js';
import { formatBytes, formatDuration } from './dom.js';

export class MessageLines {
  /** HISTORY_REQUEST ids asked after a reload: their answers go above the lines that came after it. */
  private readonly restoring = new Set<number>();

  constructor(
    private readonly log: ChatLog,
    private readonly attention: Attention,
    private readonly me: () => string,
  ) {}

  /** The lines a message shows (none for the ones shown elsewhere). */
  show(msg: ServerMessage): void {
    switch (msg.type) {
      case 'CHAT':
        this.log.chat(msg.from, msg.text, msg.ts, msg.room, { action: msg.action });
        return;
      case 'JOINED':
        this.log.line(
          `* you are in ${msg.room} (${msg.members} member${msg.members === 1 ? '' : 's'})${msg.topic ? `; topic: ${msg.topic}` : ''}`,
          'notice',
          Date.now(),
          msg.room,
        );
        return;
      case 'PARTED':
        this.log.line(`* you left ${msg.room}`, 'notice');
        return;
      case 'HISTORY':
        return this.history(msg);
      case 'ROOMS_REPLY':
        this.log.line(
          `* ${msg.total} room${msg.total === 1 ? '' : 's'}: ${msg.rooms.map((r) => `${r.room} (${r.members})${r.topic ? ` ${r.topic}` : ''}`).join(', ')}`,
          'muted',
        );
        return;
      case 'NAMES_REPLY':
        this.log.line(
          `* ${msg.room}: ${msg.nicks.join(' ')}${msg.nicks.length < msg.total ? ` … and ${msg.total - msg.nicks.length} more` : ''}`,
          'muted',
        );
        return;
      case 'DIRECT':
        if (msg.from === this.me() && msg.to !== this.me()) this.log.line(directLine(msg, this.me()), 'direct', msg.ts);
        else {
          this.log.line(directLine(msg, this.me()), 'direct', msg.ts);
          this.attention.message(msg.from, msg.text, true);
        }
        return;
      case 'BROADCAST':
        this.log.line(`[server] ${msg.text}`, 'broadcast', msg.ts);
        return;
      case 'NOTICE':
        return this.notice(msg);
      case 'ACCOUNT_REPLY':
        this.log.line(accountReplyText(msg, 'the Password field when you join'), 'notice');
        return;
      case 'BYE':
        this.log.line(`* the server said goodbye: ${msg.reason}`, 'notice');
        return;
      case 'WELCOME':
        this.log.line(
          `* welcome, ${msg.nick}: ${msg.users} user${msg.users === 1 ? '' : 's'} here (${msg.server}). /help lists the commands.`,
          'notice',
        );
        this.log.line(
          `* heartbeats every ${formatDuration(msg.heartbeatIntervalMs)}; a tab silent for ${formatDuration(msg.heartbeatTimeoutMs)} is dropped`,
          'muted',
        );
        return;
      case 'RESUMED':
        this.log.line(`* reconnected: ${msg.missed} missed message${msg.missed === 1 ? '' : 's'}`, 'notice');
        return;
      default:
        return;
    }
  }

  /** A reload's request for what the reader had seen of a room: its answer goes above what came after. */
  restore(id: number): void {
    this.restoring.add(id);
  }

  /** History: each line with its date, then (at the end of the answer) a separator before what is live. */
  private history(msg: Extract<ServerMessage, { type: 'HISTORY' }>): void {
    const room = msg.room;
    const me = this.me();
    if (msg.missed) {
      // Missed while the connection was down: new to the reader, shown as live lines are.
      for (const e of msg.entries) {
        if (e.to !== undefined) this.log.line(directLine({ ...e, to: e.to }, me), 'direct', e.ts);
        else this.log.chat(e.from, e.text, e.ts, room, { action: e.action });
      }
      return;
    }
    if (msg.id !== undefined && this.restoring.has(msg.id)) {
      if (msg.done) this.restoring.delete(msg.id);
      return this.log.older(() => this.dated(msg, `— ${room ?? '?'}: before the reload —`));
    }
    this.dated(msg);
  }

  /** History lines, dated, and (at the end of the answer) a separator: `last`, or one that says what it was. */
  private dated(msg: Extract<ServerMessage, { type: 'HISTORY' }>, last?: string): void {
    const room = msg.room;
    const me = this.me();
    for (const e of msg.entries) {
      if (e.to === undefined) this.log.chat(e.from, e.text, e.ts, room, { action: e.action, history: true });
      else this.log.line(directLine({ ...e, to: e.to }, me), 'history', e.ts, room, false, true);
    }
    if (!msg.done) return;
    if (last !== undefined) {
      if (msg.entries.length > 0) this.log.line(last, 'separator', Date.now(), room);
      return;
    }
    const where = room ?? `your messages with ${msg.with ?? '?'}`;
    if (msg.id === undefined && msg.entries.length > 0)
      this.log.line(`— ${where}: earlier messages above, live from here —`, 'separator', Date.now(), room);
    else if (msg.id !== undefined)
      this.log.line(
        msg.entries.length === 0
          ? `— no earlier messages in ${where} —`
          : `— ${where}: ${msg.more ? 'more before these: /history again' : 'that is the beginning'} —`,
        'separator',
        Date.now(),
        room,
      );
  }

  private notice(msg: Extract<ServerMessage, { type: 'NOTICE' }>): void {
    const n = msg.nick;
    switch (msg.event) {
      case 'joined':
        return this.log.line(`* ${n} joined`, 'notice', Date.now(), msg.room);
      case 'parted':
        return this.log.line(
          msg.reason ? `* ${n} left ${msg.room ?? ''} (${msg.reason})` : `* ${n} left ${msg.room ?? ''}`,
          'notice',
          Date.now(),
          msg.room,
        );
      case 'topic':
        return this.log.line(
          msg.text ? `* ${n} set the topic: ${msg.text}` : `* ${n} cleared the topic`,
          'notice',
          Date.now(),
          msg.room,
        );
      case 'left':
        return this.log.line(msg.reason ? `* ${n} left (${msg.reason})` : `* ${n} left`, 'notice');
      case 'timed_out':
        return this.log.line(`* ${n} timed out`, 'notice');
      case 'kicked':
        return this.log.line(`* ${n} was kicked (${msg.reason || 'no reason given'})`, 'notice');
      case 'nick':
        return this.log.line(`* ${n} is now ${msg.newNick ?? '?'}`, 'notice');
      case 'shared':
        return this.log.line(`* ${n} shared ${msg.name ?? '?'} (${formatBytes(msg.size ?? 0)})`, 'notice');
      case 'away':
        return this.log.line(`* ${n} lost connection`, 'notice');
      case 'back':
        return this.log.line(`* ${n} is back`, 'notice');
      default:
        return;
    }
  }
}

/** A direct message as the terminal client shows it: sent (`-> *to*`) or received; a private /me as an action. */
function directLine(m: { from: string; to: string; text: string; action?: boolean }, me: string): string {
  const text = m.action ? `* ${m.from} ${m.text}` : m.text;
  if (m.from === me && m.to !== me) return `-> *${m.to}* ${text}`;
  return m.action ? `${text} (to you)` : `*${m.from}* ${text}`;
}
