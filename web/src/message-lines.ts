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
import { formatBytes } from './dom.js';

export class MessageLines {
  constructor(
    private readonly log: ChatLog,
    private readonly attention: Attention,
    private readonly me: () => string,
  ) {}

  /** The lines a message shows (none for the ones shown elsewhere). */
  show(msg: ServerMessage): void {
    switch (msg.type) {
      case 'CHAT':
        if (msg.action) this.log.line(`* ${msg.from} ${msg.text}`, 'action', msg.ts, msg.room, true);
        else this.log.chat(msg.from, msg.text, msg.ts, msg.room);
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
        if (msg.from === this.me() && msg.to !== this.me())
          this.log.line(`-> *${msg.to}* ${msg.text}`, 'direct', msg.ts);
        else {
          this.log.line(`*${msg.from}* ${msg.text}`, 'direct', msg.ts);
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
      case 'RESUMED':
        this.log.line(`* reconnected: ${msg.missed} missed message${msg.missed === 1 ? '' : 's'}`, 'notice');
        return;
      default:
        return;
    }
  }

  /** History: each line with its date, then (at the end of the answer) a separator before what is live. */
  private history(msg: Extract<ServerMessage, { type: 'HISTORY' }>): void {
    const room = msg.room;
    const me = this.me();
    if (msg.missed) {
      // Missed while the connection was down: new to the reader, shown as live lines are.
      for (const e of msg.entries) {
        if (e.to !== undefined)
          this.log.line(e.from === me ? `-> *${e.to}* ${e.text}` : `*${e.from}* ${e.text}`, 'direct', e.ts);
        else if (e.action) this.log.line(`* ${e.from} ${e.text}`, 'action', e.ts, room, true);
        else this.log.chat(e.from, e.text, e.ts, room);
      }
      return;
    }
    // An answer to /history comes at the end of the log, dated, and closed by a line saying whether there is more.
    for (const e of msg.entries) {
      const text =
        e.to !== undefined
          ? e.from === me
            ? `-> *${e.to}* ${e.text}`
            : `*${e.from}* ${e.text}`
          : e.action
            ? `* ${e.from} ${e.text}`
            : `<${e.from}> ${e.text}`;
      this.log.line(text, 'history', e.ts, room, false, true);
    }
    if (!msg.done) return;
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
      default:
        return;
    }
  }
}
