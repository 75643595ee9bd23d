/**
 * The browser chat page: one WebSocket to /chat speaking the chat protocol,
 * heartbeats answered as they come, files over HTTP with one-time tickets.
 * Lines are shown in the terminal client's formats. Here the page is put
 * together and the session followed: joining, welcomed, lost and back,
 * reloaded and resumed, closed; each message from the server goes to the
 * part that shows it.
 */
import type { ClientMessage, ServerMessage } from './codec.js';
import { Attention } from './attention.js';
import { ChatLog } from './chat-log.js';
import { Commands } from './commands.js';
import { ChatConnection } from './connection.js';
import { byId, formatDuration } from './dom.js';
import { FilesPanel } from './files-panel.js';
import { InputKeys } from './input-keys.js';
import { LogScroll } from './log-scroll.js';
import { Login, needsTheReader } from './login.js';
import { MessageLines } from './message-lines.js';
import { PeoplePanel } from './people-panel.js';
import { RoomsPanel } from './rooms-panel.js';
import { SessionKeeper, takeSaved, type SavedSession } from './saved-session.js';

/** Lines of each room asked for again after a reload (what the reader had before it). */
const RELOAD_LINES = 50;
/** HISTORY_REQUEST ids of a reload's requests: far from the ids /history counts up from 1. */
const RELOAD_IDS = 1_000_000_000;

class ChatPage {
  private me = '';
  private lastBeat: { seq: number; at: number } | null = null;
  /** Kicked, replaced by another connection, or /quit: no coming back by itself. */
  private final = false;
  /** Reloaded: the last ids the tab had shown, to ask for what it showed of each room once resumed. */
  private reloaded: SavedSession['resume']['last'] | null = null;
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
  private readonly keeper: SessionKeeper;

