/**
 * The client's side of the chat protocol, as the listener thread runs it: it
 * owns the connection, decodes frames, answers heartbeats at once, prints what
 * arrives, and decides when the client must end and with which exit code.
 * Socket, output and the thread port are injected, so that the protocol's
 * states can be driven in-process by tests; main.ts wires the real ones.
 */
import { ExitCode, ProtocolError } from '../../common/errors.js';
import { PROTOCOL_VERSION, type ClientMessage, type ServerMessage } from '../../common/protocol.js';
import { ServerFrames } from '../server-frames.js';
import { neutralizeControls as safe } from '../../common/unicode/text-policy.js';
import { formatDuration } from '../../common/units.js';
import { ChatTransfers } from '../chat-transfers.js';
import { SendPacer, realTimer } from '../send-pacer.js';
import { connectErrorText, hopelessConnectText, renderServerMessage, webPortText, welcomeText } from '../render.js';
import { RoomState } from '../room-state.js';
import { Reconnection } from '../reconnection.js';
import { runCommand, type CommandTarget } from './commands.js';
import { Roster } from '../roster.js';
import { ResumeState } from '../../common/resume-state.js';
import { Login, type LoginStep } from '../login.js';
import { DEFAULT_SILENCE_MS, SilenceWatch } from '../silence-watch.js';
import type { ListenerConfig, ToListener } from './thread-messages.js';
import { abandonSocket, type ListenerOutput, type ListenerPort, type ListenerSocket } from './io.js';

/** waiting: the connection was lost and the next try is scheduled (reconnection.ts); password: the person at the terminal is typing it. */
type Phase = 'connecting' | 'hello' | 'password' | 'active' | 'waiting' | 'quitting' | 'done';

const QUIT_WAIT_MS = 5_000;

