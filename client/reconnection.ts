/**
 * Coming back after the connection is lost: when to try again
 * (common/backoff.ts), and what the user typed meanwhile (sent once the
 * client is back; bounded, and said so when full).
 */
import type { ClientMessage } from '../common/protocol.js';
import { Backoff } from '../common/backoff.js';

export { FIRST_RETRY_MS, MAX_RETRY_MS } from '../common/backoff.js';
/** Lines typed while disconnected that are kept for sending once back. */
export const MAX_HELD = 100;

export class Reconnection {
  private readonly backoff: Backoff;
  private timer: NodeJS.Timeout | null = null;
  private readonly held: ClientMessage[] = [];
  /** Lost at least once and not back yet: what the listener's events mean depends on it. */
  active = false;

  constructor(random: () => number = Math.random) {
    this.backoff = new Backoff(random);
  }

  /** The wait before the next try; each call doubles the next one, up to MAX_RETRY_MS. */
  nextDelay(): number {
    return this.backoff.next();
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

  /**
   * Back (a WELCOME): the delays start again; the line to say, and what to send: after a new login the rooms
   * it was in (rejoin), not after a resume (the server kept them); then what was held, once.
   * @param where "host:port as nick", for the line
   */
  back(resumed: boolean, where: string, rejoin: () => ClientMessage[]): { line: string; send: ClientMessage[] } {
    this.active = false;
    this.backoff.reset();
    const held = this.held.splice(0);
    const typed = held.length ? `; sending the ${held.length} line${held.length === 1 ? '' : 's'} typed meanwhile` : '';
    return {
      line: resumed ? `* session resumed${typed}` : `* reconnected to ${where}${typed}`,
      send: [...(resumed ? [] : rejoin()), ...held],
    };
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
