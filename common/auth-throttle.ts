/**
 * Guessing a secret (the admin token, the standalone LFTP token, later
 * passwords) made slow, per address: the first FREE_FAILURES wrong tries
 * cost nothing, then each one locks the address out for twice as long as the
 * last (1 s, 2 s, 4 s, … up to MAX_LOCK_MS), during which nothing it presents
 * is even compared. A success forgets the address. At most `capacity`
 * addresses are remembered (the one idle longest is forgotten first), so the
 * memory is bounded whoever guesses.
 *
 * Failures are also what fills logs: LogBudget says which ones to log. Pure:
 * the clock is the caller's.
 */

export const FREE_FAILURES = 5;
export const FIRST_LOCK_MS = 1_000;
export const MAX_LOCK_MS = 60_000;
export const LOG_PER_MINUTE = 20;
/** An address that has not failed for this long starts afresh. */
const FORGET_MS = 15 * 60_000;

interface Record {
  failures: number;
  lockedUntil: number;
  lastAt: number;
}

export type Admission = { ok: true } | { ok: false; retryAfterMs: number };

/** What a secret presented by an address came to: nothing presented is not a failure. */
export type Verdict = 'ok' | 'wrong' | 'missing';
export type Attempt = { outcome: 'ok' | 'missing' } | { outcome: 'wrong'; lockMs: number } | { outcome: 'locked'; retryAfterMs: number };

export class AuthThrottle {
  private readonly byAddress = new Map<string, Record>();

  constructor(private readonly capacity = 10_000) {}

  /** One try: check() runs only if the address is not locked out, and its verdict is booked. */
  attempt(address: string, now: number, check: () => Verdict): Attempt {
    const admitted = this.admit(address, now);
    if (!admitted.ok) return { outcome: 'locked', retryAfterMs: admitted.retryAfterMs };
    const verdict = check();
    if (verdict === 'ok') this.succeeded(address);
    if (verdict !== 'wrong') return { outcome: verdict };
    return { outcome: 'wrong', lockMs: this.failed(address, now) };
  }

  /** May this address try now? */
  admit(address: string, now: number): Admission {
    const r = this.byAddress.get(address);
    if (!r || r.lockedUntil <= now) return { ok: true };
    return { ok: false, retryAfterMs: r.lockedUntil - now };
  }

  /** A wrong secret from address: how long it is now locked out (0 while its free tries last). */
  failed(address: string, now: number): number {
    let r = this.byAddress.get(address);
    if (r && now - r.lastAt > FORGET_MS) r = undefined;
    if (!r) {
      r = { failures: 0, lockedUntil: 0, lastAt: now };
      if (this.byAddress.size >= this.capacity) this.forgetOldest();
    }
    // Map order is insertion order: re-inserting keeps the least recently failing first.
    this.byAddress.delete(address);
    this.byAddress.set(address, r);
    r.failures++;
    r.lastAt = now;
    const over = r.failures - FREE_FAILURES;
    const lock = over <= 0 ? 0 : Math.min(MAX_LOCK_MS, FIRST_LOCK_MS * 2 ** Math.min(over - 1, 16));
    r.lockedUntil = now + lock;
    return lock;
  }

  succeeded(address: string): void {
    this.byAddress.delete(address);
  }

  /** Addresses remembered (for tests and the bound). */
  get size(): number {
    return this.byAddress.size;
  }

  private forgetOldest(): void {
    const oldest = this.byAddress.keys().next();
    if (!oldest.done) this.byAddress.delete(oldest.value);
  }
}

/**
 * Log lines for events an attacker can cause at will (wrong tokens, refused
 * datagrams): every one until perMinute in a minute, then none until the
 * minute ends; the next line logged carries how many were left out.
 */
export class LogBudget {
  private windowStart = -Infinity;
  private taken = 0;
  private suppressed = 0;

  constructor(private readonly perMinute = LOG_PER_MINUTE) {}

  /** null: do not log this one; else how many were left out before it. */
  take(now: number): { suppressed: number } | null {
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now;
      this.taken = 0;
    }
    if (this.taken >= this.perMinute) {
      this.suppressed++;
      return null;
    }
    this.taken++;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    return { suppressed };
  }
}
