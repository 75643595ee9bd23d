/**
 * A stand-in for the worker the IRC door will have: a loopback TCP server
 * that runs server/irc's pure modules on real sockets and plays a tiny chat
 * (rooms, room messages) in place of the real one. It exists so that a real
 * client library (irc-framework) can be pointed at the protocol core and
 * show that registration, CAP, SASL and the mappings work for it; it is not
 * the door (no flood control, no limits, no store).
 */
import { type Server, type Socket, createServer } from 'node:net';
import type { ClientMessage, ServerMessage } from '../../common/messages.js';
import { offeredCapabilities } from '../../server/irc/caps.js';
import { fromIrc } from '../../server/irc/from-irc.js';
import { IrcError } from '../../server/irc/irc-error.js';
import { LineSplitter } from '../../server/irc/line-splitter.js';
import { type IrcMessage, parseLineBytes, serialize } from '../../server/irc/message.js';
import { errorReply, lineRefusal } from '../../server/irc/numeric-errors.js';
import { Registration } from '../../server/irc/registration.js';
import type { Step } from '../../server/irc/registration-effects.js';
import { toIrc } from '../../server/irc/to-irc.js';

const SERVER = { name: 'irc.test', network: 'Test', version: 'stub-1', createdAt: 'today' };
const LIMITS = { network: 'Test', roomsPerUser: 20, historyMax: 200, topicLen: 300, awayLen: 200 };
const COUNTS = { users: 1, servers: 1, rooms: 1, unknown: 0, local: 1, localMax: 1, globalMax: 1 };

interface Conn {
  socket: Socket;
  reg: Registration;
  splitter: LineSplitter;
  nick: string;
}

export class IrcDoorStub {
  private readonly server: Server;
  private readonly rooms = new Map<string, Set<Conn>>();
  private nextId = 1;
  /** Every line the stub wrote, for a test to look at. */
  readonly sent: string[] = [];

  constructor(private readonly passwords: ReadonlyMap<string, string>) {
    this.server = createServer((socket) => this.accept(socket));
  }

  listen(): Promise<number> {
    return new Promise((resolve) => {
      this.server.listen(0, '127.0.0.1', () => {
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    const reg = new Registration({
      server: SERVER,
      host: 'irc.test',
      nickMode: 'utf8',
      limits: LIMITS,
      offered: offeredCapabilities({ accounts: true, history: true }),
      startedAt: Date.now(),
    });
    const conn: Conn = { socket, reg, splitter: new LineSplitter(), nick: '' };
    socket.on('error', () => socket.destroy());
    socket.on('data', (data) => {
      for (const piece of conn.splitter.push(data)) {
        if (piece.kind === 'too-long') this.write(conn, [errorReply(SERVER.name, reg.me(), 'ERR_INPUTTOOLONG')]);
        else this.line(conn, piece.bytes);
      }
    });
  }

  private line(conn: Conn, bytes: Buffer): void {
    let msg: IrcMessage;
    try {
      msg = parseLineBytes(bytes);
    } catch (err) {
      if (!(err instanceof IrcError)) throw err;
      const reply = lineRefusal(SERVER.name, conn.reg.me(), err);
      if (reply) this.write(conn, [reply]);
      return;
    }
    this.apply(conn, conn.reg.line(msg));
  }

  /** What a worker does with a step: write, carry out the effects, pass the commands on. */
  private apply(conn: Conn, step: Step): void {
    this.write(conn, step.replies);
    for (const e of step.effects) {
      if (e.kind === 'close') conn.socket.end();
      if (e.kind === 'check-account') {
        const right = this.passwords.get(e.nick) === e.password;
        this.apply(
          conn,
          conn.reg.accountChecked(
            right ? { ok: true } : { ok: false, code: 'NICK_PASSWORD_WRONG', message: 'wrong password' },
          ),
        );
      }
      if (e.kind === 'hello') {
        conn.nick = e.hello.nick;
        this.apply(
          conn,
          conn.reg.helloAnswered({ ok: true, welcome: { nick: e.hello.nick, motd: ['stub'], counts: COUNTS } }),
        );
      }
    }
    for (const cmd of step.commands) {
      const rooms = [...this.rooms].filter(([, m]) => m.has(conn)).map(([r]) => r);
      const ctcp = { version: 'stub-1', source: 'test', now: () => Date.now() };
      const inbound = fromIrc(
        { server: SERVER.name, host: 'irc.test', nickMode: 'utf8', me: conn.nick, rooms, ctcp },
        cmd,
      );
      this.write(conn, inbound.replies);
      for (const frame of inbound.frames) this.chat(conn, frame);
      if (inbound.local.some((l) => l.kind === 'quit')) {
        this.write(conn, [{ command: 'ERROR', params: ['Closing link: quit'] }]);
        conn.socket.end();
      }
    }
  }

  /** The chat, as far as the test needs it: JOIN, CHAT, NAMES. */
  private chat(conn: Conn, frame: ClientMessage): void {
    if (frame.type === 'JOIN') {
      const members = this.rooms.get(frame.room) ?? new Set<Conn>();
      this.rooms.set(frame.room, members.add(conn));
      for (const m of members) this.deliver(m, { type: 'NOTICE', event: 'joined', nick: conn.nick, room: frame.room });
      this.deliver(conn, { type: 'JOINED', room: frame.room, topic: 'Week 3', members: members.size });
    } else if (frame.type === 'CHAT') {
      const room = frame.room ?? '#lobby';
      const msg = {
        type: 'CHAT',
        from: conn.nick,
        text: frame.text,
        action: frame.action,
        ts: Date.now(),
        id: this.nextId++,
        room,
      } as const;
      for (const m of this.rooms.get(room) ?? []) this.deliver(m, msg);
    } else if (frame.type === 'NAMES') {
      const nicks = [...(this.rooms.get(frame.room) ?? [])].map((m) => m.nick);
      this.deliver(conn, { type: 'NAMES_REPLY', room: frame.room, nicks, total: nicks.length });
    }
  }

  private deliver(conn: Conn, frame: ServerMessage): void {
    const out = toIrc(
      {
        server: SERVER.name,
        host: 'irc.test',
        nickMode: 'utf8',
        me: conn.nick,
        caps: conn.reg.cap,
        defaultRoom: '#lobby',
      },
      frame,
    );
    this.write(conn, out.lines);
    for (const ask of out.ask) this.chat(conn, ask);
  }

  private write(conn: Conn, lines: readonly IrcMessage[]): void {
    if (lines.length === 0 || conn.socket.destroyed) return;
    const text = lines.map(serialize);
    this.sent.push(...text);
    conn.socket.write(text.map((l) => `${l}\r\n`).join(''));
  }
}
