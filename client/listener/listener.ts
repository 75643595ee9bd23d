/**
 * The client's side of the chat protocol, as the listener thread runs it:
 * HELLO and what follows a refusal (login.ts), heartbeats answered at once,
 * what arrives printed, and what the main thread asks done (commands.ts).
 * The connection's life, and when the client must end and with which exit
 * code, are connection.ts's. Socket, output and the thread port are injected,
 * so that the protocol's states can be driven in-process by tests; main.ts
 * wires the real ones.
 */
import { ExitCode } from '../../common/errors.js';
import { PROTOCOL_VERSION, type ClientMessage, type ServerMessage } from '../../common/protocol.js';
import { neutralizeControls as safe } from '../../common/unicode/text-policy.js';
import { ChatTransfers } from '../chat-transfers.js';
import { renderServerMessage, welcomeText } from '../render.js';
import { RoomState } from '../room-state.js';
import { Reconnection } from '../reconnection.js';
import { runCommand, type CommandTarget } from './commands.js';
import { Roster } from '../roster.js';
import { ResumeState } from '../../common/resume-state.js';
import { Login, type LoginStep } from '../login.js';
import { ReplayOrder } from '../replay-order.js';
import { DirectWatch } from '../direct-watch.js';
import { Connection, type Phase } from './connection.js';
import type { ListenerConfig, ToListener } from '../thread-messages.js';
import type { ListenerOutput, ListenerPort, ListenerSocket } from './io.js';

export class Listener {
  private nick: string;
  private readonly connection: Connection;
  private readonly transfers: ChatTransfers;
  private readonly roster = new Roster();
  private readonly rooms = new RoomState();
  private readonly reconnection = new Reconnection();
  private readonly resume = new ResumeState();
  private readonly login: Login;
  private readonly commands: CommandTarget;
  /** What a resume replays, held until RESUMED and then shown in time order. */
  private readonly replay = new ReplayOrder();
  /** Direct messages to nicks that may be offline (a terminal only). */
  private readonly directs = new DirectWatch();

