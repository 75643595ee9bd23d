/**
 * Coming back after the connection is lost: when to try again (0.5 s,
 * doubling to 30 s, with ±20 % jitter so that a roomful of clients does not
 * come back in step after a server restart), and what the user typed
 * meanwhile (sent once the client is back; bounded, and said so when full).
 */
import type { ClientMessage } from '../common/protocol.js';

export const FIRST_RETRY_MS = 500;
export const MAX_RETRY_MS = 30_000;
/** Lines typed while disconnected that are kept for sending once back. */
export const MAX_HELD = 100;

export class Reconnection {
  private attempts = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly held: ClientMessage[] = [];
  /** Lost at least once and not back yet: what the listener's events mean depends on it. */
  active = false;

  constructor(private readonly random: () => number = Math.random) {}

  /** The wait before the next try; each call doubles the next one, up to MAX_RETRY_MS. */
  nextDelay(): number {
    const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(this.attempts++, 16));
    return Math.round(base * (0.8 + 0.4 * this.random()));
  }

  schedule(ms: number, attempt: () => void): void {
    this.cancel();
    this.active = true;
    this.timer = setTimeout(() => {
      this.timer = null;
      attempt();
    }, ms);
  }

  /** Keeps a line for later; false when MAX_HELD already wait (this one is not kept). */
  hold(msg: ClientMessage): boolean {
    if (this.held.length >= MAX_HELD) return false;
    this.held.push(msg);
    return true;
  }

  /** Back: the delays start again, and what was held is handed over, once. */
  back(): ClientMessage[] {
    this.active = false;
    this.attempts = 0;
    return this.held.splice(0);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
