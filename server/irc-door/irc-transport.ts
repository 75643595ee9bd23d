/**
 * The IRC door as a chat transport: an IRC client's TCP (or TLS) connection
 * seen by ClientConnection exactly as a chat client's is (transport.ts,
 * ChatTransport). What the client sends becomes the chat's own frames
 * (registration's HELLO, then irc-inbound.ts), which the connection runs
 * through its flood gate, its login and its handlers as for any chat
 * client; what the connection writes, frame by frame, becomes IRC lines
 * (registration's welcome, then irc-outbound.ts) on the same output queue,
 * so the send queue, the output budget and the heartbeats' view of a slow
 * reader hold as they do for the chat's own clients. Nothing of the chat
 * asks which door a session came through.
 *
 * Lines the door answers itself (CAP, PING, MODE, a refused line) pass a gate
 * of its own with the chat's flood policy (docs/ARCHITECTURE.md, "The IRC door").
 */
import type { Socket } from 'node:net';
import type { RawFrame } from '../../common/frame.js';
import { ProtocolError, type WireErrorCode } from '../../common/errors.js';
import { FrameType, type ClientMessage, type ServerMessage } from '../../common/messages.js';
import { InboundGate } from '../chat/inbound-gate.js';
import { QueuedTransport, type ChatTransport, type OutputPath, type TransportEvents } from '../chat/transport.js';
import { IrcError } from '../irc/irc-error.js';
import { LineSplitter } from '../irc/line-splitter.js';
import { labelOf, labeled } from '../irc/labels.js';
import { type IrcMessage, parseLineBytes, serialize } from '../irc/message.js';
import { fitLine, overLine } from '../irc/words.js';
import { toIrcNick } from '../irc/nick-map.js';
import { closing, errorReply, lineRefusal } from '../irc/numeric-errors.js';
import { Registration } from '../irc/registration.js';
import type { Step } from '../irc/registration-effects.js';
import type { DoorServices } from './door-services.js';
import { ircToChat } from './irc-inbound.js';
import { chatToIrc } from './irc-outbound.js';
import { IrcSessionState } from './irc-session.js';
import type { AwayChange } from './irc-people.js';
import { awayLines } from '../irc/to-irc.js';
import { foldCase } from '../../common/unicode/text-policy.js';
import type { Finished } from './irc-requests.js';
import { decodeOwn, sharedLines } from './frame-lines.js';

function rawFrame(msg: ClientMessage): RawFrame {
  const { type, ...body } = msg;
  return { type: FrameType[type], body: Buffer.from(JSON.stringify(body), 'utf8') };
}

/** A line through the door's gate: PONG answers a heartbeat and never waits; the rest wait in order, free until handled. */
const ANSWER = FrameType.HEARTBEAT_ACK;
const IN_ORDER = FrameType.HELLO;
const PONG = /^(?:@\S+ +)?(?::\S+ +)?PONG /i;
/** A line longer than the limit, reported by the splitter: an empty body (no line is empty). */
const TOO_LONG = Buffer.alloc(0);

export class IrcTransport extends QueuedTransport implements ChatTransport {
  readonly kind = 'irc';
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly joinsFrames = true;
  private readonly splitter = new LineSplitter();
  private readonly reg: Registration;
  private readonly st: IrcSessionState;
  private events: TransportEvents | null = null;
  private gate: InboundGate | null = null;
  /** Registration's HELLO went to the chat and is not answered yet. */
  private helloAsked = false;
  /** USER's ident and real name, from the HELLO registration asked for. */
  private user: { ident: string; realname: string } = { ident: '', realname: '' };
  /** Stops hearing other people's AWAY changes. */
  private unlisten: (() => void) | null = null;
  /** Lines the serializer refused (a bug of the door's), never sent. */
  unsendable = 0;

  constructor(
    readonly rawSocket: Socket,
    private readonly door: DoorServices,
    path: OutputPath,
  ) {
    super(path);
    this.remoteAddress = rawSocket.remoteAddress ?? '?';
    this.remotePort = rawSocket.remotePort ?? 0;
    const c = door.config;
    this.reg = new Registration({
      server: c.server,
      host: c.host,
      nickMode: c.nickMode,
      limits: c.limits,
      offered: c.offered,
      startedAt: Date.now(),
    });
    this.st = new IrcSessionState(c, door.people, this.reg.cap);
    rawSocket.setNoDelay(true);
    rawSocket.on('drain', () => this.queue.flush());
  }

