/**
 * The browser chat page: one WebSocket to /chat speaking the chat protocol,
 * heartbeats answered as they come, files over HTTP with one-time tickets.
 * Lines are shown in the terminal client's formats.
 */
import {
  PROTOCOL_VERSION,
  decodeMessage,
  encodeMessage,
  type ClientMessage,
  type FileEntry,
  type ServerMessage,
} from './codec.js';
import { RoomsPanel } from './rooms-panel.js';
import { byId, clock, el, formatBytes, formatDuration, setText } from './dom.js';
import { mentions, nickColorIndex } from '../../common/mentions.js';
import { checkNick } from '../../common/unicode/nick-rule.js';
import { richText } from './rich-text.js';
import { Attention } from './attention.js';
import { InputKeys } from './input-keys.js';
import { ResumeState } from '../../common/resume-state.js';
import { Backoff } from '../../common/backoff.js';
import { accountReplyText, carriesPassword } from '../../common/account-lines.js';
import { splitArgs } from '../../common/split-args.js';

/** Colours for nicks (classes nick-c0 … in style.css). */
const NICK_COLORS = 9;
/** The People list's idle times and RTTs are asked for again this often. */
const WHO_REFRESH_MS = 5_000;
const NICK_KEY = 'heartbeat-chat.nick';
const encoder = new TextEncoder();
/** Lines typed while the connection is down that are kept for sending once it is back (as the terminal client does). */
const MAX_HELD = 100;
/** A password is never sent from a page over http: anyone on the network could read it (docs/PROTOCOL.md, Registered nicks). */
const PLAIN_PAGE =
  'not sent: this page is not over https, so a password would cross the network in the clear (open it with https://)';

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
  '/files — refresh the file list; /get NAME downloads one',
  '/quit — leave',
];

type Pending = { op: 'get'; name: string } | { op: 'post'; name: string; file: File };

class ChatPage {
  private ws: WebSocket | null = null;
  private me = '';
  private joined = false;
  private nextTicketId = 1;
  private readonly pending = new Map<number, Pending>();
  private whoTimer: number | null = null;
  private lastBeat: { seq: number; at: number } | null = null;
  private readonly log = byId<HTMLOListElement>('log');
  private readonly status = byId<HTMLSpanElement>('status');
  private readonly beat = byId<HTMLSpanElement>('beat');
  private readonly input = byId<HTMLInputElement>('input');
  private readonly attention = new Attention(document.title);
  private readonly keys: InputKeys;
  private people: string[] = [];
  private maxText = 4000;
  private whoRefresh: number | null = null;
  private readonly rooms: RoomsPanel;
  private nextHistoryId = 1;
  private readonly resume = new ResumeState();
  private readonly backoff = new Backoff();
  /** Lost and coming back: the next WELCOME resumes (or logs in anew). */
  private reconnecting = false;
  /** Kicked, replaced by another connection, or /quit: no coming back by itself. */
  private final = false;
  private readonly held: ClientMessage[] = [];
  /** The registered nick's password, for the next HELLO: as typed when joining, or as /register, /identify, /password made it. */
  private nickPassword: string | null = null;
  /** What an ACCOUNT request sent would make the password, once the server accepts it. */
  private accountPending: string | null = null;