  constructor() {
    const log = byId<HTMLOListElement>('log');
    const scroll = new LogScroll(log, byId<HTMLButtonElement>('new-lines'));
    const me = () => this.me;
    const send = (msg: ClientMessage) => this.connection.send(msg);
    this.rooms = new RoomsPanel(byId<HTMLUListElement>('rooms'), log, scroll, (name) => this.switched(name));
    this.log = new ChatLog(log, this.rooms, scroll, this.attention, me);
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
      account: (cmd, rest) => this.login.account(cmd, rest),
      quit: (reason) => {
        this.final = true;
        send({ type: 'BYE', reason });
      },
    });
    window.setInterval(() => this.showBeat(), 1000);
    // Unloading says no BYE: a reload resumes the session; a closed tab's session ends with the resume window.
    this.keeper = new SessionKeeper(() => this.saved());
    const saved = takeSaved();
    if (saved) this.resumeSaved(saved);
  }

  private switched(room: string): void {
    this.input.placeholder = `Say something${room ? ` in ${room}` : ''}, or /help (Up: history, Tab: complete)`;
    this.people.showRoom(room);
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
    this.me = nick;
    this.login.connecting();
    this.setStatus('connecting…', 'wait');
    this.connection.open(nick);
  }

  /** What this tab keeps across a reload (saved-session.ts): nothing once the session has ended. */
  private saved(): SavedSession | null {
    const resume = this.connection.snapshot();
    if (!resume || this.final || !(this.connection.joined || this.connection.reconnecting)) return null;
    return { nick: this.me, resume, rooms: this.rooms.names(), current: this.rooms.current };
  }

  /** The tab was reloaded with a session open: its rooms as they were, and the session resumed. */
  private resumeSaved(saved: SavedSession): void {
    this.connection.restore(saved.resume);
    this.reloaded = saved.resume.last;
    byId('join-view').hidden = true;
    byId('chat-view').hidden = false;
    this.rooms.restore(saved.rooms, saved.current);
    this.log.olderAbove('* the page was reloaded: resuming the session', 'notice');
    this.away();
    this.connect(saved.nick);
  }

  /** The connection is gone without a goodbye that means it: come back by itself, resuming the session. */
  private comeBack(why: string): void {
    const ms = this.connection.lost();
    const to = this.connection.servers.several ? ` to ${new URL(this.connection.servers.current).host}` : '';
    this.log.line(`* ${why}; reconnecting${to} in ${formatDuration(ms)}`, 'notice');
    this.away();
    window.setTimeout(() => this.connect(this.me), ms);
  }

  /** Coming back: what is typed stays in the box, and Send waits for the connection. */
  private away(): void {
    this.setStatus('reconnecting…', 'wait');
    this.input.disabled = false;
    byId<HTMLButtonElement>('send').disabled = true;
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
    if (!this.final && (this.connection.reconnecting || joined))
      return this.comeBack(
        this.connection.reconnecting ? 'could not reconnect' : `connection lost${ev.reason ? ` (${ev.reason})` : ''}`,
      );
    // Ended for good: the token is spent or refused from now on, and a reload starts afresh.
    this.connection.forget();
    if (!joined) {
      this.login.show(this.me);
      return this.login.couldNotJoin(ev.code);
    }
    this.log.line(`* disconnected${ev.reason ? `: ${ev.reason}` : ''}`, 'notice');
    this.log.offer('Join again', () => {
      this.final = false;
      this.connect(this.me);
    });
  }

  /** What a message changes here; then the lines it shows (message-lines.ts). */
  private handle(msg: ServerMessage): void {
    switch (msg.type) {
      case 'WELCOME':
        return this.welcome(msg);
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
        return this.people.show(msg.users);
      case 'NAMES_REPLY':
        if (this.people.names(msg)) return;
        break;
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
    if (this.connection.joined) return this.log.line(`! ${msg.code}: ${msg.message}`, 'error');
    if (this.connection.reconnecting && msg.code === 'RESUME_FAILED') {
      // The session is gone (its window passed): a new one, on this connection, in the rooms it was in.
      this.log.line(`* ${msg.message}; logging in again`, 'notice');
      this.reloaded = null;
      return this.connection.loginAgain(this.me);
    }
    // Coming back, the server may be full or going down for a moment: try again later, as for a lost connection.
    if (this.connection.reconnecting && !needsTheReader(msg.code))
      return this.log.line(`! ${msg.code}: ${msg.message}`, 'error');
    this.connection.stopComingBack();
    this.login.show(this.me);
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

  /** Welcomed: in for the first time, or back after a lost connection or a reload. */
  private welcome(msg: Extract<ServerMessage, { type: 'WELCOME' }>): void {
    const back = this.connection.reconnecting;
    this.connection.welcome();
    this.me = msg.nick;
    byId('join-view').hidden = true;
    byId('chat-view').hidden = false;
    this.setStatus(`online as ${msg.nick}`, 'on');
    this.login.welcomed(msg.nick);
    this.commands.setMaxText(msg.maxText);
    this.setConnected(true);
    if (back) this.welcomeBack(msg);
    else {
      this.lines.show(msg);
      this.rooms.clear();
      this.input.focus();
    }
    this.keeper.changed();
    this.connection.send({ type: 'FILES' });
  }

  /** Back: resumed (rooms as they were; what was missed follows), or logged in anew (the rooms again). */
  private welcomeBack(msg: Extract<ServerMessage, { type: 'WELCOME' }>): void {
    if (!msg.resumed) {
      const rooms = this.rooms.names();
      this.rooms.clear();
      for (const room of rooms) this.connection.send({ type: 'JOIN', room });
    }
    this.log.line(msg.resumed ? '* session resumed' : `* reconnected as ${msg.nick}`, 'notice');
    this.files.reconnected();
    if (msg.resumed && this.reloaded) this.askWhatWasShown(this.reloaded);
    this.reloaded = null;
  }

  /** After a reload the log is empty: each room's lines up to the last one the tab had shown, above the new ones. */
  private askWhatWasShown(last: SavedSession['resume']['last']): void {
    let id = RELOAD_IDS;
    for (const seen of last) {
      if (seen.room === undefined || !this.rooms.isIn(seen.room)) continue;
      this.lines.restore(++id);
      this.connection.send({
        type: 'HISTORY_REQUEST',
        id,
        room: seen.room,
        before: seen.id + 1,
        limit: RELOAD_LINES,
      });
    }
  }
}

new ChatPage();
