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

export interface ThrottleRecord {
  failures: number;
  lockedUntil: number;
  lastAt: number;
}

/**
 * Where the records live: a Map in one thread (MapRecords), or shared memory
 * when several threads serve one port (server/shm/shared-throttle.ts), so
 * that an address gets its free tries once, not once per thread.
 */
export interface ThrottleRecords {
  get(address: string): ThrottleRecord | undefined;
  /** Replaces the address's record by what fn makes of it (undefined: forget it), as one step. */
  update(address: string, fn: (r: ThrottleRecord | undefined) => ThrottleRecord | undefined): void;
  readonly size: number;
}

/** Records in a Map: at most `capacity`, the one idle longest forgotten first. */
export class MapRecords implements ThrottleRecords {
  private readonly byAddress = new Map<string, ThrottleRecord>();
  constructor(private readonly capacity = 10_000) {}
  get(address: string): ThrottleRecord | undefined {
    return this.byAddress.get(address);
  }
  update(address: string, fn: (r: ThrottleRecord | undefined) => ThrottleRecord | undefined): void {
    const next = fn(this.byAddress.get(address));
    // Map order is insertion order: re-inserting keeps the least recently failing first.
    this.byAddress.delete(address);
    if (!next) return;
    if (this.byAddress.size >= this.capacity) {
      const oldest = this.byAddress.keys().next();
      if (!oldest.done) this.byAddress.delete(oldest.value);
    }
    this.byAddress.set(address, next);
  }
  get size(): number {
    return this.byAddress.size;
  }
}

export type Admission = { ok: true } | { ok: false; retryAfterMs: number };

/** What a secret presented by an address came to: nothing presented is not a failure. */
export type Verdict = 'ok' | 'wrong' | 'missing';
export type Attempt =
  | { outcome: 'ok' | 'missing' }
  | { outcome: 'wrong'; lockMs: number }
  | { outcome: 'locked'; retryAfterMs: number };

/** The lock after this many failures: none for the free ones, then 1 s doubling up to MAX_LOCK_MS. */
export function lockFor(failures: number): number {
  const over = failures - FREE_FAILURES;
  return over <= 0 ? 0 : Math.min(MAX_LOCK_MS, FIRST_LOCK_MS * 2 ** Math.min(over - 1, 16));
}

export class AuthThrottle {
  constructor(private readonly records: ThrottleRecords = new MapRecords()) {}

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
    const r = this.records.get(address);
    if (!r || r.lockedUntil <= now) return { ok: true };
    return { ok: false, retryAfterMs: r.lockedUntil - now };
  }

  /** A wrong secret from address: how long it is now locked out (0 while its free tries last). */
  failed(address: string, now: number): number {
    let lock = 0;
    this.records.update(address, (old) => {
      const failures = (old && now - old.lastAt <= FORGET_MS ? old.failures : 0) + 1;
      lock = lockFor(failures);
      return { failures, lockedUntil: now + lock, lastAt: now };
    });
    return lock;
  }

  succeeded(address: string): void {
    this.records.update(address, () => undefined);
  }

  /** Addresses remembered (for tests and the bound). */
  get size(): number {
    return this.records.size;
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
