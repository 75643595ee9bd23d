/**
 * The browser chat page: one WebSocket to /chat speaking the chat protocol,
 * heartbeats answered as they come, files over HTTP with one-time tickets.
 * Lines are shown in the terminal client's formats. Here the page is put
 * together and the session followed: joining, welcomed, lost and back,
 * closed; each message from the server goes to the part that shows it.
 */
import type { ClientMessage, ServerMessage } from './codec.js';
import { Attention } from './attention.js';
import { ChatLog } from './chat-log.js';
import { Commands } from './commands.js';
import { ChatConnection } from './connection.js';
import { byId, formatDuration } from './dom.js';
import { FilesPanel } from './files-panel.js';
import { InputKeys } from './input-keys.js';
import { Login } from './login.js';
import { MessageLines } from './message-lines.js';
import { PeoplePanel } from './people-panel.js';
import { RoomsPanel } from './rooms-panel.js';

class ChatPage {
  private me = '';
  private lastBeat: { seq: number; at: number } | null = null;
  /** Kicked, replaced by another connection, or /quit: no coming back by itself. */
  private final = false;
  private readonly status = byId<HTMLSpanElement>('status');
  private readonly beat = byId<HTMLSpanElement>('beat');
  private readonly input = byId<HTMLInputElement>('input');
  private readonly attention = new Attention(document.title);
  private readonly rooms: RoomsPanel;
  private readonly log: ChatLog;
  private readonly lines: MessageLines;
  private readonly connection: ChatConnection;
  private readonly people: PeoplePanel;
  private readonly files: FilesPanel;
  private readonly login: Login;
  private readonly commands: Commands;

  constructor() {
    const log = byId<HTMLOListElement>('log');
    const me = () => this.me;
    const send = (msg: ClientMessage) => this.connection.send(msg);
    this.rooms = new RoomsPanel(
      byId<HTMLUListElement>('rooms'),
      log,
      (name) => (this.input.placeholder = `Say something in ${name}, or /help (Up: history, Tab: complete)`),
    );
    this.log = new ChatLog(log, this.rooms, this.attention, me);
    this.lines = new MessageLines(this.log, this.attention, me);
    this.connection = new ChatConnection(this.log, {
      me,
      passwords: () => this.login.passwords(),
      message: (msg) => this.handle(msg),
      closed: (ev, joined) => this.closed(ev, joined),
    });
    this.people = new PeoplePanel(send, me);
    this.files = new FilesPanel(send, this.log);
    this.login = new Login(this.log, send, (nick) => {
      this.attention.askPermission();
      this.connect(nick);
    });
    this.commands = new Commands(this.input, new InputKeys(this.input, () => this.people.nicks()), {
      log: this.log,
      rooms: this.rooms,
      send,
      download: (name) => this.files.requestDownload(name),
      account: (cmd, args, rest) => this.login.account(cmd, args, rest),
      quit: (reason) => {
        this.final = true;
        send({ type: 'BYE', reason });
      },
    });
    window.setInterval(() => this.showBeat(), 1000);
    // Closing the tab is leaving: said, so that the session ends now rather than waiting to be resumed.
    window.addEventListener('pagehide', () => {
      if (!this.connection.joined) return;
      this.final = true;
      send({ type: 'BYE', reason: 'closed the page' });
    });
  }

  private setStatus(text: string, state: 'on' | 'off' | 'wait'): void {
    this.status.textContent = text;
    this.status.className = `pill ${state}`;
  }

  private showBeat(): void {
    if (!this.lastBeat || !this.connection.joined) {
      this.beat.textContent = '';
      return;
    }
    this.beat.textContent = `♥ heartbeat #${this.lastBeat.seq} answered ${formatDuration(Date.now() - this.lastBeat.at)} ago`;
  }

  private connect(nick: string): void {
    this.login.connecting();
    this.setStatus('connecting…', 'wait');
    this.connection.open(nick);
  }

  /** The connection is gone without a goodbye that means it: come back by itself, resuming the session. */
  private comeBack(why: string): void {
    const ms = this.connection.lost();
    this.setStatus('reconnecting…', 'wait');
    this.log.line(`* ${why}; reconnecting in ${formatDuration(ms)}`, 'notice');
    // The line stays open: what is typed meanwhile is held (send) and goes once back.
    this.input.disabled = false;
    byId<HTMLButtonElement>('send').disabled = false;
    window.setTimeout(() => this.connect(this.me), ms);
  }

  /** Typing and sending only while connected. */
  private setConnected(on: boolean): void {
    this.input.disabled = !on;
    byId<HTMLButtonElement>('send').disabled = !on;
    this.people.connected(on);
  }

