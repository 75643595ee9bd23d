/** Small statistics for benchmark figures. */

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Milliseconds on CLOCK_MONOTONIC, which every process on the machine shares:
 * a time stamped by one generator process can be compared with another's.
 * (performance.now() counts from each process's own start.)
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Latencies in 0.1 ms bins (up to 10 minutes), for runs with millions of
 * samples: a fixed 24 MB array instead of a growing one the load generator's
 * garbage collector must walk while it is measuring.
 */
export class LatencyHistogram {
  private static readonly BIN_MS = 0.1;
  private readonly bins = new Uint32Array(6_000_000);
  count = 0;
  max = 0;

  add(ms: number): void {
    const b = Math.min(this.bins.length - 1, Math.max(0, Math.floor(ms / LatencyHistogram.BIN_MS)));
    this.bins[b]!++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  /** The bins in use, as [bin, count] pairs: what a generator process sends to be merged. */
  toJSON(): { bins: Array<[number, number]>; max: number } {
    const bins: Array<[number, number]> = [];
    for (let b = 0; b < this.bins.length; b++) if (this.bins[b]) bins.push([b, this.bins[b]!]);
    return { bins, max: this.max };
  }

  merge(other: ReturnType<LatencyHistogram['toJSON']>): void {
    for (const [b, n] of other.bins) {
      this.bins[b]! += n;
      this.count += n;
    }
    if (other.max > this.max) this.max = other.max;
  }

  /** The p-th percentile (nearest rank), to the upper edge of its bin. */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.min(this.count, Math.max(1, Math.ceil((p / 100) * this.count)));
    let seen = 0;
    for (let b = 0; b < this.bins.length; b++) {
      seen += this.bins[b]!;
      if (seen >= rank) return Math.min(this.max, (b + 1) * LatencyHistogram.BIN_MS);
    }
    return this.max;
  }
}

/** Jain's fairness index: 1 when every flow gets the same, 1/n when one gets all. */
export function jain(xs: number[]): number {
  const sum = xs.reduce((a, b) => a + b, 0);
  const sq = xs.reduce((a, b) => a + b * b, 0);
  return sq === 0 ? NaN : (sum * sum) / (xs.length * sq);
}

export function fmt(x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '-';
}
