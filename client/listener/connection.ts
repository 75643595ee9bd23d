/**
 * The listener's connection to the server, through its life: dialled (and
 * dialled again, after a loss or as another nick), its frames decoded and
 * paced out at the server's rate, its silence watched, and how it ends: lost,
 * to come back to later (reconnection.ts), or finished, deciding the client's
 * exit code. What the frames say is the Listener's (listener.ts).
 */
import { ExitCode, ProtocolError } from '../../common/errors.js';
import type { ClientMessage, ServerMessage } from '../../common/protocol.js';
import { formatDuration } from '../../common/units.js';
import { connectErrorText, hopelessConnectText, webPortText } from '../render.js';
import type { Reconnection } from '../reconnection.js';
import { SendPacer, realTimer } from '../send-pacer.js';
import { ServerFrames } from '../server-frames.js';
import { DEFAULT_SILENCE_MS, SilenceWatch } from '../silence-watch.js';
import { abandonSocket, type ListenerOutput, type ListenerPort, type ListenerSocket } from './io.js';
import type { ListenerConfig } from '../thread-messages.js';

/** waiting: the connection was lost and the next try is scheduled (reconnection.ts); password: the person at the terminal is typing it. */
export type Phase = 'connecting' | 'hello' | 'password' | 'active' | 'waiting' | 'quitting' | 'done';

const QUIT_WAIT_MS = 5_000;

/** What the connection tells the Listener. */
export interface ConnectionEvents {
  /** Connected, and (with TLS) the server trusted: HELLO may go. */
  ready(): void;
  message(msg: ServerMessage): void;
  /** The connection is lost or finished: what depended on it ends, saying why. */
  gone(why: string): void;
}

export class Connection {
  private current: Phase = 'connecting';
  private quitTimer: NodeJS.Timeout | null = null;
  private readonly silence: SilenceWatch;
  private frames = new ServerFrames();
  private socket!: ListenerSocket;
  private welcomed = false;
  /** On a terminal, once a burst starts to wait, it says why lines are slow to appear. */
  private readonly pacer = new SendPacer(
    (frame) => this.write(frame),
    realTimer,
    (n) =>
      void (
        this.config.tty &&
        n === 5 &&
        this.out.line(`* sending at the server's pace (${this.pacer.rate} a second): lines are waiting their turn`)
      ),
  );

  /** @param connect opens a connection to the server (again, when a taken nick is retried) */
  constructor(
    private readonly config: ListenerConfig,
    private readonly connect: () => ListenerSocket,
    private readonly reconnection: Reconnection,
    private readonly out: ListenerOutput,
    private readonly port: ListenerPort,
    now: () => number,
    private readonly events: ConnectionEvents,
  ) {
    this.attach(connect());
    this.silence = new SilenceWatch(config.serverTimeoutMs ?? DEFAULT_SILENCE_MS, now, (ms, limit) => {
      if (this.current === 'active')
        this.lost(
          `connection lost: nothing from the server for ${formatDuration(ms)} (limit ${formatDuration(limit)})`,
        );
    });
  }

  get phase(): Phase {
    return this.current;
  }

  private attach(socket: ListenerSocket): void {
    const c = this.config;
    this.socket = socket;
    socket.setTimeout(c.connectTimeoutMs);
    socket.on('timeout', () => {
      if (this.current !== 'connecting' && this.current !== 'hello') return;
      if (this.reconnection.active) this.lost(`no answer from the server within ${formatDuration(c.connectTimeoutMs)}`);
      else
        this.finish(
          ExitCode.FAILURE,
          `chat-client: no answer from ${c.host}:${c.port} within ${formatDuration(c.connectTimeoutMs)}`,
        );
    });
    socket.on('chat-ready', () => {
      this.current = 'hello';
      this.silence.heard();
      this.events.ready();
    });
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('end', () => this.lost('connection closed by the server'));
    socket.on('error', (err) => this.onError(err));
    socket.on('close', () => this.lost('connection to the server lost'));
  }

  /** The server refused this connection's HELLO: nothing it still says arrives, nothing waiting goes out on it. */
  drop(): void {
    abandonSocket(this.socket);
    this.pacer.clear();
  }

  /** Dropped, and nothing more until the person at the terminal types the nick's password (then redial). */
  awaitPassword(): void {
    this.current = 'password';
  }

  redial(): void {
    this.frames = new ServerFrames();
    this.current = 'connecting';
    this.attach(this.connect());
  }

