/**
 * The server's heartbeats are its sign of life: silence from it for longer
 * than the limit (the heartbeat timeout WELCOME gives, or --server-timeout)
 * means it is gone even if TCP has not noticed. Checked on a timer, told by
 * the listener whenever bytes arrive.
 */

/** Before WELCOME says otherwise, the server is presumed dead after this much silence. */
export const DEFAULT_SILENCE_MS = 30_000;
const CHECK_EVERY_MS = 250;

export class SilenceWatch {
  private lastHeard: number;
  private readonly timer: NodeJS.Timeout;

  /** @param silent called on each check while the silence is over the limit (the caller decides whether that matters now) */
  constructor(
    private limitMs: number,
    private readonly now: () => number,
    silent: (silentMs: number, limitMs: number) => void,
  ) {
    this.lastHeard = now();
    this.timer = setInterval(() => {
      const ms = this.now() - this.lastHeard;
      if (ms > this.limitMs) silent(ms, this.limitMs);
    }, CHECK_EVERY_MS);
  }

  heard(): void {
    this.lastHeard = this.now();
  }

  setLimit(ms: number): void {
    this.limitMs = ms;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
