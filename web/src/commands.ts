/**
 * What is typed in the message box, done: a line said in the current room,
 * or a /command (HELP lists them) turned into its frame, explained when it is
 * wrong before anything is sent; a line longer than the server takes is
 * said to be so as it is typed or pasted, and refused, but kept in the box.
 */
import { carriesPassword } from '../../common/account-lines.js';
import { CHAT_COMMANDS } from '../../common/chat-commands.js';
import { checkNick } from '../../common/unicode/nick-rule.js';
import type { ChatLog } from './chat-log.js';
import type { ClientMessage } from './codec.js';
import { byId } from './dom.js';
import type { InputKeys } from './input-keys.js';
import type { RoomsPanel } from './rooms-panel.js';

const encoder = new TextEncoder();
const count = (n: number) => n.toLocaleString('en-US');

/** The commands below (Tab completes them): the page has exactly the ones both clients know. */
export const COMMANDS = CHAT_COMMANDS;

const HELP = [
  'text — say it in the current room (//text sends a leading slash)',
  '/join #room — join (or make) a room; /room #room — talk in another of yours; /part [#room] [reason]',
  '/rooms — the rooms; /names [#room] — who is in one; /topic [#room] [text] — show or set its topic',
  '/history [N] — N earlier messages of the current room (default 50)',
  '/me action — * you action',
  '/msg nick text — a private message',
  '/nick newname — change your nick',
  '/register password — register your nick (from then on it takes this password, in the Password field when you join)',
  '/identify nick password — become your registered nick; /password old new — change its password ("quotes" for spaces)',
  '/who — who is here, their idle time and heartbeat RTT',
  '/files — refresh the file list; /get NAME downloads one; /get DIR/ gives the links to fetch a folder',
  '/quit — leave',
];

/** What the commands act on. */
export interface CommandTarget {
  readonly log: ChatLog;
  readonly rooms: RoomsPanel;
  send(msg: ClientMessage): void;
  download(name: string): void;
  /** /register, /identify and /password (login.ts). */
  account(cmd: string, rest: string): void;
  /** /quit: a goodbye that is meant (no coming back by itself). */
  quit(reason: string): void;
}

export class Commands {
  private maxText = 4000;
  private nextHistoryId = 1;

