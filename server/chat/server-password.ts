/**
 * A private server's password (--server-password), checked at HELLO like
 * IRC's PASS. Compared as SHA-256 digests with timingSafeEqual, so the time
 * a wrong guess takes says nothing about the password; wrong tries are booked
 * per address in the workers' shared throttle (the one the dashboard's token
 * uses: five free, then locks doubling to a minute).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ProtocolError } from '../../common/errors.js';
import type { AuthThrottle } from '../auth-throttle.js';
import { formatDuration } from '../../common/units.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

export class ServerPassword {
  private readonly expected: Buffer;

  constructor(
    password: string,
    private readonly throttle: AuthThrottle,
  ) {
    this.expected = digest(password);
  }

  /** Throws the fatal refusal unless `given` is the password and `address` may try now. */
  check(address: string, given: string | undefined, now: number): void {
    const a = this.throttle.attempt(address, now, () =>
      given === undefined ? 'missing' : timingSafeEqual(digest(given), this.expected) ? 'ok' : 'wrong',
    );
    if (a.outcome === 'ok') return;
    if (a.outcome === 'wrong')
      throw new ProtocolError(
        'PASSWORD_WRONG',
        `wrong server password${a.lockMs > 0 ? `; ${address} may try again in ${formatDuration(a.lockMs)}` : ''}`,
      );
    if (a.outcome === 'locked')
      throw new ProtocolError(
        'PASSWORD_LOCKED',
        `too many wrong passwords from ${address}: try again in ${formatDuration(a.retryAfterMs)}`,
      );
    throw new ProtocolError(
      'PASSWORD_REQUIRED',
      'this server is private: give its password (chat-client --server-password, or CHAT_SERVER_PASSWORD)',
    );
  }
}