  get destroyed(): boolean {
    return this.rawSocket.destroyed;
  }
  get buffered(): number {
    return this.rawSocket.writableLength;
  }
  writeBatch(pieces: Buffer[]): void {
    const s = this.rawSocket;
    if (pieces.length === 1) return void s.write(pieces[0]!);
    s.cork();
    for (const p of pieces) s.write(p);
    s.uncork();
  }

  start(events: TransportEvents): void {
    this.events = events;
    this.queue.afterFlush = (bytes) => events.backlog(bytes);
    this.gate = new InboundGate(
      this.door.flood,
      this.door.timer,
      (line) => this.runLine(line),
      (detail) => events.protocolError(new ProtocolError('FLOOD', detail)),
    );
    const s = this.rawSocket;
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('end', () => events.ended());
    s.on('error', (err: NodeJS.ErrnoException) => events.closed(`connection error (${err.code ?? err.message})`));
    s.on('close', () => {
      this.gone();
      events.closed('connection closed');
    });
  }

  private onData(chunk: Buffer): void {
    for (const piece of this.splitter.push(chunk)) {
      const body = piece.kind === 'line' ? piece.bytes : TOO_LONG;
      this.gate?.push({
        type: piece.kind === 'line' && PONG.test(body.toString('latin1', 0, 64)) ? ANSWER : IN_ORDER,
        body,
      });
    }
    this.events?.frames([], chunk.length);
  }

  /** The client as numerics name it now. */
  private me(): string {
    return this.reg.phase === 'registered' ? toIrcNick(this.st.me, this.door.config.nickMode) : this.reg.me();
  }

  /** A line the gate let through. One the door answered alone costs a credit, after the fact, in order. */
  private runLine(line: RawFrame): void {
    const server = this.door.config.server.name;
    let chat = false;
    if (line.body === TOO_LONG) this.emit([errorReply(server, this.me(), 'ERR_INPUTTOOLONG')]);
    else {
      let msg: IrcMessage | null = null;
      try {
        msg = parseLineBytes(line.body);
      } catch (err) {
        if (!(err instanceof IrcError)) throw err;
        const reply = lineRefusal(server, this.me(), err);
        if (reply) this.emit([reply]);
      }
      // labeled-response: a registered session's command, answered with its label (docs/IRC.md).
      const label =
        msg && this.reg.phase === 'registered' && this.reg.cap.has('labeled-response') ? labelOf(msg) : undefined;
      if (msg) chat = this.apply(this.reg.line(msg), label);
    }
    if (!chat && line.type !== ANSWER) this.gate?.charge(1, () => undefined);
  }

  /** What registration said: lines, effects, and (registered) commands for the chat. True when frames went to it. */
  private apply(step: Step, label?: string): boolean {
    if (label !== undefined && step.commands.length === 0) this.emitLabeled({ label, lines: step.replies });
    else this.emit(step.replies);
    let chat = false;
    for (const e of step.effects) {
      if (e.kind === 'close') this.events?.ended();
      else if (e.kind === 'check-account') {
        const caller = { address: this.remoteAddress, secure: this.secure };
        this.door.checkAccount(caller, e.nick, e.password).then(
          (answer) => !this.destroyed && this.apply(this.reg.accountChecked(answer)),
          (err: unknown) => this.events?.protocolError(err as ProtocolError),
        );
      } else {
        this.user = e.user;
        this.helloAsked = true;
        this.send([{ ...e.hello, resumable: false }]);
        chat = true;
      }
    }
    for (const command of step.commands) {
      const r = ircToChat(this.st, this.door, command);
      const t = this.st.requests.command(command, r.frames, r.replies, label);
      this.st.joinsSent(t.frames);
      this.emit(t.given);
      this.emit(t.now);
      if (t.finished) this.emitLabeled(t.finished);
      if (t.frames.length > 0) chat = true;
      this.send(t.frames);
    }
    return chat;
  }

