/**
 * How much loss the path has that is not congestion: radio, a bad cable, the
 * relay's --loss. BBRv3 (draft-ietf-ccwg-bbr) reads any loss in a round it is
 * not probing in, and a round's loss over 2 % while it probes, as congestion;
 * at 5 % random loss every round passes both, and the flow's in-flight bound
 * shrinks until it crawls. LFTP's controller keeps BBRv3's rules but counts
 * only the loss that random loss at the rate measured here does not explain.
 *
 * The measure: loss ÷ (delivered + lost) over windows of at least
 * WINDOW_ROUNDS loss rounds and WINDOW_PACKETS packets, counting only packets
 * that met no queue (bbr-loss-round.ts, queue-gauge.ts: a drop-tail queue
 * drops only when full, random loss drops whatever the queue; a probe that
 * overshoots builds a queue before it loses, so its losses are left out
 * too). The
 * background is the median (the lower one of an even count) of the windows of
 * the last WINDOW_LIFE_MS, once there are MIN_WINDOWS of them (0 before:
 * BBRv3's own rules). Loss from a full queue comes in episodes (a competing TCP
 * filling the buffer, a probe overshooting) that the queue test mostly leaves
 * out already; the median leaves out the windows such an episode still reached,
 * as long as they are fewer than half; random loss is in every window. The
 * minimum, used first, lay well under the true rate: at 5 % random loss through
 * the relay it read 1.4-4.7 %, so rounds of plain random loss still cut the
 * in-flight bound. Pure.
 */
export const WINDOW_ROUNDS = 8;
export const WINDOW_PACKETS = 200;
export const MIN_WINDOWS = 3;
export const WINDOW_LIFE_MS = 10_000;
const KEEP_WINDOWS = 8;
/** Standard deviations of binomial noise allowed above the expected random loss before loss counts. */
export const NOISE_Z = 3;

export class LossBackground {
  /** The background loss rate (0 until the first window closes). */
  rate = 0;
  private lost = 0;
  private packets = 0;
  private rounds = 0;
  private readonly windows: Array<{ at: number; rate: number }> = [];

  /** A loss round ended at `now`: of its packets that met no queue, `lost` of `packets` were declared lost. */
  addRound(now: number, lost: number, packets: number): void {
    if (packets <= 0) return this.expire(now);
    this.lost += lost;
    this.packets += packets;
    this.rounds++;
    if (this.rounds < WINDOW_ROUNDS || this.packets < WINDOW_PACKETS) return;
    this.windows.push({ at: now, rate: this.lost / this.packets });
    if (this.windows.length > KEEP_WINDOWS) this.windows.shift();
    this.lost = this.packets = this.rounds = 0;
    this.expire(now);
  }

  /** There are MIN_WINDOWS windows: the background is measured. */
  get known(): boolean {
    return this.windows.length >= MIN_WINDOWS;
  }

  /** Windows older than WINDOW_LIFE_MS say nothing of the path now; with fewer than MIN_WINDOWS, no background. */
  expire(now: number): void {
    while (this.windows.length > 0 && now - this.windows[0]!.at > WINDOW_LIFE_MS) this.windows.shift();
    const rates = this.windows.map((w) => w.rate).sort((a, b) => a - b);
    this.rate = this.windows.length >= MIN_WINDOWS ? rates[(rates.length - 1) >> 1]! : 0;
  }

  /**
   * Whether `lost` of `packets` is more than `thresh` beyond what the background explains, noise
   * allowed for. With no background this is BBRv3's own test: lost > packets × thresh.
   */
  exceeds(lost: number, packets: number, thresh: number): boolean {
    const b = this.rate;
    return lost > packets * (b + thresh) + NOISE_Z * Math.sqrt(packets * b * (1 - b));
  }
}
