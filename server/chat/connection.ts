/**
 * One client connection inside a worker: framing, flood control, the hello
 * handshake, the way out for the bytes it is sent, and an orderly end. From
 * HELLO on it carries a session (live-session.ts), which the chat commands
 * act on. Everything that reaches beyond this connection (other clients, the
 * shared table, the supervisor) goes through the ConnectionHost the worker
 * provides.
 */
import type { Socket } from 'node:net';
import type { RawFrame } from '../../common/frame.js';
import { ProtocolError, type WireErrorCode } from '../../common/errors.js';
import {
  decodeClientMessage,
  encodeMessage,
  errorMessage,
  type ClientMessage,
  type ServerMessage,
} from '../../common/protocol.js';
import { InboundGate } from './inbound-gate.js';
import { InTurn } from './in-turn.js';
import { ReplayGate, type HeldBytes } from './replay-gate.js';
import { announceStart, type Hello, type Peer, type StartedSession } from './session-start.js';
import { Login } from './login.js';
import type { SlotRef } from '../shm/session-table.js';
import { handleActive } from './handlers.js';
import type { ConnectionHost, EndReason, GroupMember } from './session-host.js';
import type { Logger } from '../logger.js';
import type { ChatTransport } from './transport.js';
import { kicked, shutDown, type Farewell } from './farewells.js';
import { LiveSession } from './live-session.js';

type Phase = 'hello' | 'active' | 'closed';

/** Grace for a closing socket to flush and see the peer's FIN before it is destroyed. */
const CLOSE_GRACE_MS = 2_000;

export class ClientConnection implements GroupMember {
  private phase: Phase = 'hello';
  /** Set by HELLO: the session the message handlers act on. */
  private session: LiveSession | null = null;
  private readonly connectedAwake: number;
  readonly inbound: InboundGate;
  private readonly fileRequests = new InTurn(
    (reply) => this.sendMessage(reply),
    () => this.log,
  );
  /** The per-address place this connection holds: 'pending' until HELLO, 'session' after, none once ended. */
  private place: 'pending' | 'session' | null = 'pending';
  /** Its log before HELLO; the session's names it (session id, nick) from then on. */
  private readonly connectionLog: Logger;
  private readonly login: Login;
  /** Where the room bus delivers: history is paced in as the connection drains, and live frames wait behind it. */
  readonly inbox: ReplayGate;
  readonly address: string;
  readonly port: number;
  readonly counters = { msgsIn: 0, bytesIn: 0, msgsOut: 0, bytesOut: 0 };

  /**
   * @param held where the bytes its history pacing holds are charged (the worker's output budget)
   */
  constructor(
    readonly transport: ChatTransport,
    private readonly host: ConnectionHost,
    held: HeldBytes,
  ) {
    this.address = transport.remoteAddress;
    this.port = transport.remotePort;
    this.connectedAwake = host.clock.awakeNow();
    this.connectionLog = host.log.child({ remote: `${this.address}:${this.port}`, transport: transport.kind });
    this.inbound = new InboundGate(
      host.limits.flood,
      host.timer,
      (frame) => this.runFrame(frame),
      (detail) => this.fail('FLOOD', detail),
    );
    this.login = new Login(host, {
      ...{ hold: () => this.inbound.hold(), release: () => this.inbound.release(), alive: () => !this.closed },
      ...{
        begin: (s, msg) => this.begin(s, msg),
        reject: (code, message) => this.reject(code, message),
        fail: (err) => this.failWith(err),
      },
      info: (detail, text) => this.log.info(detail, text),
    });
    this.inbox = new ReplayGate(
      this,
      () => this.session && host.sequencer.send({ k: 'replay-next', session: this.session.at }),
      host.limits.maxSendQueue,
      () => host.clock.awakeNow(),
      held,
    );
    transport.start({
      frames: (frames, wireBytes) => this.onFrames(frames, wireBytes),
      protocolError: (err) => this.failWith(err),
      ended: () => this.end({ kind: 'lost', detail: 'connection closed by client' }, 'graceful'),
      closed: (detail) => {
        this.log.debug({ detail }, 'connection gone');
        this.end({ kind: 'lost', detail }, 'destroy');
      },
      backlog: (bytes) => {
        if (bytes > host.limits.maxSendQueue)
          this.fail('SEND_QUEUE_FULL', `more than ${host.limits.maxSendQueue} bytes waiting: the client does not read`);
        else this.inbox.drained();
      },
    });
  }

  /** The socket underneath, whatever the transport (closing it is the transport's job). */
  get socket(): Socket {
    return this.transport.rawSocket;
  }

  get ref(): SlotRef | null {
    return this.session?.ref ?? null;
  }

  get version(): number {
    return this.session?.version ?? 0;
  }

  get nick(): string {
    return this.session?.nick ?? '';
  }

  private get log(): Logger {
    return this.session?.log ?? this.connectionLog;
  }

  get closed(): boolean {
    return this.phase === 'closed';
  }

  get active(): boolean {
    return this.phase === 'active';
  }

  /** Bytes waiting for the client: in the output queue and the socket, and history held to be paced in. */
  get queuedBytes(): number {
    return this.transport.queuedBytes + this.inbox.bytes;
  }

  /**
   * Queues a frame unless the peer has stopped reading. A client is judged
   * after each flush (what it has not taken once offered everything); within
   * one turn its queue may reach twice --max-sendq before that judgement.
   */
  send(frame: Buffer): boolean {
    if (this.phase === 'closed' || this.transport.destroyed) return false;
    if (this.transport.queuedBytes > 2 * this.host.limits.maxSendQueue) {
      this.fail(
        'SEND_QUEUE_FULL',
        `more than ${2 * this.host.limits.maxSendQueue} bytes waiting in one turn: the client does not read`,
      );
      return false;
    }
    this.counters.msgsOut++;
    this.counters.bytesOut += frame.length;
    this.host.totals.framesOut++;
    this.host.totals.bytesOut += frame.length;
    this.transport.write(frame);
    return true;
  }