  constructor(
    private readonly input: HTMLInputElement,
    keys: InputKeys,
    private readonly t: CommandTarget,
  ) {
    byId<HTMLFormElement>('say-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const line = this.input.value;
      if (!line.trim()) return;
      const bytes = this.checkLength();
      if (bytes > this.maxText) {
        // Kept in the box: nothing typed or pasted is lost, the reader shortens it.
        this.t.log.line(`! message too long (${count(bytes)} bytes, the server takes ${count(this.maxText)})`, 'error');
        return;
      }
      this.input.value = '';
      this.checkLength();
      if (!carriesPassword(line)) keys.sent(line);
      this.command(line);
    });
    // No maxlength on the box: it would cut a paste short without a word. The hint says it instead.
    this.input.addEventListener('input', () => this.checkLength());
  }

  /** The longest message the server takes (WELCOME says). */
  setMaxText(bytes: number): void {
    this.maxText = bytes;
    this.checkLength();
  }

  /** The box's text in bytes; over the limit, the hint under it says so. */
  private checkLength(): number {
    const bytes = encoder.encode(this.input.value).length;
    const hint = byId('input-hint');
    hint.hidden = bytes <= this.maxText;
    if (!hint.hidden)
      hint.textContent = `Too long to send: ${count(bytes)} bytes, the server takes ${count(this.maxText)}. The text stays here: shorten it or send it in parts.`;
    return bytes;
  }

  private command(line: string): void {
    const room = this.t.rooms.current ? { room: this.t.rooms.current } : {};
    if (line.startsWith('//')) {
      this.t.send({ type: 'CHAT', text: line.slice(1), action: false, ...room });
      return;
    }
    if (!line.startsWith('/')) {
      this.t.send({ type: 'CHAT', text: line, action: false, ...room });
      return;
    }
    const [head = '', ...rest] = line.trim().split(/\s+/);
    const arg = line.trim().slice(head.length).trim();
    switch (head.toLowerCase()) {
      case '/join':
      case '/room':
        if (rest.length !== 1) this.t.log.line(`usage: ${head} #room`, 'error');
        else this.roomCommand(head, rest[0]!.startsWith('#') ? rest[0]! : `#${rest[0]}`);
        return;
      case '/part':
      case '/names':
      case '/topic':
      case '/history': {
        const named = rest[0]?.startsWith('#') ? rest[0] : undefined;
        this.roomCommand(head, named ?? this.t.rooms.current, (named ? arg.slice(named.length) : arg).trim());
        return;
      }
      case '/rooms':
        this.t.send({ type: 'ROOMS' });
        return;
      case '/me':
        if (arg) this.t.send({ type: 'CHAT', text: arg, action: true, ...room });
        else this.t.log.line('usage: /me <action>', 'error');
        return;
      case '/msg': {
        const [to, ...words] = rest;
        if (!to || words.length === 0) this.t.log.line('usage: /msg <nick> <text>', 'error');
        else this.t.send({ type: 'DIRECT', to, text: arg.slice(to.length).trim() });
        return;
      }
      case '/nick':
        if (rest.length !== 1 || !rest[0]) this.t.log.line('usage: /nick <newname>', 'error');
        else this.rename(rest[0]);
        return;
      case '/register':
      case '/identify':
      case '/password':
        return this.t.account(head.toLowerCase(), arg);
      case '/who':
        this.t.send({ type: 'WHO' });
        this.t.log.line('* asked who is here (see the People list)', 'muted');
        return;
      case '/files':
        this.t.send({ type: 'FILES' });
        return;
      case '/get':
        if (arg) this.t.download(arg);
        else this.t.log.line('usage: /get <name> (a folder: /get <dir>/)', 'error');
        return;
      case '/help':
        for (const h of HELP) this.t.log.line(h, 'muted');
        return;
      case '/quit':
        this.t.quit(arg || 'quit');
        return;
      default:
        this.t.log.line(
          `unknown command ${head} (try /help; start a message with // to send a leading slash)`,
          'error',
        );
    }
  }

  /** /join, /room, /part, /names, /topic and /history for `room`; `tail` is the reason, the topic or N. */
  private roomCommand(head: string, room: string, tail = ''): void {
    if (!room) return this.t.log.line('you are in no room: /join #room first', 'error');
    switch (head.toLowerCase()) {
      case '/join':
        return this.t.send({ type: 'JOIN', room });
      case '/room':
        if (!this.t.rooms.switchTo(room)) this.t.log.line(`you are not in ${room}: /join ${room}`, 'error');
        return;
      case '/part':
        return this.t.send({ type: 'PART', room, ...(tail ? { reason: tail } : {}) });
      case '/names':
        return this.t.send({ type: 'NAMES', room });
      case '/topic':
        return this.t.send({ type: 'TOPIC', room, ...(tail ? { text: tail } : {}) });
      case '/history': {
        const before = this.t.rooms.oldestSeen(room);
        const limit = /^\d+$/.test(tail) ? Math.min(200, Math.max(1, Number(tail))) : 50;
        return this.t.send({
          type: 'HISTORY_REQUEST',
          id: this.nextHistoryId++,
          room,
          limit,
          ...(before !== undefined ? { before } : {}),
        });
      }
    }
  }

  /** The same rule as the server's, so a nick the server would refuse is explained before it is sent. */
  private rename(raw: string): void {
    const check = checkNick(raw);
    if (check.ok) this.t.send({ type: 'NICK', nick: check.nick });
    else this.t.log.line(`! invalid nick: ${check.reason}`, 'error');
  }
}
