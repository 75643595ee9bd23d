/**
 * The page's connection to the server: one WebSocket to /chat carrying the
 * chat protocol's frames (codec.ts), one frame per binary message; the HELLO
 * that resumes the session when it can (common/resume-state.ts); what is
 * typed while the connection is down, held for when it is back; and the wait
 * before each try to come back (common/backoff.ts).
 */
import { Backoff } from '../../common/backoff.js';
import { ResumeState } from '../../common/resume-state.js';
import type { ChatLog } from './chat-log.js';
import { PROTOCOL_VERSION, decodeMessage, encodeMessage, type ClientMessage, type ServerMessage } from './codec.js';

/** Lines typed while the connection is down that are kept for sending once it is back (as the terminal client does). */
const MAX_HELD = 100;

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
  private readonly held: ClientMessage[] = [];
  private readonly resume = new ResumeState();
  private readonly backoff = new Backoff();

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

  send(msg: ClientMessage): void {
    if (this.ws?.readyState === WebSocket.OPEN && (this.welcomed || msg.type === 'HELLO'))
      return this.ws.send(encodeMessage(msg));
    if (!this.comingBack || (msg.type !== 'CHAT' && msg.type !== 'DIRECT')) return;
    // What is typed while the connection is down goes once it is back.
    if (this.held.length < MAX_HELD) this.held.push(msg);
    else this.log.line(`! not connected: this line was not kept (${MAX_HELD} lines wait already)`, 'error');
  }

  /** The session could not be resumed (its window passed): a new one, on this connection. */
  loginAgain(nick: string): void {
    this.resume.forget();
    this.send(this.hello(nick));
  }

  /** A first WELCOME. */
  welcome(): void {
    this.welcomed = true;
  }

  /** Lost without a goodbye that means it: coming back, after the wait this returns (longer each time). */
  lost(): number {
    this.comingBack = true;
    return this.backoff.next();
  }

  /** Back (a WELCOME while coming back): the waits start again. */
  back(): void {
    this.comingBack = false;
    this.welcomed = true;
    this.backoff.reset();
  }

  /** What was typed while the connection was down, sent. */
  sendHeld(): void {
    for (const m of this.held.splice(0)) this.send(m);
  }
}
