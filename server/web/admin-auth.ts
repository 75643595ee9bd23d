/**
 * Who may see /admin: the holder of --admin-token. The browser presents it
 * with HTTP Basic authentication (any user name, the token as password) or a
 * tool with `Authorization: Bearer`; a successful request gets a signed,
 * short-lived cookie so the dashboard's WebSocket (which cannot carry an
 * Authorization header from page script) is authorised too. The cookie is an
 * HMAC that any worker can check with the token and the server's cookie
 * secret (process/secret-source.ts: kept in the data folder, so a restart
 * keeps cookies valid; new each run with --no-history): no shared state, and
 * a new admin token invalidates them.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { tokenMatches } from '../tokens.js';
import { AuthThrottle, LogBudget } from '../auth-throttle.js';
import { HttpError } from './http-error.js';
import type { Logger } from '../logger.js';

export const ADMIN_COOKIE = 'chat_admin';
const COOKIE_TTL_MS = 12 * 3600_000;
export const MIN_ADMIN_TOKEN_LENGTH = 8;
export const MAX_ADMIN_TOKEN_LENGTH = 256;

export class AdminAuth {
  private readonly key: Buffer;
  private readonly logBudget = new LogBudget();

  constructor(
    private readonly token: string,
    secret: string,
    /** Wrong tokens per address (server/auth-throttle.ts): shared by the workers, so an address's free tries are counted once. */
    private readonly throttle: AuthThrottle = new AuthThrottle(),
  ) {
    this.key = createHmac('sha256', secret).update(token, 'utf8').digest();
  }

  /** The token from an Authorization header (Basic: the password; Bearer: the token), if any. */
  static presentedToken(headers: IncomingHttpHeaders): string | null {
    const h = headers.authorization;
    if (!h) return null;
    const m = /^(Basic|Bearer)\s+(\S+)\s*$/i.exec(h);
    if (!m) return null;
    if (m[1]!.toLowerCase() === 'bearer') return m[2]!;
    const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? null : decoded.slice(colon + 1);
  }

  /** 'ok' with the token or a valid cookie; 'missing' when nothing was presented; 'wrong' otherwise. */
  check(headers: IncomingHttpHeaders, now: number): 'ok' | 'missing' | 'wrong' {
    const presented = AdminAuth.presentedToken(headers);
    if (presented !== null) return tokenMatches(presented, this.token) ? 'ok' : 'wrong';
    const cookie = readCookie(headers.cookie, ADMIN_COOKIE);
    if (cookie === null) return 'missing';
    return this.cookieValid(cookie, now) ? 'ok' : 'wrong';
  }

  /**
   * check(), throttled per address and logged within the throttle's budget:
   * null when the request may see the dashboard, else the refusal (401, or
   * 429 with Retry-After while the address is locked out).
   */
  gate(headers: IncomingHttpHeaders, now: number, address: string, log: Logger): HttpError | null {
    const a = this.throttle.attempt(address, now, () => this.check(headers, now));
    if (a.outcome === 'ok') return null;
    if (a.outcome === 'locked') {
      const seconds = Math.ceil(a.retryAfterMs / 1000);
      return new HttpError(
        429,
        'TOO_MANY_FAILURES',
        `too many wrong admin tokens from ${address}; try again in ${seconds} s`,
        { 'Retry-After': String(seconds) },
      );
    }
    if (a.outcome === 'wrong') {
      const budget = this.logBudget.take(now);
      if (budget)
        log.warn(
          { remote: address, lockMs: a.lockMs, ...(budget.suppressed ? { suppressed: budget.suppressed } : {}) },
          'dashboard refused: wrong admin token',
        );
    }
    const message =
      a.outcome === 'wrong'
        ? 'wrong admin token'
        : 'the dashboard needs the admin token (user: any, password: the token)';
    return new HttpError(401, 'UNAUTHORIZED', message, {
      'WWW-Authenticate': 'Basic realm="chat-server admin", charset="UTF-8"',
    });
  }

  /** A Set-Cookie value for a request that passed check(); `secure`: the web side is https, so the browser sends it over https only. */
  issueCookie(now: number, secure = false): string {
    const expires = now + COOKIE_TTL_MS;
    return `${ADMIN_COOKIE}=${expires}.${this.sign(expires)}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=${COOKIE_TTL_MS / 1000}${secure ? '; Secure' : ''}`;
  }

  private sign(expires: number): string {
    return createHmac('sha256', this.key).update(`admin:${expires}`).digest('base64url');
  }

  private cookieValid(value: string, now: number): boolean {
    const m = /^(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(value);
    if (!m) return false;
    const expires = Number(m[1]);
    if (!(expires > now)) return false;
    return timingSafeEqual(Buffer.from(m[2]!), Buffer.from(this.sign(expires)));
  }
}

function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}
