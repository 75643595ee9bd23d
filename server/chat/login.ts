/**
 * A connection's HELLO, from the frame to the session: the checks that may
 * wait for an answer (is the nick registered, is its password right, is the
 * nick free: the registry answers asynchronously, a cluster's from Redis) run
 * while what the client sends next is held back, so that its first command
 * meets the session it expects. One resume per connection; a refused resume
 * leaves the connection waiting for a HELLO without a token.
 */
import { NICK_REFUSALS, ProtocolError } from '../../common/errors.js';
import { checkHello, needsLogin, startSession, type Hello, type Peer, type StartedSession } from './session-start.js';
import { validateNick } from '../../common/text.js';
import type { ConnectionHost } from './session-host.js';
import type { WireErrorCode } from '../../common/errors.js';

export interface LoginSteps {
  /** Frames after HELLO wait (hold) until the login is decided (release). */
  hold(): void;
  release(): void;
  /** The session is the connection's. */
  begin(s: StartedSession, msg: Hello): void;
  /** Not fatal: the connection may say HELLO again. */
  reject(code: WireErrorCode, message: string): void;
  fail(err: unknown): void;
  /** False once the connection has ended (nothing is claimed for it then). */
  alive(): boolean;
  info(detail: object, text: string): void;
}

export class Login {
  private resumeTried = false;

  constructor(
    private readonly host: ConnectionHost,
    private readonly steps: LoginSteps,
  ) {}

  hello(peer: Peer, msg: Hello): void {
    const resuming = msg.resume !== undefined;
    if (resuming && this.resumeTried)
      throw new ProtocolError('ALREADY_HELLO', 'one resume per connection: say HELLO without a token');
    this.resumeTried ||= resuming;
    try {
      checkHello(this.host, peer, msg);
    } catch (err) {
      return this.refused(peer, err, false);
    }
    const s = this.steps;
    s.hold();
    // Without accounts to check (or with a resume token) only the claim is waited for.
    const account = needsLogin(this.host, msg)
      ? this.host.accounts!.login(peer, validateNick(msg.nick), msg.nickPassword, this.host.clock.wallNow())
      : Promise.resolve(false);
    account
      .then((owner) => (s.alive() ? startSession(this.host, peer, msg, owner, s.alive) : null))
      .then((started) => {
        if (started === null) return;
        this.start(started, msg);
        s.release();
      })
      .catch((err: unknown) => this.refused(peer, err, true));
  }

  /** A HELLO refused: the connection's end, but for an IRC client's nick (NICK_REFUSALS), which it may ask again. */
  private refused(peer: Peer, err: unknown, held: boolean): void {
    if (peer.transport !== 'irc' || !(err instanceof ProtocolError) || !NICK_REFUSALS.has(err.code))
      return this.steps.fail(err);
    if (!this.steps.alive()) return;
    // Its next HELLO comes through the gate the login held.
    if (held) this.steps.release();
    this.steps.reject(err.code, err.message);
  }

  private start(started: StartedSession | string, msg: Hello): void {
    if (typeof started === 'string') {
      this.steps.info({ reason: started }, 'resume refused');
      this.steps.reject('RESUME_FAILED', `cannot resume: ${started}`);
    } else this.steps.begin(started, msg);
  }
}