  constructor() {
    this.keys = new InputKeys(this.input, () => this.people);
    this.rooms = new RoomsPanel(
      byId<HTMLUListElement>('rooms'),
      this.log,
      (name) => (this.input.placeholder = `Say something in ${name}, or /help (Up: history, Tab: complete)`),
    );
    const nickField = byId<HTMLInputElement>('nick');
    nickField.value = localStorage.getItem(NICK_KEY) ?? '';
    byId<HTMLFormElement>('join-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const check = checkNick(nickField.value.trim());
      if (!check.ok) {
        byId('join-error').textContent = `That nick will not do: ${check.reason}.`;
        return;
      }
      const password = byId<HTMLInputElement>('nick-password').value;
      if (password && location.protocol !== 'https:') {
        byId('join-error').textContent = PLAIN_PAGE;
        return;
      }
      this.nickPassword = password || null;
      this.attention.askPermission();
      this.connect(check.nick);
    });
    byId<HTMLFormElement>('say-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const line = this.input.value;
      if (!line.trim()) return;
      const bytes = encoder.encode(line).length;
      if (bytes > this.maxText) {
        this.line(`! message too long (${bytes} bytes, the server takes ${this.maxText})`, 'error');
        return;
      }
      this.input.value = '';
      if (!carriesPassword(line)) this.keys.sent(line);
      this.command(line);
    });
    byId<HTMLInputElement>('upload').addEventListener('change', (e) => {
      const input = e.target as HTMLInputElement;
      const file = input.files?.[0];
      input.value = '';
      if (file) this.requestUpload(file);
    });
    window.setInterval(() => this.showBeat(), 1000);
    // Closing the tab is leaving: said, so that the session ends now rather than waiting to be resumed.
    window.addEventListener('pagehide', () => {
      if (!this.joined) return;
      this.final = true;
      this.send({ type: 'BYE', reason: 'closed the page' });
    });
  }

  private setStatus(text: string, state: 'on' | 'off' | 'wait'): void {
    this.status.textContent = text;
    this.status.className = `pill ${state}`;
  }

  /** The same rule as the server's, so a nick the server would refuse is explained before it is sent. */
  private rename(raw: string): void {
    const check = checkNick(raw);
    if (check.ok) this.send({ type: 'NICK', nick: check.nick });
    else this.line(`! invalid nick: ${check.reason}`, 'error');
  }

  private connect(nick: string): void {
    byId('join-error').textContent = '';
    byId<HTMLButtonElement>('join').disabled = true;
    this.setStatus('connecting…', 'wait');
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/chat`);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => this.send(this.hello(nick));
    ws.onmessage = (ev) => {
      if (!(ev.data instanceof ArrayBuffer)) return;
      let msg: ServerMessage;
      try {
        msg = decodeMessage(ev.data);
      } catch (err) {
        this.line(`! bad frame from the server: ${(err as Error).message}`, 'error');
        ws.close(1003);
        return;
      }
      this.handle(msg);
    };
    ws.onclose = (ev) => this.closed(ev);
  }

  private hello(nick: string): ClientMessage {
    const password = byId<HTMLInputElement>('server-password').value || null;
    return this.resume.hello(
      PROTOCOL_VERSION,
      nick,
      `web/${navigator.userAgent.slice(0, 60)}`,
      password,
      this.nickPassword,
    );
  }

  private send(msg: ClientMessage): void {
    if (this.ws?.readyState === WebSocket.OPEN && (this.joined || msg.type === 'HELLO'))
      return this.ws.send(encodeMessage(msg));
    if (!this.reconnecting || (msg.type !== 'CHAT' && msg.type !== 'DIRECT')) return;
    // What is typed while the connection is down goes once it is back.
    if (this.held.length < MAX_HELD) this.held.push(msg);
    else this.line(`! not connected: this line was not kept (${MAX_HELD} lines wait already)`, 'error');
  }

  /** The connection is gone without a goodbye that means it: come back by itself, resuming the session. */
  private comeBack(why: string): void {
    this.reconnecting = true;
    const ms = this.backoff.next();
    this.setStatus('reconnecting…', 'wait');
    this.line(`* ${why}; reconnecting in ${formatDuration(ms)}`, 'notice');
    // The line stays open: what is typed meanwhile is held (send) and goes once back.
    this.input.disabled = false;
    byId<HTMLButtonElement>('send').disabled = false;
    window.setTimeout(() => this.connect(this.me), ms);
  }

  /** Typing and sending only while connected. */
  private setConnected(on: boolean): void {
    this.input.disabled = !on;
    byId<HTMLButtonElement>('send').disabled = !on;
    if (this.whoRefresh !== null) window.clearInterval(this.whoRefresh);
    this.whoRefresh = on ? window.setInterval(() => this.send({ type: 'WHO' }), WHO_REFRESH_MS) : null;
    if (!on) {
      this.people = [];
      byId<HTMLUListElement>('who').replaceChildren();
      byId('who-count').textContent = '';
    }
  }

  private closed(ev: CloseEvent): void {
    this.ws = null;
    byId<HTMLButtonElement>('join').disabled = false;
    this.setStatus('not connected', 'off');
    this.setConnected(false);
    if (this.reconnecting || (this.joined && !this.final)) {
      this.joined = false;
      return this.comeBack(
        this.reconnecting ? 'could not reconnect' : `connection lost${ev.reason ? ` (${ev.reason})` : ''}`,
      );
    }
    if (!this.joined) {
      if (!byId('join-error').textContent)
        byId('join-error').textContent = `could not join (connection closed, code ${ev.code})`;
      return;
    }
    this.joined = false;
    this.line(`* disconnected${ev.reason ? `: ${ev.reason}` : ''}`, 'notice');
    const again = el('button', { type: 'button', class: 'inline' }, 'Join again');
    again.addEventListener('click', () => {
      again.remove();
      this.connect(this.me);
    });
    this.log.append(el('li', { class: 'notice' }, again));
  }

  private handle(msg: ServerMessage): void {
    this.resume.learn(msg, this.me);
    switch (msg.type) {
      case 'WELCOME':
        return this.reconnecting ? this.welcomeBack(msg) : this.welcome(msg);
      case 'HEARTBEAT':
        // Answered at once, echoing seq and ts: the server measures the round trip from its own ts.
        this.send({ type: 'HEARTBEAT_ACK', seq: msg.seq, ts: msg.ts });
        this.lastBeat = { seq: msg.seq, at: Date.now() };
        this.showBeat();
        return;
      case 'CHAT':
        if (msg.room && msg.id !== undefined) this.rooms.saw(msg.room, msg.id);
        if (msg.action) this.line(`* ${msg.from} ${msg.text}`, 'action', msg.ts, msg.room, true);
        else this.chatLine(msg.from, msg.text, msg.ts, msg.room);
        return;
      case 'JOINED':
        this.rooms.joined(msg.room);
        this.line(
          `* you are in ${msg.room} (${msg.members} member${msg.members === 1 ? '' : 's'})${msg.topic ? `; topic: ${msg.topic}` : ''}`,
          'notice',
          Date.now(),
          msg.room,
        );
        return;
      case 'PARTED':
        this.line(`* you left ${msg.room}`, 'notice');
        this.rooms.parted(msg.room);
        return;
      case 'HISTORY':
        this.history(msg);
        return;
      case 'ROOMS_REPLY':
        this.line(
          `* ${msg.total} room${msg.total === 1 ? '' : 's'}: ${msg.rooms.map((r) => `${r.room} (${r.members})${r.topic ? ` ${r.topic}` : ''}`).join(', ')}`,
          'muted',
        );
        return;
      case 'NAMES_REPLY':
        this.line(
          `* ${msg.room}: ${msg.nicks.join(' ')}${msg.nicks.length < msg.total ? ` … and ${msg.total - msg.nicks.length} more` : ''}`,
          'muted',
        );
        return;
      case 'DIRECT':
        if (msg.from === this.me && msg.to !== this.me) this.line(`-> *${msg.to}* ${msg.text}`, 'direct', msg.ts);
        else {
          this.line(`*${msg.from}* ${msg.text}`, 'direct', msg.ts);
          this.attention.message(msg.from, msg.text, true);
        }
        return;
      case 'BROADCAST':
        this.line(`[server] ${msg.text}`, 'broadcast', msg.ts);
        return;
      case 'NOTICE':
        this.notice(msg);
        return;
      case 'WHO_REPLY':
        this.showWho(msg.users, msg.total);
        return;
      case 'FILES_REPLY':
        this.showFiles(msg.files, msg.total);
        return;
      case 'TICKET':
        this.ticket(msg);
        return;
      case 'ERROR':
        return this.error(msg);
      case 'ACCOUNT_REPLY':
        if (msg.op === 'unregistered') this.nickPassword = null;
        else if (msg.op !== 'offline' && this.accountPending !== null) this.nickPassword = this.accountPending;
        if (msg.op !== 'offline') this.accountPending = null;
        this.line(accountReplyText(msg, 'the Password field when you join'), 'notice');
        return;
      case 'BYE':
        if (msg.reason.startsWith('kicked') || msg.reason.startsWith('replaced')) this.final = true;
        this.line(`* the server said goodbye: ${msg.reason}`, 'notice');
        return;
      case 'RESUMED':
        this.line(`* reconnected: ${msg.missed} missed message${msg.missed === 1 ? '' : 's'}`, 'notice');
        return;
    }
  }

  private error(msg: Extract<ServerMessage, { type: 'ERROR' }>): void {
    if (!this.joined && this.reconnecting && msg.code === 'RESUME_FAILED') {
      // The session is gone (its window passed): a new one, on this connection, in the rooms it was in.
      this.line(`* ${msg.message}; logging in again`, 'notice');
      this.resume.forget();
      return this.send(this.hello(this.me));
    }
    if (this.joined) return this.line(`! ${msg.code}: ${msg.message}`, 'error');
    setText(byId('join-error'), `${msg.code}: ${msg.message}`);
    // The nick is registered: its password goes in the field, and Join again.
    if (msg.code === 'NICK_REGISTERED' || msg.code === 'NICK_PASSWORD_WRONG')
      byId<HTMLInputElement>('nick-password').select();
  }

  /** Who can be completed, kept current from the notices between two WHO replies. */
  private follow(msg: Extract<ServerMessage, { type: 'NOTICE' }>): void {
    const others = this.people.filter((p) => p !== msg.nick);
    if (msg.event === 'joined' && msg.nick !== this.me) this.people = [...others, msg.nick];
    else if (msg.event === 'left' || msg.event === 'timed_out' || msg.event === 'kicked') this.people = others;
    else if (msg.event === 'nick' && msg.newNick)
      this.people = msg.nick === this.me ? others : [...others, msg.newNick];
  }

  private notice(msg: Extract<ServerMessage, { type: 'NOTICE' }>): void {
    const n = msg.nick;
    this.follow(msg);
    switch (msg.event) {
      case 'joined':
        this.line(`* ${n} joined`, 'notice', Date.now(), msg.room);
        break;
      case 'parted':
        this.line(
          msg.reason ? `* ${n} left ${msg.room ?? ''} (${msg.reason})` : `* ${n} left ${msg.room ?? ''}`,
          'notice',
          Date.now(),
          msg.room,
        );
        break;
      case 'topic':
        this.line(
          msg.text ? `* ${n} set the topic: ${msg.text}` : `* ${n} cleared the topic`,
          'notice',
          Date.now(),
          msg.room,
        );
        return;
      case 'left':
        this.line(msg.reason ? `* ${n} left (${msg.reason})` : `* ${n} left`, 'notice');
        break;
      case 'timed_out':
        this.line(`* ${n} timed out`, 'notice');
        break;
      case 'kicked':
        this.line(`* ${n} was kicked (${msg.reason || 'no reason given'})`, 'notice');
        break;
      case 'nick':
        if (n === this.me && msg.newNick) {
          this.me = msg.newNick;
          this.setStatus(`online as ${this.me}`, 'on');
        }
        this.line(`* ${n} is now ${msg.newNick ?? '?'}`, 'notice');
        break;
      case 'shared':
        this.line(`* ${n} shared ${msg.name ?? '?'} (${formatBytes(msg.size ?? 0)})`, 'notice');
        this.send({ type: 'FILES' });
        return;
      default:
        return;
    }
    this.refreshWhoSoon();
  }

  private refreshWhoSoon(): void {
    if (this.whoTimer !== null) return;
    this.whoTimer = window.setTimeout(() => {
      this.whoTimer = null;
      this.send({ type: 'WHO' });
    }, 300);
  }

  private command(line: string): void {
    const room = this.rooms.current ? { room: this.rooms.current } : {};
    if (line.startsWith('//')) {
      this.send({ type: 'CHAT', text: line.slice(1), action: false, ...room });
      return;
    }
    if (!line.startsWith('/')) {
      this.send({ type: 'CHAT', text: line, action: false, ...room });
      return;
    }
    const [head = '', ...rest] = line.trim().split(/\s+/);
    const arg = line.trim().slice(head.length).trim();
    switch (head.toLowerCase()) {
      case '/join':
      case '/room':
        if (rest.length !== 1) this.line(`usage: ${head} #room`, 'error');
        else this.roomCommand(head, rest[0]!.startsWith('#') ? rest[0]! : `#${rest[0]}`);
        return;
      case '/part':
      case '/names':
      case '/topic':
      case '/history': {
        const named = rest[0]?.startsWith('#') ? rest[0] : undefined;
        this.roomCommand(head, named ?? this.rooms.current, (named ? arg.slice(named.length) : arg).trim());
        return;
      }
      case '/rooms':
        this.send({ type: 'ROOMS' });
        return;
      case '/me':
        if (arg) this.send({ type: 'CHAT', text: arg, action: true, ...room });
        else this.line('usage: /me <action>', 'error');
        return;
      case '/msg': {
        const [to, ...words] = rest;
        if (!to || words.length === 0) this.line('usage: /msg <nick> <text>', 'error');
        else this.send({ type: 'DIRECT', to, text: arg.slice(to.length).trim() });
        return;
      }
      case '/nick':
        if (rest.length !== 1 || !rest[0]) this.line('usage: /nick <newname>', 'error');
        else this.rename(rest[0]);
        return;
      case '/register':
      case '/identify':
      case '/password':
        return this.account(head.toLowerCase(), splitArgs(arg), arg);
      case '/who':
        this.send({ type: 'WHO' });
        this.line('* asked who is here (see the People list)', 'muted');
        return;
      case '/files':
        this.send({ type: 'FILES' });
        return;
      case '/get':
        if (arg) this.requestDownload(arg);
        else this.line('usage: /get <name>', 'error');
        return;
      case '/help':
        for (const h of HELP) this.line(h, 'muted');
        return;
      case '/quit':
        this.final = true;
        this.send({ type: 'BYE', reason: arg || 'quit' });
        return;
      default:
        this.line(`unknown command ${head} (try /help; start a message with // to send a leading slash)`, 'error');
    }
  }

  /** /join, /room, /part, /names, /topic and /history for `room`; `tail` is the reason, the topic or N. */
  private roomCommand(head: string, room: string, tail = ''): void {
    if (!room) return this.line('you are in no room: /join #room first', 'error');
    switch (head.toLowerCase()) {
      case '/join':
        return this.send({ type: 'JOIN', room });
      case '/room':
        if (!this.rooms.switchTo(room)) this.line(`you are not in ${room}: /join ${room}`, 'error');
        return;
      case '/part':
        return this.send({ type: 'PART', room, ...(tail ? { reason: tail } : {}) });
      case '/names':
        return this.send({ type: 'NAMES', room });
      case '/topic':
        return this.send({ type: 'TOPIC', room, ...(tail ? { text: tail } : {}) });
      case '/history': {
        const before = this.rooms.oldestSeen(room);
        const limit = /^\d+$/.test(tail) ? Math.min(200, Math.max(1, Number(tail))) : 50;
        return this.send({
          type: 'HISTORY_REQUEST',
          id: this.nextHistoryId++,
          room,
          limit,
          ...(before !== undefined ? { before } : {}),
        });
      }
    }
  }

  /** History: each line with its date, then (at the end of the answer) a separator before what is live. */
  private welcome(msg: Extract<ServerMessage, { type: 'WELCOME' }>): void {
    this.joined = true;
    this.me = msg.nick;
    byId('join-view').hidden = true;
    byId('chat-view').hidden = false;
    this.setStatus(`online as ${msg.nick}`, 'on');
    localStorage.setItem(NICK_KEY, msg.nick);
    this.maxText = msg.maxText;
    this.input.maxLength = msg.maxText;
    this.setConnected(true);
    this.line(
      `* welcome, ${msg.nick}: ${msg.users} user${msg.users === 1 ? '' : 's'} here (${msg.server}). /help lists the commands.`,
      'notice',
    );
    this.line(
      `* heartbeats every ${formatDuration(msg.heartbeatIntervalMs)}; a tab silent for ${formatDuration(msg.heartbeatTimeoutMs)} is dropped`,
      'muted',
    );
    this.rooms.clear();
    this.input.focus();
    this.send({ type: 'WHO' });
    this.send({ type: 'FILES' });
  }

  /** Back after a lost connection: resumed (rooms as they were; what was missed follows), or logged in anew (the rooms again). */
  private welcomeBack(msg: Extract<ServerMessage, { type: 'WELCOME' }>): void {
    this.reconnecting = false;
    this.joined = true;
    this.backoff.reset();
    this.me = msg.nick;
    this.setStatus(`online as ${msg.nick}`, 'on');
    this.setConnected(true);
    if (!msg.resumed) {
      const rooms = this.rooms.names();
      this.rooms.clear();
      for (const room of rooms) this.send({ type: 'JOIN', room });
    }
    this.line(msg.resumed ? '* session resumed' : `* reconnected as ${msg.nick}`, 'notice');
    for (const m of this.held.splice(0)) this.send(m);
    this.send({ type: 'WHO' });
  }

  /** /register password, /identify nick password, /password old new: never from a page over http. */
  private account(cmd: string, args: string[], rest: string): void {
    if (location.protocol !== 'https:') return this.line(`! ${PLAIN_PAGE}`, 'error');
    let msg: ClientMessage | null = null;
    if (cmd === '/register' && rest) msg = { type: 'ACCOUNT', op: 'register', password: rest };
    else if (cmd === '/identify' && args.length >= 2)
      msg = {
        type: 'ACCOUNT',
        op: 'identify',
        nick: args[0]!,
        password: rest.slice(rest.indexOf(args[0]!) + args[0]!.length).trim(),
      };
    else if (cmd === '/password' && args.length === 2)
      msg = { type: 'ACCOUNT', op: 'password', password: args[0]!, newPassword: args[1]! };
    if (msg === null)
      return this.line(
        `usage: ${cmd === '/register' ? '/register <password>' : cmd === '/identify' ? '/identify <nick> <password>' : '/password <old> <new> ("quotes" around one with spaces)'}`,
        'error',
      );
    this.accountPending = msg.op === 'password' ? msg.newPassword : msg.password;
    this.send(msg);
  }

  private history(msg: Extract<ServerMessage, { type: 'HISTORY' }>): void {
    const room = msg.room;
    if (msg.missed) {
      // Missed while the connection was down: new to the reader, shown as live lines are.
      for (const e of msg.entries) {
        if (e.to !== undefined)
          this.line(e.from === this.me ? `-> *${e.to}* ${e.text}` : `*${e.from}* ${e.text}`, 'direct', e.ts);
        else if (e.action) this.line(`* ${e.from} ${e.text}`, 'action', e.ts, room, true);
        else this.chatLine(e.from, e.text, e.ts, room);
      }
      return;
    }
    if (room && msg.entries[0]) this.rooms.saw(room, msg.entries[0].id);
    // An answer to /history comes at the end of the log, dated, and closed by a line saying whether there is more.
    for (const e of msg.entries) {
      const text =
        e.to !== undefined
          ? e.from === this.me
            ? `-> *${e.to}* ${e.text}`
            : `*${e.from}* ${e.text}`
          : e.action
            ? `* ${e.from} ${e.text}`
            : `<${e.from}> ${e.text}`;
      this.line(text, 'history', e.ts, room, false, true);
    }
    if (!msg.done) return;
    const where = room ?? `your messages with ${msg.with ?? '?'}`;
    if (msg.id === undefined && msg.entries.length > 0)
      this.line(`— ${where}: earlier messages above, live from here —`, 'separator', Date.now(), room);
    else if (msg.id !== undefined)
      this.line(
        msg.entries.length === 0
          ? `— no earlier messages in ${where} —`
          : `— ${where}: ${msg.more ? 'more before these: /history again' : 'that is the beginning'} —`,
        'separator',
        Date.now(),
        room,
      );
  }

  // ---- files -------------------------------------------------------------------

  private requestDownload(name: string): void {
    const id = this.nextTicketId++;
    this.pending.set(id, { op: 'get', name });
    this.send({ type: 'TICKET_REQUEST', id, op: 'get', name });
  }

  private requestUpload(file: File): void {
    const id = this.nextTicketId++;
    this.pending.set(id, { op: 'post', name: file.name, file });
    this.send({ type: 'TICKET_REQUEST', id, op: 'post', name: file.name, size: file.size });
  }

  private ticket(msg: Extract<ServerMessage, { type: 'TICKET' }>): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (!msg.ok) {
      this.line(
        `! ${p.op === 'get' ? 'download' : 'upload'} of ${p.name} refused: ${msg.code}: ${msg.message}`,
        'error',
      );
      return;
    }
    const url = `/files/${encodeURIComponent(msg.name)}?ticket=${encodeURIComponent(msg.ticket)}`;
    if (p.op === 'get') {
      const a = el('a', { href: url, download: msg.name, hidden: '' });
      document.body.append(a);
      a.click();
      a.remove();
      this.line(`* downloading ${msg.name} (${formatBytes(msg.size)}) over HTTP`, 'muted');
      return;
    }
    this.upload(url, p.file, msg.name);
  }

  /** XMLHttpRequest rather than fetch: it reports upload progress. The body is streamed from the file, not read into memory. */
  private upload(url: string, file: File, name: string): void {
    const bar = el('progress', { max: String(file.size || 1), value: '0' });
    const label = el('span', { class: 'small' }, `${name}: 0%`);
    const row = el('div', { class: 'transfer' }, label, bar);
    byId('transfers').append(row);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => {
      bar.value = e.loaded;
      setText(label, `${name}: ${file.size ? Math.floor((100 * e.loaded) / file.size) : 100}%`);
    };
    xhr.onload = () => {
      row.remove();
      if (xhr.status === 201) return; // the room's "shared" notice says the rest
      let why = `HTTP ${xhr.status}`;
      try {
        const body = JSON.parse(xhr.responseText) as { code?: string; message?: string };
        why = `${body.code ?? why}: ${body.message ?? ''}`;
      } catch {
        /* not JSON: keep the status */
      }
      this.line(`! upload of ${name} failed: ${why}`, 'error');
    };
    xhr.onerror = () => {
      row.remove();
      this.line(`! upload of ${name} failed: the connection broke`, 'error');
    };
    xhr.send(file);
  }

  private showFiles(files: FileEntry[], total: number): void {
    const list = byId<HTMLUListElement>('files');
    list.replaceChildren();
    if (total === 0) list.append(el('li', { class: 'muted' }, 'no files yet'));
    for (const f of files) {
      const button = el('button', { type: 'button', class: 'inline', title: `download ${f.name}` }, 'Download');
      button.addEventListener('click', () => this.requestDownload(f.name));
      list.append(
        el(
          'li',
          {},
          el('span', { class: 'name' }, f.name),
          el('span', { class: 'muted small' }, formatBytes(f.size)),
          button,
        ),
      );
    }
    if (files.length < total) list.append(el('li', { class: 'muted' }, `… and ${total - files.length} more`));
  }

  private showWho(users: Array<{ nick: string; idleMs: number; rttMs: number | null }>, total: number): void {
    const list = byId<HTMLUListElement>('who');
    list.replaceChildren();
    byId('who-count').textContent = `(${total})`;
    this.people = users.map((u) => u.nick).filter((n) => n !== this.me);
    for (const u of users) {
      const rtt = u.rttMs === null ? 'rtt –' : `rtt ${u.rttMs.toFixed(1)} ms`;
      list.append(
        el(
          'li',
          {},
          el('span', { class: 'name' }, u.nick + (u.nick === this.me ? ' (you)' : '')),
          el('span', { class: 'muted small' }, `idle ${formatDuration(u.idleMs)}, ${rtt}`),
        ),
      );
    }
  }

  // ---- output --------------------------------------------------------------------

  private showBeat(): void {
    if (!this.lastBeat || !this.joined) {
      this.beat.textContent = '';
      return;
    }
    this.beat.textContent = `♥ heartbeat #${this.lastBeat.seq} answered ${formatDuration(Date.now() - this.lastBeat.at)} ago`;
  }

  private append(item: HTMLLIElement): void {
    const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    this.log.append(item);
    // Bounded: a long-running tab keeps the last 2,000 lines.
    while (this.log.childElementCount > 2000) this.log.firstElementChild?.remove();
    if (atBottom) this.log.scrollTop = this.log.scrollHeight;
  }

  /** A line in the log; with `room`, it shows while that room is current (and counts as unread elsewhere when `unread`). */
  private line(text: string, kind: string, ts = Date.now(), room?: string, unread = false, dated = false): void {
    const li = el(
      'li',
      { class: kind },
      el('time', {}, dated ? `${new Date(ts).toLocaleDateString()} ${clock(ts)}` : clock(ts)),
      text,
    );
    this.rooms.place(li, room, unread);
    this.append(li);
  }

  private chatLine(from: string, text: string, ts: number, room?: string): void {
    const mine = from === this.me;
    const named = !mine && mentions(text, this.me);
    const kind = mine ? 'msg mine' : named ? 'msg mentioned' : 'msg';
    const nick = el('b', { class: `nick-c${nickColorIndex(from, NICK_COLORS)}` }, `<${from}>`);
    const li = el('li', { class: kind }, el('time', {}, clock(ts)), nick, ' ', ...richText(text, mine ? '' : this.me));
    this.rooms.place(li, room, !mine);
    this.append(li);
    if (!mine) this.attention.message(from, text, named);
  }
}

new ChatPage();
