/**
 * A robust futex-style mutex on one Int32 of a SharedArrayBuffer.
 *
 * The lock word holds the owner's identity, not just "locked": it is
 * (owner << 1) | waitersBit, with 0 meaning free (Drepper, "Futexes Are
 * Tricky", mutex 3, with the owner folded into the word). Because taking the
 * lock and recording who took it is one compareExchange, a thread that dies at
 * any point leaves either a free lock or a lock that names it, and the
 * supervisor can release it (as pthread robust mutexes do with EOWNERDEAD).
 *
 * Owner ids are threadId + 1 so that the main thread (threadId 0) is not 0.
 */
import { threadId } from 'node:worker_threads';
import { HeartbeatChatError } from './errors.js';

const WAITERS = 1;
/** Waiters re-check this often, so a release they were not notified of is still seen. */
const WAIT_SLICE_MS = 50;

export class LockTimeoutError extends HeartbeatChatError {
  declare readonly code: 'ERR_LOCK_TIMEOUT';
  constructor(ms: number, ownerThreadId: number, what = 'the session table lock') {
    super('ERR_LOCK_TIMEOUT', `could not take ${what} within ${ms}ms (held by thread ${ownerThreadId})`);
  }
}

export function ownerIdFor(thread: number): number {
  return (thread + 1) << 1;
}

export class SharedMutex {
  private readonly me: number;

  constructor(
    private readonly words: Int32Array,
    private readonly index: number,
    thread: number = threadId,
    /** Named in a timeout's message. */
    private readonly what = 'the session table lock',
  ) {
    this.me = ownerIdFor(thread);
  }

  /** Thread id of the holder, or -1 when free. */
  holderThreadId(): number {
    const w = Atomics.load(this.words, this.index);
    return w === 0 ? -1 : (w >>> 1) - 1;
  }

  tryLock(): boolean {
    return Atomics.compareExchange(this.words, this.index, 0, this.me) === 0;
  }

  /** Blocking acquire for worker threads. Never use on the main thread: it stops its event loop. */
  lock(timeoutMs = 5_000): void {
    let c = Atomics.compareExchange(this.words, this.index, 0, this.me);
    if (c === 0) return;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const w = c === 0 ? null : this.withWaiters(c);
      if (w !== null) {
        Atomics.wait(this.words, this.index, w, WAIT_SLICE_MS);
        if (Date.now() > deadline) throw new LockTimeoutError(timeoutMs, this.holderThreadId(), this.what);
      }
      // After contention, take it with the waiters bit set: someone else may still sleep on it.
      c = Atomics.compareExchange(this.words, this.index, 0, this.me | WAITERS);
      if (c === 0) return;
    }
  }

  /**
   * Non-blocking acquire for the main thread: sleeps with Atomics.waitAsync. The lock is held from before the
   * returned promise settles until unlock(), across awaits: on a thread that also takes it with lock(), use
   * withLockAsync instead, or that lock() meets its own thread's lock and throws.
   */
  lockAsync(timeoutMs = 5_000): Promise<void> {
    return this.takeAsync(timeoutMs, () => undefined);
  }

  /**
   * Waits without blocking, then takes the lock and calls taken in the same synchronous run. Only a
   * compareExchange that returned 0 ends the loop: that one took the lock.
   */
  private async takeAsync<T>(timeoutMs: number, taken: () => T): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let c = Atomics.compareExchange(this.words, this.index, 0, this.me);
    while (c !== 0) {
      const w = this.withWaiters(c);
      if (w !== null) {
        const res = Atomics.waitAsync(this.words, this.index, w, WAIT_SLICE_MS);
        if (res.async) await res.value;
        if (Date.now() > deadline) throw new LockTimeoutError(timeoutMs, this.holderThreadId(), this.what);
      }
      c = Atomics.compareExchange(this.words, this.index, 0, this.me | WAITERS);
    }
    return taken();
  }

  /**
   * The lock word c (held by someone) with the waiters bit set, so that the
   * holder's unlock wakes us: the word to sleep on, or null when it changed
   * meanwhile (then the caller tries to take the lock again at once).
   */
  private withWaiters(c: number): number | null {
    if (c >>> 1 === this.me >>> 1) throw new Error('SharedMutex is not recursive');
    if (c & WAITERS) return c;
    return Atomics.compareExchange(this.words, this.index, c, c | WAITERS) === c ? c | WAITERS : null;
  }

  unlock(): void {
    const prev = Atomics.exchange(this.words, this.index, 0);
    if (prev >>> 1 !== this.me >>> 1) {
      // Put it back: unlocking someone else's lock would corrupt their critical section.
      Atomics.compareExchange(this.words, this.index, 0, prev);
      throw new Error(`SharedMutex.unlock by thread ${threadId}, but the holder is thread ${(prev >>> 1) - 1}`);
    }
    if (prev & WAITERS) Atomics.notify(this.words, this.index, 1);
  }

  withLock<T>(fn: () => T, timeoutMs?: number): T {
    this.lock(timeoutMs);
    try {
      return fn();
    } finally {
      this.unlock();
    }
  }

  /** withLock() for a thread whose event loop must not block (the supervisor's). */
  withLockAsync<T>(fn: () => T, timeoutMs = 5_000): Promise<T> {
    // Taken, used and released in one synchronous run: held across an await, the lock would be met by this
    // thread's own lock() meanwhile (a worker's DIRECT awaits the nick registry's lookup while its next line, in
    // the same read, looks a nick up synchronously), which cannot wait for it and throws.
    return this.takeAsync(timeoutMs, () => {
      try {
        return fn();
      } finally {
        this.unlock();
      }
    });
  }

  /**
   * Robustness: if the lock is held by deadThread, release it and wake every
   * waiter. Returns true when a repair happened. Called by the supervisor once
   * it knows the thread is gone, so the holder cannot come back and unlock.
   */
  static releaseIfHeldBy(words: Int32Array, index: number, deadThread: number): boolean {
    for (;;) {
      const c = Atomics.load(words, index);
      if (c === 0 || c >>> 1 !== ownerIdFor(deadThread) >>> 1) return false;
      if (Atomics.compareExchange(words, index, c, 0) === c) {
        Atomics.notify(words, index);
        return true;
      }
    }
  }
}
