/**
 * An IRC connection from its first line to its session: PASS, NICK, USER,
 * CAP and AUTHENTICATE (SASL PLAIN), as a state machine with no I/O. Lines
 * go in (line), the clock is the caller's (tick), and what needs the chat
 * comes out as effects (registration-effects.ts) that the worker carries
 * out with the chat's own parts and answers (accountChecked, helloAnswered).
 * Registration is the chat's HELLO: once NICK and USER are in, and no CAP
 * negotiation or SASL exchange is under way, the machine asks for one
 * (version 2, the nick, PASS as the server password, SASL's password as the
 * nick's), so that one login path (server/chat/login.ts, the NickRegistry,
 * the AccountGate) decides every door's sessions. While an effect waits,
 * lines are held (at most MAX_HELD_LINES) and played after the answer.
 */
import { NICK_REFUSALS, type WireErrorCode } from '../../common/errors.js';
import { CapNegotiation, type Capability } from './caps.js';
import { isupportReplies, isupportTokens, type NetworkLimits } from './isupport.js';
import type { IrcMessage } from './message.js';
import { type NickMode, fromIrcNick, prefixOf, toIrcNick } from './nick-map.js';
import { chatRefusal, closing, errorReply } from './numeric-errors.js';
import { type ServerInfo, lusersReplies, motdReplies, welcomeReplies } from './numerics.js';
import { type AccountAnswer, type Effect, type Step, type Welcome, emptyStep } from './registration-effects.js';
import { SASL_MECHANISMS, SaslExchange } from './sasl.js';

/** Lines a client may send while the chat answers it, before it is dropped as a flood. */
export const MAX_HELD_LINES = 32;
/** As long as the chat's HELLO waits (HELLO_TIMEOUT). */
export const REGISTRATION_TIMEOUT_MS = 10_000;

export interface RegistrationOptions {
  server: ServerInfo;
  /** The host part of every prefix (nick-map.ts: never an address). */
  host: string;
  nickMode: NickMode;
  limits: NetworkLimits;
  offered: ReadonlyMap<Capability, string>;
  startedAt: number;
  timeoutMs?: number;
}

export class Registration {
  phase: 'registering' | 'registered' | 'closed' = 'registering';
  readonly cap: CapNegotiation;
  /** The session's chat nick: the one NICK asked for until registration, then the chat's. */
  nick: string | null = null;
  user: { ident: string; realname: string } | null = null;
  /** The account SASL logged in to (a registered nick), with its password for the HELLO. */
  account: { nick: string; password: string } | null = null;
  private password: string | undefined;
  private readonly sasl = new SaslExchange();
  private waiting: 'account' | 'hello' | null = null;
  private pendingAccount: { nick: string; password: string } | null = null;
  private held: IrcMessage[] = [];

  constructor(private readonly o: RegistrationOptions) {
    this.cap = new CapNegotiation(o.server.name, o.offered);
  }

  /** The client as numerics name it: its nick as IRC shows it, or '*'. */
  me(): string {
    return this.nick === null ? '*' : toIrcNick(this.nick, this.o.nickMode);
  }

  /** One line from the client. */
  line(msg: IrcMessage): Step {
    const step = emptyStep();
    if (this.phase === 'closed') return step;
    if (this.waiting !== null) {
      if (this.held.length >= MAX_HELD_LINES) return this.close(step, 'too many lines before registration');
      this.held.push(msg);
      return step;
    }
    if (this.phase === 'registered') this.afterRegistration(msg, step);
    else this.registering(msg, step);
    return this.phase === 'registering' ? this.tryHello(step) : step;
  }

  /** The clock: a connection that has not registered in time is closed (not while the chat is answering). */
  tick(now: number): Step {
    const step = emptyStep();
    const late = now - this.o.startedAt >= (this.o.timeoutMs ?? REGISTRATION_TIMEOUT_MS);
    if (this.phase !== 'registering' || this.waiting !== null || !late) return step;
    return this.close(step, 'registration timed out');
  }

