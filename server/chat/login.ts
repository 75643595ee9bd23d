/**
 * A connection's HELLO, from the frame to the session: the checks that may
 * wait for an answer (is the nick registered, is its password right) run
 * while what the client sends next is held back, so that its first command
 * meets the session it expects. One resume per connection; a refused resume
 * leaves the connection waiting for a HELLO without a token.
 */
import { ProtocolError } from '../../common/errors.js';
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
    checkHello(this.host, peer, msg);
    // Without accounts to check (or with a resume token) the session starts at once.
    if (!needsLogin(this.host, msg)) return this.start(peer, msg, false);
    const s = this.steps;
    s.hold();
    this.host.accounts!.login(peer, validateNick(msg.nick), msg.nickPassword, this.host.clock.wallNow()).then(
      (account) => {
        if (!s.alive()) return;
        try {
          this.start(peer, msg, account);
        } catch (err) {
          return s.fail(err);
        }
        s.release();
      },
      (err: unknown) => s.fail(err),
    );
  }

  private start(peer: Peer, msg: Hello, account: boolean): void {
    const started = startSession(this.host, peer, msg, account);
    if (typeof started === 'string') {
      this.steps.info({ reason: started }, 'resume refused');
      this.steps.reject('RESUME_FAILED', `cannot resume: ${started}`);
    } else this.steps.begin(started, msg);
  }
}