  private sendMessage(msg: ServerMessage): void {
    this.send(encodeMessage(msg));
  }

  private onFrames(frames: RawFrame[], wireBytes: number): void {
    if (this.phase === 'closed') return;
    this.counters.bytesIn += wireBytes;
    this.host.totals.bytesIn += wireBytes;
    for (const frame of frames) this.inbound.push(frame);
  }

  /** A frame the flood gate lets through. */
  private runFrame(frame: RawFrame): void {
    if (this.closed) return;
    try {
      this.handle(decodeClientMessage(frame));
    } catch (err) {
      this.failWith(err);
    }
  }

  private failWith(err: unknown): void {
    if (err instanceof ProtocolError) this.fail(err.code, err.message);
    else {
      this.log.error({ err }, 'internal error handling a frame');
      this.fail('BAD_FRAME', 'internal error while handling the frame');
    }
  }

  /** Fatal protocol error: tell the peer why, close this connection only. */
  fail(code: WireErrorCode, message: string): void {
    if (this.phase === 'closed') return;
    this.log.warn(
      { code, nick: this.nick || undefined, queued: this.transport.queuedBytes, held: this.inbox.bytes },
      `closing connection: ${message}`,
    );
    // A client that does not read will not read its backlog: only the reason goes.
    if (code === 'SEND_QUEUE_FULL') this.transport.discardQueued();
    // Written directly: send() may be the caller, refusing because the queue is full.
    if (!this.transport.destroyed) this.transport.write(encodeMessage(errorMessage(code, message, true)));
    this.end({ kind: 'error', detail: `${code}: ${message}` }, 'graceful');
  }

  /** A request refused, the connection carries on. */
  private reject(code: WireErrorCode, message: string, ref?: string): void {
    this.sendMessage(errorMessage(code, message, false, ref));
  }

  private handle(msg: ClientMessage): void {
    if (this.session) {
      handleActive(this.session, msg);
      return;
    }
    if (msg.type !== 'HELLO') throw new ProtocolError('HELLO_REQUIRED', `${msg.type} before HELLO`);
    this.login.hello(this.peer, msg);
  }

  /** The session is this connection's (the 'pending' place was traded for a 'session' one): WELCOME, then into the default room, or (resumed) what it missed through the sequencer. */
  private begin(s: StartedSession, msg: Hello): void {
    this.place = 'session';
    const session = new LiveSession(this.host, s, msg, this.peer, this.counters, {
      send: (frame) => this.send(frame),
      reply: (m) => this.sendMessage(m),
      reject: (code, message, ref) => this.reject(code, message, ref),
      inTurn: (work) => this.fileRequests.run(work),
      ...{ hold: () => this.inbound.hold(), release: () => this.inbound.release(), alive: () => !this.closed },
      fail: (err) => this.failWith(err),
      end: (reason, how, farewell) => this.end(reason, how, farewell),
      replay: this.inbox,
    });
    this.session = session;
    this.phase = 'active';
    if (s.previous) this.inbox.begin();
    this.host.sessions.registered(this);
    announceStart(this.host, s, msg, session.at, this.peer, session.log, (m) => this.sendMessage(m));
  }

  private get peer(): Peer {
    return {
      transport: this.transport.kind,
      address: this.address,
      port: this.port,
      secure: (this.transport.rawSocket as { encrypted?: boolean }).encrypted === true,
    };
  }

  /** Driven by the worker's ticker: heartbeats, deadlines, counters to the shared table. */
  tick(awakeNow: number, wallNow: number): void {
    if (this.phase === 'hello') {
      if (awakeNow - this.connectedAwake > this.host.limits.helloTimeoutMs)
        this.fail('HELLO_TIMEOUT', `no HELLO within ${this.host.limits.helloTimeoutMs}ms`);
      return;
    }
    if (this.phase === 'active') this.session?.tick(awakeNow, wallNow, this.transport.output);
  }

  kick(reason: string): void {
    this.close(kicked(reason));
  }

  shutdown(reason: string): void {
    this.close(shutDown(reason, this.session?.resumable ?? false));
  }

  /** Ended from this side: the client is told why, after what is queued for it. */
  private close({ reason, bye }: Farewell): void {
    this.end(reason, 'graceful', bye);
  }

  /**
   * The one way out: frees the slot (or keeps it AWAY, to resume), tells the others, closes the socket.
   * 'graceful' half-closes after the queued frames and destroys after a grace
   * period; 'destroy' is for sockets that are already gone.
   */
  end(reason: EndReason, how: 'graceful' | 'destroy', farewell?: ServerMessage): void {
    if (this.phase === 'closed') return;
    const wasActive = this.phase === 'active';
    this.phase = 'closed';
    this.inbound.close();
    this.inbox.discard();
    if (this.place) this.host.admission.leave(this.address, this.place);
    this.place = null;
    if (this.inbound.delayed > 0) this.log.info({ delayed: this.inbound.delayed }, 'frames held back by flood control');
    const t = this.transport;
    if (farewell && !t.destroyed) t.write(encodeMessage(farewell));
    if (how === 'graceful' && !t.destroyed) {
      t.end();
      setTimeout(() => t.destroy(), CLOSE_GRACE_MS).unref();
    } else {
      t.destroy();
    }
    this.host.sessions.unregistered(this);
    if (wasActive) this.session?.closed(reason);
  }
}