  private registering(msg: IrcMessage, step: Step): void {
    const server = this.o.server.name;
    const p = msg.params;
    switch (msg.command) {
      case 'PASS':
        if (p[0] === undefined) step.replies.push(errorReply(server, this.me(), 'ERR_NEEDMOREPARAMS', ['PASS']));
        else this.password = p[0];
        return;
      case 'NICK':
        return this.askNick(p[0], step);
      case 'USER':
        if (p.length < 4) step.replies.push(errorReply(server, this.me(), 'ERR_NEEDMOREPARAMS', ['USER']));
        else this.user = { ident: p[0]!, realname: p[3]! };
        return;
      case 'CAP':
        // CAP END in the middle of a SASL exchange aborts it (sasl-3.1), so registration is not left waiting.
        if (p[0]?.toUpperCase() === 'END' && this.sasl.inProgress) {
          this.sasl.reset();
          step.replies.push(errorReply(server, this.me(), 'ERR_SASLABORTED'));
        }
        step.replies.push(...this.cap.handle(p, this.me(), false));
        return;
      case 'AUTHENTICATE':
        return this.authenticate(p[0], step);
      case 'PING':
        step.replies.push(
          p[0] === undefined
            ? errorReply(server, this.me(), 'ERR_NEEDMOREPARAMS', ['PING'])
            : { source: server, command: 'PONG', params: [server, p[0]] },
        );
        return;
      case 'PONG':
        return;
      case 'QUIT':
        this.close(step, 'quit');
        return;
      default:
        step.replies.push(errorReply(server, this.me(), 'ERR_NOTREGISTERED'));
    }
  }

  private afterRegistration(msg: IrcMessage, step: Step): void {
    const server = this.o.server.name;
    switch (msg.command) {
      case 'PASS':
      case 'USER':
        step.replies.push(errorReply(server, this.me(), 'ERR_ALREADYREGISTERED'));
        return;
      case 'CAP':
        step.replies.push(...this.cap.handle(msg.params, this.me(), true));
        return;
      case 'AUTHENTICATE':
        step.replies.push(
          this.account
            ? errorReply(server, this.me(), 'ERR_SASLALREADY')
            : errorReply(server, this.me(), 'ERR_SASLFAIL', [], 'SASL is for registration: use /msg NickServ IDENTIFY'),
        );
        return;
      default:
        step.commands.push(msg);
    }
  }

  private askNick(name: string | undefined, step: Step): void {
    if (name === undefined || name === '') {
      step.replies.push(errorReply(this.o.server.name, this.me(), 'ERR_NONICKNAMEGIVEN'));
      return;
    }
    const nick = fromIrcNick(name);
    if (!nick.ok)
      step.replies.push(errorReply(this.o.server.name, this.me(), 'ERR_ERRONEUSNICKNAME', [name], nick.reason));
    else this.nick = nick.name;
  }

  private authenticate(param: string | undefined, step: Step): void {
    const { name } = this.o.server;
    const me = this.me();
    if (param === undefined)
      return void step.replies.push(errorReply(name, me, 'ERR_NEEDMOREPARAMS', ['AUTHENTICATE']));
    if (!this.cap.has('sasl'))
      return void step.replies.push(errorReply(name, me, 'ERR_SASLFAIL', [], 'request the sasl capability first'));
    if (this.account) return void step.replies.push(errorReply(name, me, 'ERR_SASLALREADY'));
    const out = this.sasl.step(param);
    switch (out.kind) {
      case 'continue':
        if (out.prompt) step.replies.push({ command: 'AUTHENTICATE', params: ['+'] });
        return;
      case 'mechanism-unknown':
        step.replies.push(
          errorReply(name, me, 'RPL_SASLMECHS', [SASL_MECHANISMS]),
          errorReply(name, me, 'ERR_SASLFAIL'),
        );
        return;
      case 'too-long':
        return void step.replies.push(errorReply(name, me, 'ERR_SASLTOOLONG'));
      case 'aborted':
        return void step.replies.push(errorReply(name, me, 'ERR_SASLABORTED'));
      case 'invalid':
        return void step.replies.push(
          errorReply(name, me, 'ERR_SASLFAIL', [], `SASL authentication failed: ${out.why}`),
        );
      case 'credentials': {
        const nick = fromIrcNick(out.nick);
        if (!nick.ok) return void step.replies.push(errorReply(name, me, 'ERR_SASLFAIL', [], nick.reason));
        this.pendingAccount = { nick: nick.name, password: out.password };
        this.waiting = 'account';
        step.effects.push({ kind: 'check-account', nick: nick.name, password: out.password });
      }
    }
  }