export class Listener {
  private phase: Phase = 'connecting';
  private nick: string;
  private quitTimer: NodeJS.Timeout | null = null;
  private readonly silence: SilenceWatch;
  private frames = new ServerFrames();
  private socket!: ListenerSocket;
  private welcomed = false;
  private readonly transfers: ChatTransfers;
  private readonly roster = new Roster();
  private readonly rooms = new RoomState();
  private readonly reconnection = new Reconnection();
  private readonly resume = new ResumeState();
  private readonly login: Login;
  private readonly commands: CommandTarget;
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
    private readonly out: ListenerOutput,
    private readonly port: ListenerPort,
    private readonly now: () => number = Date.now,
    private readonly clientName = 'chat-client',
  ) {
    this.nick = config.nick;
    const passwordsAllowed = config.tls !== null || config.allowPlainPasswords;
    this.login = new Login({
      password: config.nickPassword,
      tty: config.tty,
      canAsk: config.askPasswords,
      passwordsAllowed,
    });
    const { host, downloadsDir, tty, verbose, qlogDir, lftpVia } = config;
    this.transfers = new ChatTransfers({
      host,
      downloadsDir,
      tty,
      verbose,
      qlogDir,
      lftpVia,
      print: (l) => out.line(l),
      status: (l) => out.status(l),
      send: (msg) => this.send(msg),
    });
    this.commands = {
      ...{
        connected: () => this.phase === 'active',
        passwordsAllowed: () => passwordsAllowed,
        reconnecting: () => this.reconnection.active,
        rooms: this.rooms,
        transfers: this.transfers,
        out,
        port,
      },
      ...{
        now: () => this.now(),
        send: (m: ClientMessage) => this.send(m),
        hold: (m: ClientMessage) => this.reconnection.hold(m),
        quit: (r: string) => this.quit(r),
      },
      roomChanged: () => this.roomChanged(),
    };
    this.attach(connect());
    this.silence = new SilenceWatch(config.serverTimeoutMs ?? DEFAULT_SILENCE_MS, now, (ms, limit) => {
      if (this.phase === 'active')
        this.lost(
          `connection lost: nothing from the server for ${formatDuration(ms)} (limit ${formatDuration(limit)})`,
        );
    });
  }

  private attach(socket: ListenerSocket): void {
    const c = this.config;
    this.socket = socket;
    socket.setTimeout(c.connectTimeoutMs);
    socket.on('timeout', () => {
      if (this.phase !== 'connecting' && this.phase !== 'hello') return;
      if (this.reconnection.active) this.lost(`no answer from the server within ${formatDuration(c.connectTimeoutMs)}`);
      else
        this.finish(
          ExitCode.FAILURE,
          `chat-client: no answer from ${c.host}:${c.port} within ${formatDuration(c.connectTimeoutMs)}`,
        );
    });
    socket.on('chat-ready', () => {
      this.phase = 'hello';
      this.silence.heard();
      this.sendHello();
    });
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('end', () => this.lost('connection closed by the server'));
    socket.on('error', (err) => this.onError(err));
    socket.on('close', () => this.lost('connection to the server lost'));
  }

  private sendHello(): void {
    this.send(
      this.resume.hello(PROTOCOL_VERSION, this.nick, this.clientName, this.config.serverPassword, this.login.password),
    );
  }

  /** The server refused the HELLO (login-refusal.ts decides what next). */
  private refused(step: LoginStep): void {
    if (step.line !== undefined) this.out.line(step.line);
    if (step.kind === 'reject') return this.finish(ExitCode.REJECTED, step.text);
    if (step.kind === 'held') return this.lost(step.why);
    if (step.kind === 'login-again') {
      this.resume.forget();
      return this.sendHello();
    }
    abandonSocket(this.socket);
    this.pacer.clear();
    if (step.kind === 'other-nick') {
      this.nick = step.nick;
      return this.redial();
    }
    // The main thread asks (hidden); passwordTyped dials again with the answer.
    this.phase = 'password';
    this.port.post({ k: 'password', nick: this.nick });
  }

  private passwordTyped(password: string): void {
    if (this.phase !== 'password') return;
    if (password === '')
      return this.finish(
        ExitCode.REJECTED,
        `chat-client: no password typed; ${safe(this.nick)} is registered (or choose another nick with --nick)`,
      );
    this.login.typed(password);
    this.redial();
  }

  private redial(): void {
    this.frames = new ServerFrames();
    this.phase = 'connecting';
    this.attach(this.connect());
  }

  get state(): Phase {
    return this.phase;
  }

  private onData(chunk: Buffer): void {
    this.silence.heard();
    // A web server answers our HELLO in HTTP; read as a frame header, "HTTP" is a 1.2 GB length.
    if (this.phase === 'hello' && chunk.subarray(0, 5).toString('latin1') === 'HTTP/')
      return this.finish(ExitCode.FAILURE, webPortText(this.config.host, this.config.port));
    try {
      for (const msg of this.frames.push(chunk)) {
        this.handle(msg);
        if (this.phase === 'done') return;
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
  private lost(why: string): void {
    if (this.phase === 'quitting') return this.finish(ExitCode.OK);
    if (!this.config.reconnect || this.phase === 'done') return this.finish(ExitCode.CONNECTION_LOST, why);
    if (this.phase === 'hello' && !this.welcomed)
      return this.finish(
        ExitCode.FAILURE,
        `chat-client: ${why} before it answered HELLO${this.config.tls ? '' : ' (a server that speaks TLS, the default, does that to --no-tls clients)'}`,
      );
    abandonSocket(this.socket);
    this.pacer.clear();
    this.transfers.abortAll('the connection was lost');
    if (this.phase === 'active') this.port.post({ k: 'connected', connected: false });
    const ms = this.reconnection.nextDelay();
    this.out.line(`* ${why}; reconnecting in ${formatDuration(ms)}`);
    this.phase = 'waiting';
    this.reconnection.schedule(ms, () => this.redial());
  }

  private onError(err: NodeJS.ErrnoException): void {
    const c = this.config;
    const hopeless = hopelessConnectText(err, c.tls !== null, c.host, c.port);
    if (hopeless !== null) return this.finish(ExitCode.FAILURE, hopeless);
    if (this.phase === 'connecting' && this.reconnection.active)
      return this.lost(`cannot connect: ${err.code ?? err.message}`);
    if (this.phase === 'connecting')
      this.finish(ExitCode.FAILURE, `chat-client: cannot connect to ${c.host}:${c.port}: ${connectErrorText(err)}`);
    else this.lost(`connection to the server lost (${err.code ?? err.message})`);
  }

  private send(msg: ClientMessage): void {
    this.login.sent(msg);
    this.pacer.send(msg);
  }

  private write(frame: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(frame);
  }

  private handle(msg: ServerMessage): void {
    this.resume.learn(msg, this.nick);
    this.login.learn(msg);
    switch (msg.type) {
      case 'HEARTBEAT':
        // Answered here, at once: this is the thread's reason to exist.
        this.send({ type: 'HEARTBEAT_ACK', seq: msg.seq, ts: msg.ts });
        break;
      case 'WELCOME':
        this.welcome(msg);
        return;
      case 'ERROR':
        if (this.phase === 'hello')
          return this.refused(this.login.refused(msg.code, msg.message, this.nick, this.reconnection.active));
        if (msg.fatal)
          return this.finish(
            ExitCode.CONNECTION_LOST,
            `disconnected by the server: ${safe(msg.code)}: ${safe(msg.message)}`,
          );
        break;
      case 'BYE':
        if (this.phase === 'quitting') return; // the server's answer to our BYE; its FIN follows
        // A kick is meant, and so is a session resumed elsewhere: no coming back. A shutdown or a heartbeat timeout is a connection to come back to.
        if (msg.reason.startsWith('kicked') || msg.reason.startsWith('replaced'))
          return this.finish(ExitCode.CONNECTION_LOST, `server closed the connection: ${safe(msg.reason)}`);
        return this.lost(`server closed the connection: ${safe(msg.reason) || 'no reason given'}`);
      case 'TICKET':
        this.transfers.onTicket(msg);
        return;
      case 'NOTICE':
        if (msg.event === 'nick' && msg.nick === this.nick && msg.newNick) {
          this.nick = msg.newNick;
          this.port.post({ k: 'nick', nick: this.nick });
        }
        this.roster.learn(msg, this.port);
        break;
      case 'NAMES_REPLY':
      case 'FILES_REPLY':
        this.roster.learn(msg, this.port);
        if (this.roster.swallow(msg.type)) return;
        break;
      default:
        break;
    }
    if (this.rooms.apply(msg)) this.roomChanged();
    const lines = renderServerMessage(msg, {
      me: this.nick,
      verbose: this.config.verbose,
      isCurrent: (r) => this.rooms.isCurrent(r),
    });
    if (lines.length > 0) this.out.message(msg, lines, this.nick);
  }

  private welcome(msg: Extract<ServerMessage, { type: 'WELCOME' }>): void {
    const c = this.config;
    this.phase = 'active';
    this.welcomed = true;
    this.socket.setTimeout(0);
    this.nick = msg.nick;
    this.frames.setLimit(msg.maxFrame);
    this.silence.setLimit(c.serverTimeoutMs ?? msg.heartbeatTimeoutMs);
    if (msg.floodBurst !== undefined && msg.floodRate !== undefined)
      this.pacer.setPolicy({ burst: msg.floodBurst, perSecond: msg.floodRate });
    if (this.reconnection.active) {
      // Back: resumed, the server kept its rooms (what was missed follows, then RESUMED says how much);
      // logged in anew, the rooms it was in again (the current one stays current). Then what was typed meanwhile.
      const back = this.reconnection.back(msg.resumed === true, `${c.host}:${c.port} as ${safe(msg.nick)}`, () =>
        this.rooms.rejoin(),
      );
      this.out.line(back.line);
      this.port.post({ k: 'connected', connected: true });
      for (const m of back.send) this.send(m);
    } else {
      this.out.line(welcomeText(msg, c.host, c.port));
      this.port.post({
        k: 'ready',
        nick: msg.nick,
        maxText: msg.maxText,
        heartbeatIntervalMs: msg.heartbeatIntervalMs,
        heartbeatTimeoutMs: msg.heartbeatTimeoutMs,
      });
    }
    // Who is here and what is shared, for tab completion (a terminal only: scripts see exactly what they asked for).
    if (c.tty) for (const ask of this.roster.quietRequests()) this.send(ask);
  }

  /** The prompt shows the current room, and Tab completes its members (asked for quietly, on a terminal only). */
  private roomChanged(): void {
    this.port.post({ k: 'room', room: this.rooms.current });
    const names = this.roster.roomChanged(this.rooms.current, this.config.tty);
    if (names) this.send(names);
  }

  /** What the main thread asks for (commands.ts). */
  command(msg: ToListener): void {
    if (msg.k === 'password') return this.passwordTyped(msg.password);
    if (this.phase !== 'done') runCommand(this.commands, msg);
  }

  private quit(reason: string): void {
    if (this.transfers.beforeQuit(!this.config.tty && this.phase === 'active', () => this.quit(reason))) return;
    if (this.phase !== 'active') return this.finish(ExitCode.OK);
    this.phase = 'quitting';
    // BYE, then half-close: everything written before it still reaches the server, in order
    // (lines still waiting for the server's pace go first).
    this.send({ type: 'BYE', reason });
    this.pacer.whenIdle(() => {
      if (this.phase !== 'quitting') return;
      this.socket.end();
      this.quitTimer = setTimeout(() => this.finish(ExitCode.OK), QUIT_WAIT_MS);
    });
  }

  /** Prints the last line and tells the main thread the exit code. The one way out. */
  private finish(code: number, line?: string): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.transfers.abortAll('connection closed');
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