  /** @param connect opens a connection to the server (again, when a taken nick is retried) */
  constructor(
    private readonly config: ListenerConfig,
    connect: () => ListenerSocket,
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
    const { downloadsDir, tty, verbose, qlogDir, lftpVia } = config;
    this.transfers = new ChatTransfers({
      // The server connected to now: /get and /post go to its LFTP port, after a move to another node too.
      get host() {
        return config.host;
      },
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
      connected: () => this.connection.phase === 'active',
      passwordsAllowed: () => passwordsAllowed,
      reconnecting: () => this.reconnection.active,
      rooms: this.rooms,
      transfers: this.transfers,
      out,
      port,
      nick: () => this.nick,
      now: () => this.now(),
      send: (m: ClientMessage) => this.send(m),
      hold: (m: ClientMessage) => this.reconnection.hold(m),
      quit: (r: string) => this.quit(r),
      roomChanged: () => this.roomChanged(),
    };
    this.connection = new Connection(config, connect, this.reconnection, out, port, now, {
      ready: () => this.sendHello(),
      message: (msg) => this.handle(msg),
      gone: (why) => {
        // Stopped, their partials kept: they continue once the session is back (welcome).
        this.transfers.suspendAll(why);
        // Lost in the middle of a replay: what came of it is shown (the next resume goes on after it).
        this.showReplay();
      },
    });
  }

  private sendHello(): void {
    this.send(
      this.resume.hello(PROTOCOL_VERSION, this.nick, this.clientName, this.config.serverPassword, this.login.password),
    );
  }

  /** The server refused the HELLO (login.ts decides what next). */
  private refused(step: LoginStep): void {
    if (step.line !== undefined) this.out.line(step.line);
    if (step.kind === 'reject') return this.connection.finish(ExitCode.REJECTED, step.text);
    if (step.kind === 'held') return this.connection.lost(step.why);
    if (step.kind === 'login-again') {
      this.resume.forget();
      return this.sendHello();
    }
    this.connection.drop();
    if (step.kind === 'other-nick') {
      this.nick = step.nick;
      return this.connection.redial();
    }
    // The main thread asks (hidden); passwordTyped dials again with the answer.
    this.connection.awaitPassword();
    this.port.post({ k: 'password', nick: this.nick });
  }

  private passwordTyped(password: string): void {
    if (this.connection.phase !== 'password') return;
    if (password === '')
      return this.connection.finish(
        ExitCode.REJECTED,
        `chat-client: no password typed; ${safe(this.nick)} is registered (or choose another nick with --nick)`,
      );
    this.login.typed(password);
    this.connection.redial();
  }

  get state(): Phase {
    return this.connection.phase;
  }

  private send(msg: ClientMessage): void {
    this.login.sent(msg);
    this.connection.send(msg);
    if (msg.type === 'WHO') this.directs.userAsked();
    else if (msg.type === 'DIRECT' && this.config.tty) {
      // Is the nick online? Asked quietly unless it is in the current room (the answer is not printed).
      const who = this.directs.sent(msg.to, this.roster.has(msg.to));
      if (who) this.connection.send(who);
    }
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
        if (this.connection.phase === 'hello')
          return this.refused(this.login.refused(msg.code, msg.message, this.nick, this.reconnection.active));
        if (msg.fatal)
          return this.connection.finish(
            ExitCode.CONNECTION_LOST,
            `disconnected by the server: ${safe(msg.code)}: ${safe(msg.message)}`,
          );
        if (msg.code === 'NO_SUCH_NICK' || msg.code === 'INBOX_FULL') this.directs.refused();
        break;
      case 'BYE':
        if (this.connection.phase === 'quitting') return; // the server's answer to our BYE; its FIN follows
        // A kick is meant, and so is a session resumed elsewhere: no coming back. A shutdown or a heartbeat timeout is a connection to come back to.
        if (msg.reason.startsWith('kicked') || msg.reason.startsWith('replaced'))
          return this.connection.finish(ExitCode.CONNECTION_LOST, `server closed the connection: ${safe(msg.reason)}`);
        return this.connection.lost(`server closed the connection: ${safe(msg.reason) || 'no reason given'}`);
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
    if (this.heldOrAnswered(msg)) return;
    this.show(msg);
    if (msg.type === 'DIRECT' && msg.from === this.nick)
      for (const line of this.directs.echoed(msg)) this.out.line(line);
  }

  private show(msg: ServerMessage): void {
    const lines = renderServerMessage(msg, {
      me: this.nick,
      verbose: this.config.verbose,
      isCurrent: (r) => this.rooms.isCurrent(r),
      nameRooms: this.config.tty,
    });
    if (lines.length > 0) this.out.message(msg, lines, this.nick);
  }

  /**
   * Messages not shown as they come: a replay's frames (held, shown in time order at RESUMED), the answer to a
   * /topic question (one line, not a room listing), the answer to a WHO asked for a direct message. True: done.
   */
  private heldOrAnswered(msg: ServerMessage): boolean {
    switch (msg.type) {
      case 'HISTORY':
        if (msg.missed && this.replay.add(msg)) this.showReplay();
        return msg.missed === true;
      case 'RESUMED':
        this.showReplay();
        return false;
      case 'ROOMS_REPLY': {
        const topic = this.rooms.topicAnswer(msg);
        if (topic !== null) this.out.line(topic);
        return topic !== null;
      }
      case 'WHO_REPLY': {
        const r = this.directs.answered(msg);
        for (const line of r.lines) this.out.line(line);
        return r.ours;
      }
      default:
        return false;
    }
  }

  private showReplay(): void {
    for (const frame of this.replay.drain()) this.show(frame);
  }

  private welcome(msg: Extract<ServerMessage, { type: 'WELCOME' }>): void {
    const c = this.config;
    this.connection.established(msg);
    this.nick = msg.nick;
    if (this.reconnection.active) {
      // Back: resumed, the server kept its rooms (what was missed follows, then RESUMED says how much);
      // logged in anew, the rooms it was in again (the current one stays current). Then what was typed meanwhile.
      const back = this.reconnection.back(msg.resumed === true, `${c.host}:${c.port} as ${safe(msg.nick)}`, () =>
        this.rooms.rejoin(msg.room),
      );
      this.out.line(back.line);
      this.port.post({ k: 'connected', connected: true });
      for (const m of back.send) this.send(m);
      this.transfers.resumeAll();
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
    if (this.connection.phase !== 'done') runCommand(this.commands, msg);
  }

  private quit(reason: string): void {
    if (this.transfers.beforeQuit(!this.config.tty && this.connection.phase === 'active', () => this.quit(reason)))
      return;
    this.connection.quit(reason);
  }
}