  /** The worker's answer to check-account: the password is the registered nick's, or why not. */
  accountChecked(answer: AccountAnswer): Step {
    const step = emptyStep();
    if (this.waiting !== 'account' || this.pendingAccount === null) return step;
    const { name } = this.o.server;
    const tried = this.pendingAccount;
    this.pendingAccount = null;
    this.waiting = null;
    if (answer.ok) {
      this.account = tried;
      const mask = prefixOf(tried.nick, { kind: 'irc', ident: this.user?.ident ?? '' }, this.o.host, this.o.nickMode);
      const shown = toIrcNick(tried.nick, this.o.nickMode);
      step.replies.push(
        errorReply(name, this.me(), 'RPL_LOGGEDIN', [mask, shown], `You are now logged in as ${shown}`),
      );
      step.replies.push(errorReply(name, this.me(), 'RPL_SASLSUCCESS'));
    } else step.replies.push(errorReply(name, this.me(), 'ERR_SASLFAIL', [], answer.message));
    return this.drain(this.tryHello(step));
  }

  /** Registration's HELLO, once nothing holds it. A SASL login makes the account's nick the session's. */
  private tryHello(step: Step): Step {
    if (this.phase !== 'registering' || this.waiting !== null || this.cap.negotiating || this.sasl.inProgress)
      return step;
    if (this.nick === null || this.user === null) return step;
    const nick = this.account?.nick ?? this.nick;
    const hello: Effect = {
      kind: 'hello',
      hello: { type: 'HELLO', version: 2, nick, client: 'irc' },
      user: this.user,
      account: this.account !== null,
    };
    if (this.password !== undefined) hello.hello.password = this.password;
    if (this.account) hello.hello.nickPassword = this.account.password;
    this.waiting = 'hello';
    step.effects.push(hello);
    return step;
  }

  /** The chat's answer to the HELLO: a session (the welcome), or its refusal. */
  helloAnswered(answer: { ok: true; welcome: Welcome } | { ok: false; code: WireErrorCode; message: string }): Step {
    const step = emptyStep();
    if (this.waiting !== 'hello') return step;
    this.waiting = null;
    if (answer.ok) return this.drain(this.welcome(answer.welcome, step));
    const shown = this.me();
    if (NICK_REFUSALS.has(answer.code)) {
      // The nick asked for (the account's, after SASL) is refused: the client tries another NICK, as after any 433.
      const refused = toIrcNick(this.account?.nick ?? this.nick ?? '*', this.o.nickMode);
      step.replies.push(errorReply(this.o.server.name, shown, 'ERR_NICKNAMEINUSE', [refused], answer.message));
      this.nick = null;
      this.account = null;
      return this.drain(step);
    }
    const refusal = chatRefusal(this.o.server.name, shown, answer.code, answer.message, { command: 'NICK' });
    // A fatal code's refusal is already the ERROR that close() says: once is enough.
    if (refusal.command !== 'ERROR') step.replies.push(refusal);
    return this.close(step, answer.message);
  }

  private welcome(w: Welcome, step: Step): Step {
    this.phase = 'registered';
    this.nick = w.nick;
    this.sasl.reset();
    const { server, host, nickMode, limits } = this.o;
    const me = this.me();
    const mask = prefixOf(w.nick, { kind: 'irc', ident: this.user?.ident ?? '' }, host, nickMode);
    step.replies.push(
      ...welcomeReplies(server, me, mask),
      ...isupportReplies(server.name, me, isupportTokens(limits)),
      ...lusersReplies(server.name, me, w.counts),
      ...motdReplies(server.name, me, w.motd),
    );
    return step;
  }

  /** Lines held while the chat answered, played now, until one waits again. */
  private drain(step: Step): Step {
    while (this.waiting === null && this.held.length > 0 && this.phase !== 'closed') {
      const next = this.line(this.held.shift()!);
      step.replies.push(...next.replies);
      step.effects.push(...next.effects);
      step.commands.push(...next.commands);
    }
    return step;
  }

  private close(step: Step, reason: string): Step {
    this.phase = 'closed';
    this.held = [];
    this.sasl.reset();
    step.replies.push(closing(reason));
    step.effects.push({ kind: 'close' });
    return step;
  }
}