  /** WELCOME: logged in; the server's limits (frame size, silence, flood pace) hold from now on. */
  established(msg: Extract<ServerMessage, { type: 'WELCOME' }>): void {
    this.current = 'active';
    this.welcomed = true;
    this.socket.setTimeout(0);
    this.frames.setLimit(msg.maxFrame);
    this.silence.setLimit(this.config.serverTimeoutMs ?? msg.heartbeatTimeoutMs);
    if (msg.floodBurst !== undefined && msg.floodRate !== undefined)
      this.pacer.setPolicy({ burst: msg.floodBurst, perSecond: msg.floodRate });
  }

  private onData(chunk: Buffer): void {
    this.silence.heard();
    // A web server answers our HELLO in HTTP; read as a frame header, "HTTP" is a 1.2 GB length.
    if (this.current === 'hello' && chunk.subarray(0, 5).toString('latin1') === 'HTTP/')
      return this.finish(ExitCode.FAILURE, webPortText(this.config.host, this.config.port));
    try {
      for (const msg of this.frames.push(chunk)) {
        this.events.message(msg);
        if (this.current === 'done') return;
      }
    } catch (err) {
      const e = err as ProtocolError;
      this.finish(
        ExitCode.CONNECTION_LOST,
        `chat-client: protocol error from the server (${e.code ?? 'ERROR'}: ${e.message}); disconnecting`,
      );
    }
  }

  /** The connection is gone: come back later, saying so in one line (reconnection.ts); with --no-reconnect, exit 3. */
  lost(why: string): void {
    if (this.current === 'quitting') return this.finish(ExitCode.OK);
    if (!this.config.reconnect || this.current === 'done') return this.finish(ExitCode.CONNECTION_LOST, why);
    if (this.current === 'hello' && !this.welcomed)
      return this.finish(
        ExitCode.FAILURE,
        `chat-client: ${why} before it answered HELLO${this.config.tls ? '' : ' (a server that speaks TLS, the default, does that to --no-tls clients)'}`,
      );
    abandonSocket(this.socket);
    this.pacer.clear();
    this.events.gone('the connection was lost');
    if (this.current === 'active') this.port.post({ k: 'connected', connected: false });
    const ms = this.reconnection.nextDelay();
    this.out.line(`* ${why}; reconnecting in ${formatDuration(ms)}`);
    this.current = 'waiting';
    this.reconnection.schedule(ms, () => this.redial());
  }

  private onError(err: NodeJS.ErrnoException): void {
    const c = this.config;
    const hopeless = hopelessConnectText(err, c.tls !== null, c.host, c.port);
    if (hopeless !== null) return this.finish(ExitCode.FAILURE, hopeless);
    if (this.current === 'connecting' && this.reconnection.active)
      return this.lost(`cannot connect: ${err.code ?? err.message}`);
    if (this.current === 'connecting')
      this.finish(ExitCode.FAILURE, `chat-client: cannot connect to ${c.host}:${c.port}: ${connectErrorText(err)}`);
    else this.lost(`connection to the server lost (${err.code ?? err.message})`);
  }

  /** A frame for the server, at the pace it allows. */
  send(msg: ClientMessage): void {
    this.pacer.send(msg);
  }

  private write(frame: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(frame);
  }

  /** Leaving: BYE, and the end once the server has it; not logged in, the end at once. */
  quit(reason: string): void {
    if (this.current !== 'active') return this.finish(ExitCode.OK);
    this.current = 'quitting';
    // BYE, then half-close: everything written before it still reaches the server, in order
    // (lines still waiting for the server's pace go first).
    this.send({ type: 'BYE', reason });
    this.pacer.whenIdle(() => {
      if (this.current !== 'quitting') return;
      this.socket.end();
      this.quitTimer = setTimeout(() => this.finish(ExitCode.OK), QUIT_WAIT_MS);
    });
  }

  /** Prints the last line and tells the main thread the exit code. The one way out. */
  finish(code: number, line?: string): void {
    if (this.current === 'done') return;
    this.current = 'done';
    this.events.gone('connection closed');
    this.out.status('');
    if (line) this.out.final(line, code !== ExitCode.OK);
    this.silence.stop();
    this.pacer.clear();
    if (this.quitTimer) clearTimeout(this.quitTimer);
    this.reconnection.cancel();
    this.socket.destroy();
    this.port.exit(code);
  }
}