  private closed(ev: CloseEvent, joined: boolean): void {
    this.login.closed();
    this.setStatus('not connected', 'off');
    this.setConnected(false);
    if (this.connection.reconnecting || (joined && !this.final))
      return this.comeBack(
        this.connection.reconnecting ? 'could not reconnect' : `connection lost${ev.reason ? ` (${ev.reason})` : ''}`,
      );
    if (!joined) return this.login.couldNotJoin(ev.code);
    this.log.line(`* disconnected${ev.reason ? `: ${ev.reason}` : ''}`, 'notice');
    this.log.offer('Join again', () => this.connect(this.me));
  }

  /** What a message changes here; then the lines it shows (message-lines.ts). */
  private handle(msg: ServerMessage): void {
    switch (msg.type) {
      case 'WELCOME':
        return this.connection.reconnecting ? this.welcomeBack(msg) : this.welcome(msg);
      case 'HEARTBEAT':
        // Answered at once, echoing seq and ts: the server measures the round trip from its own ts.
        this.connection.send({ type: 'HEARTBEAT_ACK', seq: msg.seq, ts: msg.ts });
        this.lastBeat = { seq: msg.seq, at: Date.now() };
        return this.showBeat();
      case 'CHAT':
        if (msg.room && msg.id !== undefined) this.rooms.saw(msg.room, msg.id);
        break;
      case 'JOINED':
        this.rooms.joined(msg.room);
        break;
      case 'PARTED':
        this.lines.show(msg);
        return this.rooms.parted(msg.room);
      case 'HISTORY':
        if (!msg.missed && msg.room && msg.entries[0]) this.rooms.saw(msg.room, msg.entries[0].id);
        break;
      case 'NOTICE':
        return this.notice(msg);
      case 'WHO_REPLY':
        return this.people.show(msg.users, msg.total);
      case 'FILES_REPLY':
        return this.files.show(msg.files, msg.total);
      case 'TICKET':
        return this.files.ticket(msg);
      case 'ERROR':
        return this.error(msg);
      case 'ACCOUNT_REPLY':
        this.login.accountReply(msg);
        break;
      case 'BYE':
        if (msg.reason.startsWith('kicked') || msg.reason.startsWith('replaced')) this.final = true;
        break;
    }
    this.lines.show(msg);
  }

  private error(msg: Extract<ServerMessage, { type: 'ERROR' }>): void {
    if (!this.connection.joined && this.connection.reconnecting && msg.code === 'RESUME_FAILED') {
      // The session is gone (its window passed): a new one, on this connection, in the rooms it was in.
      this.log.line(`* ${msg.message}; logging in again`, 'notice');
      return this.connection.loginAgain(this.me);
    }
    if (this.connection.joined) return this.log.line(`! ${msg.code}: ${msg.message}`, 'error');
    this.login.refused(msg);
  }

  /** Someone came, went or changed something: the People list follows, and so does the reader's own nick. */
  private notice(msg: Extract<ServerMessage, { type: 'NOTICE' }>): void {
    this.people.follow(msg);
    if (msg.event === 'nick' && msg.nick === this.me && msg.newNick) {
      this.me = msg.newNick;
      this.setStatus(`online as ${this.me}`, 'on');
    }
    this.lines.show(msg);
    if (msg.event === 'shared') this.connection.send({ type: 'FILES' });
  }

  private welcome(msg: Extract<ServerMessage, { type: 'WELCOME' }>): void {
    this.connection.welcome();
    this.me = msg.nick;
    byId('join-view').hidden = true;
    byId('chat-view').hidden = false;
    this.setStatus(`online as ${msg.nick}`, 'on');
    this.login.welcomed(msg.nick);
    this.commands.setMaxText(msg.maxText);
    this.setConnected(true);
    this.log.line(
      `* welcome, ${msg.nick}: ${msg.users} user${msg.users === 1 ? '' : 's'} here (${msg.server}). /help lists the commands.`,
      'notice',
    );
    this.log.line(
      `* heartbeats every ${formatDuration(msg.heartbeatIntervalMs)}; a tab silent for ${formatDuration(msg.heartbeatTimeoutMs)} is dropped`,
      'muted',
    );
    this.rooms.clear();
    this.input.focus();
    this.connection.send({ type: 'WHO' });
    this.connection.send({ type: 'FILES' });
  }

  /** Back after a lost connection: resumed (rooms as they were; what was missed follows), or logged in anew (the rooms again). */
  private welcomeBack(msg: Extract<ServerMessage, { type: 'WELCOME' }>): void {
    this.connection.back();
    this.me = msg.nick;
    this.setStatus(`online as ${msg.nick}`, 'on');
    this.setConnected(true);
    if (!msg.resumed) {
      const rooms = this.rooms.names();
      this.rooms.clear();
      for (const room of rooms) this.connection.send({ type: 'JOIN', room });
    }
    this.log.line(msg.resumed ? '* session resumed' : `* reconnected as ${msg.nick}`, 'notice');
    this.connection.sendHeld();
    this.connection.send({ type: 'WHO' });
  }
}

new ChatPage();
