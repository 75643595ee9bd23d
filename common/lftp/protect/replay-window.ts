/**
 * Which packet numbers have been received (RFC 4303 §3.4.3's anti-replay
 * window, as DTLS and IPsec keep it): the highest seen and a bitmap of the
 * WINDOW before it. A number seen before, or older than the window, is a
 * replay (or hopelessly late) and is dropped. Checked before a datagram is
 * opened, marked only once it has opened: a forged number marks nothing.
 */

/** Packets. Larger than any window LFTP keeps in flight (defaults.ts maxWindow), so reordering within a window is never taken for replay. */
export const REPLAY_WINDOW = 1 << 16;

export class ReplayWindow {
  private highest = -1;
  private readonly seen = new Uint32Array(REPLAY_WINDOW / 32);

  /** False if `pn` was seen, or is too old to tell. */
  fresh(pn: number): boolean {
    if (pn > this.highest) return true;
    if (pn <= this.highest - REPLAY_WINDOW) return false;
    const bit = pn % REPLAY_WINDOW;
    return ((this.seen[bit >>> 5] ?? 0) & (1 << (bit & 31))) === 0;
  }

  mark(pn: number): void {
    if (pn > this.highest) {
      // The bits that slide out of the window are cleared for the numbers that take their place.
      const from = Math.max(this.highest + 1, pn - REPLAY_WINDOW + 1);
      for (let n = from; n < pn; n++) this.clear(n);
      this.highest = pn;
    }
    const bit = pn % REPLAY_WINDOW;
    this.seen[bit >>> 5] = (this.seen[bit >>> 5] ?? 0) | (1 << (bit & 31));
  }

  private clear(n: number): void {
    const bit = n % REPLAY_WINDOW;
    this.seen[bit >>> 5] = (this.seen[bit >>> 5] ?? 0) & ~(1 << (bit & 31));
  }
}
