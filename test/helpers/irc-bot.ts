/**
 * An IRC bot for the end-to-end tests, written with irc-framework (npm), the
 * library most JavaScript IRC bots use: it connects to the IRC door as any
 * bot would (CAP LS 302, SASL PLAIN when given an account, TLS when asked,
 * accepting the server's self-signed certificate), and keeps what it saw:
 * every line from the server, and irc-framework's own events, for a test to
 * wait on.
 */
import { createRequire } from 'node:module';
import { type Socket, connect } from 'node:net';

export interface IrcEvent {
  [key: string]: unknown;
  nick?: string;
  target?: string;
  message?: string;
  type?: string;
  time?: number;
  tags?: Record<string, string>;
}

interface Client {
  connect(o: object): void;
  on(event: string, fn: (e: IrcEvent) => void): void;
  join(channel: string): void;
  say(target: string, text: string): void;
  action(target: string, text: string): void;
  changeNick(nick: string): void;
  setTopic(channel: string, topic: string): void;
  raw(line: string): void;
  quit(reason?: string): void;
  user: { nick: string };
  network: { cap: { enabled: string[] }; options: Record<string, unknown> };
  connection: { connected: boolean };
}
const IRC = createRequire(import.meta.url)('irc-framework') as { Client: new (o?: object) => Client };

export interface BotOptions {
  port: number;
  nick: string;
  tls?: boolean;
  account?: { account: string; password: string };
  password?: string;
  /** More capabilities to ask for (irc-framework asks for most by itself). */
  caps?: string[];
}

/** Every bot a test file started: closed after each test (closeBots). */
const bots = new Set<{ close(): void }>();

export class IrcBot {
  readonly client: Client;
  /** Lines from the server, as received. */
  readonly lines: string[] = [];
  /** irc-framework's events, each with its name in `event`. */
  readonly events: IrcEvent[] = [];
  closed = false;
  private waiters: Array<() => void> = [];

  constructor(o: BotOptions) {
    this.client = new IRC.Client({
      auto_reconnect: false,
      enable_echomessage: false,
      request_extra_caps: o.caps ?? [],
    });
    bots.add(this);
    const c = this.client;
    c.on('raw', (e) => {
      if (e.from_server) this.record(() => this.lines.push(String(e.line).replace(/\r?\n$/, '')));
    });
    for (const name of [
      'registered',
      'loggedin',
      'join',
      'part',
      'quit',
      'nick',
      'topic',
      'message',
      'irc error',
      'batch end chathistory',
      'notice',
      'privmsg',
      'action',
      'userlist',
      'wholist',
      'whois',
      'channel list end',
      'nick in use',
    ])
      c.on(name, (e) => this.record(() => this.events.push({ ...e, event: name })));
    c.on('close', () => this.record(() => (this.closed = true)));
    c.connect({
      host: '127.0.0.1',
      port: o.port,
      nick: o.nick,
      username: o.nick.replace(/[^A-Za-z0-9]/g, '') || 'bot',
      gecos: `${o.nick} the bot`,
      ...(o.tls ? { tls: true, rejectUnauthorized: false } : {}),
      ...(o.account ? { account: o.account } : {}),
      ...(o.password ? { password: o.password } : {}),
    });
  }

  private record(add: () => void): void {
    add();
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** The first event named `name` (from index `from`) that `match` accepts. */
  async event(
    name: string,
    match: (e: IrcEvent) => boolean = () => true,
    timeoutMs = 10_000,
    from = 0,
  ): Promise<IrcEvent> {
    return this.until(
      () => this.events.slice(from).find((e) => e.event === name && match(e)),
      `event ${name}`,
      timeoutMs,
    );
  }

  /** The first line from the server matching `re`. */
  async line(re: RegExp, timeoutMs = 10_000, from = 0): Promise<string> {
    return this.until(() => this.lines.slice(from).find((l) => re.test(l)), `a line matching ${String(re)}`, timeoutMs);
  }

  /** Resolves once the connection has closed. */
  async gone(timeoutMs = 10_000): Promise<void> {
    await this.until(() => (this.closed ? true : undefined), 'the connection to close', timeoutMs);
  }

  private async until<T>(found: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = found();
      if (hit !== undefined) return hit;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`${this.client.user.nick}: no ${what} within ${timeoutMs}ms\nlines:\n${this.lines.join('\n')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    bots.delete(this);
    if (!this.closed) this.client.quit('test over');
  }
}

export function closeBots(): void {
  for (const b of [...bots]) b.close();
}

/** An IRC connection written by hand, for what no library sends: bytes that are not UTF-8, lines over the limit. */
export class RawIrc {
  readonly socket: Socket;
  readonly lines: string[] = [];
  private rest = '';
  private waiters: Array<() => void> = [];
  closed = false;

  constructor(port: number) {
    this.socket = connect({ host: '127.0.0.1', port });
    this.socket.on('data', (chunk: Buffer) => {
      const parts = (this.rest + chunk.toString('utf8')).split('\r\n');
      this.rest = parts.pop()!;
      this.lines.push(...parts);
      this.wake();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    this.socket.on('error', () => undefined);
    bots.add(this);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(line: string | Buffer): void {
    this.socket.write(typeof line === 'string' ? `${line}\r\n` : Buffer.concat([line, Buffer.from('\r\n')]));
  }

  /** Registers with NICK and USER; resolves with the welcome (001). */
  async register(nick: string): Promise<void> {
    this.send(`NICK ${nick}`);
    this.send(`USER ${nick.replace(/[^A-Za-z0-9]/g, '') || 'u'} 0 * :${nick}`);
    await this.line(/^:\S+ 001 /);
  }

  /** The first line (from index `from`) matching `re`. */
  async line(re: RegExp, timeoutMs = 10_000, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.slice(from).find((l) => re.test(l));
      if (hit !== undefined) return hit;
      const left = deadline - Date.now();
      if (left <= 0 || this.closed)
        throw new Error(`no line matching ${String(re)} within ${timeoutMs}ms\nlines:\n${this.lines.join('\n')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    bots.delete(this);
    this.socket.destroy();
  }
}
