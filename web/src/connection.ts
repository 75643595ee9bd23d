/**
 * The page's connection to the server: one WebSocket to /chat carrying the
 * chat protocol's frames (codec.ts), one frame per binary message; the HELLO
 * that resumes the session when it can (common/resume-state.ts), also after
 * a reload of the tab (saved-session.ts); and the wait before each try to
 * come back (common/backoff.ts), each try to the next of the cluster's
 * servers (server-list.ts). Nothing is sent while the connection is
 * down: the page disables Send meanwhile, and what is typed stays in the box.
 */
import { Backoff } from '../../common/backoff.js';
import { ResumeState, type ResumeSnapshot } from '../../common/resume-state.js';
import type { ChatLog } from './chat-log.js';
import { ServerList } from './server-list.js';
import { PROTOCOL_VERSION, decodeMessage, encodeMessage, type ClientMessage, type ServerMessage } from './codec.js';

/** What the connection asks of the page, and tells it. */
export interface ConnectionEvents {
  /** The reader's nick now (the session's frames are learnt as its). */
  me(): string;
  /** What HELLO carries besides the nick: a private server's password, the registered nick's. */
  passwords(): { server: string | null; nick: string | null };
  message(msg: ServerMessage): void;
  /** The WebSocket closed; `joined`: it had been welcomed. */
  closed(ev: CloseEvent, joined: boolean): void;
}

export class ChatConnection {
  private ws: WebSocket | null = null;
  private welcomed = false;
  private comingBack = false;
  private readonly resume = new ResumeState();
  private readonly backoff = new Backoff();
  readonly servers = new ServerList();

  constructor(
    private readonly log: ChatLog,
    private readonly events: ConnectionEvents,
  ) {}

  /** Welcomed on this connection: frames other than HELLO may go. */
  get joined(): boolean {
    return this.welcomed;
  }

  /** Lost and coming back: the next WELCOME resumes (or logs in anew). */
  get reconnecting(): boolean {
    return this.comingBack;
  }

  open(nick: string): void {
    const ws = new WebSocket(this.servers.socketUrl());
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => this.send(this.hello(nick));
    ws.onmessage = (ev) => {
      if (!(ev.data instanceof ArrayBuffer)) return;
      let msg: ServerMessage;
      try {
        msg = decodeMessage(ev.data);
      } catch (err) {
        this.log.line(`! bad frame from the server: ${(err as Error).message}`, 'error');
        ws.close(1003);
        return;
      }
      this.resume.learn(msg, this.events.me());
      this.events.message(msg);
    };
    ws.onclose = (ev) => {
      const joined = this.welcomed;
      this.ws = null;
      this.welcomed = false;
      this.events.closed(ev, joined);
    };
  }

  private hello(nick: string): ClientMessage {
    const passwords = this.events.passwords();
    return this.resume.hello(
      PROTOCOL_VERSION,
      nick,
      `web/${navigator.userAgent.slice(0, 60)}`,
      passwords.server,
      passwords.nick,
    );
  }

  /** Sends on the open session; false when there is none (the message is dropped). */
  send(msg: ClientMessage): boolean {
    if (!(this.ws?.readyState === WebSocket.OPEN && (this.welcomed || msg.type === 'HELLO'))) return false;
    this.ws.send(encodeMessage(msg));
    return true;
  }

  /** The session to resume, as a reload of the tab kept it: the next WELCOME is coming back. */
  restore(snapshot: ResumeSnapshot): void {
    this.resume.restore(snapshot);
    this.comingBack = true;
  }

  /** What resumes this session elsewhere (null: nothing to resume). */
  snapshot(): ResumeSnapshot | null {
    return this.resume.snapshot();
  }

  /** The session ended (/quit, a kick, replaced): the next HELLO starts a new one. */
  forget(): void {
    this.resume.forget();
  }

  /** A login the reader must see to (the nick is taken, its password is wanted): no more coming back by itself. */
  stopComingBack(): void {
    this.comingBack = false;
    this.resume.forget();
    this.backoff.reset();
  }

  /** The session could not be resumed (its window passed): a new one, on this connection. */
  loginAgain(nick: string): void {
    this.resume.forget();
    this.send(this.hello(nick));
  }

  /** Lost without a goodbye that means it: coming back, after the wait this returns (longer each time). */
  lost(): number {
    this.comingBack = true;
    this.servers.next();
    return this.backoff.next();
  }

  /** Welcomed (first, or back while coming back): frames may go, and the waits start again. */
  welcome(): void {
    this.comingBack = false;
    this.welcomed = true;
    this.backoff.reset();
    void this.servers.learn();
  }
}
