/**
 * Min, mean and quantiles of a stream of samples (RTTs, in ms) in bounded
 * memory: the samples themselves up to EXACT of them (the figures are then
 * exact), past that a histogram of logarithmic buckets 0.1 % wide, so a
 * quantile is within 0.1 % of the true one.
 */

const EXACT = 20_000;
const FLOOR = 1e-3;
const RATIO = Math.log(1.001);
const BUCKETS = Math.ceil(Math.log(1e7 / FLOOR) / RATIO) + 1;

export class Quantiles {
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  private exact: number[] | null = [];
  private histogram: Uint32Array | null = null;

  add(v: number): void {
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    if (this.exact) {
      this.exact.push(v);
      if (this.exact.length <= EXACT) return;
      this.histogram = new Uint32Array(BUCKETS);
      for (const x of this.exact) this.histogram[bucket(x)]!++;
      this.exact = null;
      return;
    }
    this.histogram![bucket(v)]!++;
  }

  /** The sample of rank floor(q × count) in ascending order (the last one at most); NaN when there is none. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.min(this.count - 1, Math.floor(q * this.count));
    if (this.exact) return [...this.exact].sort((a, b) => a - b)[rank]!;
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.histogram![i]!;
      if (seen > rank) return Math.min(this.max, Math.max(this.min, FLOOR * Math.exp((i + 0.5) * RATIO)));
    }
    return this.max;
  }

  mean(): number {
    return this.count ? this.sum / this.count : NaN;
  }
}

function bucket(v: number): number {
  if (!(v > FLOOR)) return 0;
  return Math.min(BUCKETS - 1, Math.floor(Math.log(v / FLOOR) / RATIO));
}