  private get secure(): boolean {
    return (this.rawSocket as { encrypted?: boolean }).encrypted === true;
  }

  private send(frames: ClientMessage[]): void {
    if (frames.length > 0) this.events?.frames(frames.map(rawFrame), 0);
  }

  /** A frame the connection writes: as the lines IRC says it in. */
  override write(frame: Buffer): void {
    const d = decodeOwn(frame);
    if (d === null) return;
    const msg = d.msg;
    if (this.reg.phase === 'registered') {
      const shared = sharedLines(d, this.st, this.reg.cap);
      if (shared) return void (shared.length > 0 && super.write(shared));
      const out = chatToIrc(this.st, msg);
      // What the door asks to answer this frame (a join's NAMES) answers the same command: tracked before this frame counts as answered.
      const ask = this.st.requests.follow('ref' in msg ? msg.ref : undefined, out.ask);
      const answered = this.st.requests.answered(msg, out.lines);
      this.emit(answered.now);
      if (answered.finished) this.emitLabeled(answered.finished);
      // Asked after this write returns: the connection is in the middle of sending.
      if (ask.length > 0) queueMicrotask(() => !this.destroyed && this.send(ask));
      return;
    }
    this.registering(msg);
  }

  /** The chat's answer to registration's HELLO, or its end before one. */
  private registering(msg: ServerMessage): void {
    const answered = this.helloAsked && (msg.type === 'WELCOME' || msg.type === 'ERROR');
    if (answered) this.helloAsked = false;
    if (msg.type === 'WELCOME') {
      this.st.me = msg.nick;
      this.st.person = { ...this.user, ...(msg.account ? { account: msg.nick } : {}) };
      this.door.people.add(msg.nick, this.st.person);
      this.unlisten = this.door.people.listen((change) => this.awayHeard(change));
      const welcome = { nick: msg.nick, motd: null, counts: this.door.counts() };
      this.apply(this.reg.helloAnswered({ ok: true, welcome }));
    } else if (msg.type === 'ERROR' && answered) {
      const message =
        msg.code === 'NICK_REGISTERED'
          ? `${msg.message.replace(/:.*$/, '')}: log in with SASL, or take another nick and /msg NickServ IDENTIFY <nick> <password>`
          : msg.message;
      this.apply(this.reg.helloAnswered({ ok: false, code: msg.code as WireErrorCode, message }));
    } else if ((msg.type === 'ERROR' && msg.fatal) || msg.type === 'BYE') {
      this.emit([closing(msg.type === 'BYE' ? msg.reason : msg.message)]);
    }
  }

  /** A labeled command's whole answer: ACK, one line with its label, or a labeled-response batch (labels.ts). */
  private emitLabeled(f: Finished): void {
    this.emit(labeled(this.door.config.server.name, this.reg.cap, f.label, f.lines, this.st.batchRef()));
  }

  /** Someone set or cleared an AWAY message: told (away-notify) if they share a room with this session. */
  private awayHeard(change: AwayChange): void {
    if (foldCase(change.nick) === foldCase(this.st.me) || !change.rooms.some((r) => this.st.rooms.has(r))) return;
    this.emit(awayLines(this.st.out(), change.nick, change.message));
  }

  /** Lines to the client, through the output queue. */
  private emit(lines: readonly IrcMessage[]): void {
    if (lines.length === 0 || this.rawSocket.destroyed) return;
    let text = '';
    for (const line of lines) {
      try {
        const body = serialize(line);
        text += `${overLine(body) ? serialize(fitLine(line)) : body}\r\n`;
      } catch (err) {
        if (!(err instanceof IrcError)) throw err;
        this.unsendable++;
      }
    }
    if (text !== '') super.write(Buffer.from(text, 'utf8'));
  }

  /** The session's person leaves the worker's IrcPeople with its connection. */
  private gone(): void {
    this.gate?.close();
    this.unlisten?.();
    if (this.st.person) this.door.people.remove(this.st.me, this.st.person);
  }

  end(): void {
    this.queue.drainAll();
    this.rawSocket.end();
  }
  destroy(): void {
    this.gone();
    this.rawSocket.destroy();
    this.queue.discard();
  }
}
