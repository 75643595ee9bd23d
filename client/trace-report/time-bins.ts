/**
 * A chart of more points than pixels, in bounded memory: values are kept in
 * a fixed number of time bins (BINS), not one by one. The bins start narrow;
 * when a time past the last one comes, every bin doubles in width (each pair
 * merged), so a transfer of any length ends with between BINS/2 and BINS
 * bins, more than the chart's pixel columns. Drawing folds the bins into
 * pixel columns: a line keeps, per column, its first, lowest, highest and
 * last value (so the drawn line is the one every point would have drawn), a
 * cloud of points its lowest and highest.
 */

export const BINS = 2048;

interface Binned {
  /** Merges bin pairs (2i, 2i+1) into i: the grid's bins just doubled in width. */
  halve(): void;
}

export class TimeGrid {
  /** ms per bin. */
  width = 1 / 64;
  private readonly series: Binned[] = [];

  add<T extends Binned>(s: T): T {
    this.series.push(s);
    return s;
  }

  /** The bin of time t (ms from the transfer's start; earlier is 0), widening the bins first if t is past them. */
  bin(t: number): number {
    const at = t > 0 ? t : 0;
    while (at >= this.width * BINS) {
      this.width *= 2;
      for (const s of this.series) s.halve();
    }
    return Math.floor(at / this.width);
  }
}

/** Per bin the lowest and highest value (NaN: empty). */
export class SpreadBins implements Binned {
  readonly min = new Float64Array(BINS).fill(NaN);
  readonly max = new Float64Array(BINS).fill(NaN);

  constructor(protected readonly grid: TimeGrid) {
    grid.add(this);
  }

  add(t: number, lo: number, hi = lo): void {
    const i = this.grid.bin(t);
    if (!(this.min[i]! <= lo)) this.min[i] = lo;
    if (!(this.max[i]! >= hi)) this.max[i] = hi;
  }

  halve(): void {
    for (const a of [this.min, this.max]) {
      const pick = a === this.min ? Math.min : Math.max;
      for (let i = 0; i < BINS / 2; i++) {
        const [x, y] = [a[2 * i]!, a[2 * i + 1]!];
        a[i] = Number.isNaN(x) ? y : Number.isNaN(y) ? x : pick(x, y);
      }
      a.fill(NaN, BINS / 2);
    }
  }
}

/** Per bin the first, lowest, highest and last value of a line, with the times of the first and the last. */
export class LineBins extends SpreadBins {
  readonly first = new Float64Array(BINS).fill(NaN);
  readonly firstAt = new Float64Array(BINS).fill(NaN);
  readonly last = new Float64Array(BINS).fill(NaN);
  readonly lastAt = new Float64Array(BINS).fill(NaN);

  override add(t: number, v: number): void {
    super.add(t, v);
    const i = this.grid.bin(t);
    if (!(this.firstAt[i]! <= t)) [this.first[i], this.firstAt[i]] = [v, t];
    if (!(this.lastAt[i]! > t)) [this.last[i], this.lastAt[i]] = [v, t];
  }

  override halve(): void {
    super.halve();
    for (let i = 0; i < BINS / 2; i++) {
      const [a, b] = [2 * i, 2 * i + 1];
      const firstOf = Number.isNaN(this.firstAt[a]!) ? b : a;
      const lastOf = Number.isNaN(this.lastAt[b]!) ? a : b;
      [this.first[i], this.firstAt[i]] = [this.first[firstOf]!, this.firstAt[firstOf]!];
      [this.last[i], this.lastAt[i]] = [this.last[lastOf]!, this.lastAt[lastOf]!];
    }
    for (const a of [this.first, this.firstAt, this.last, this.lastAt]) a.fill(NaN, BINS / 2);
  }
}

/** Per bin the last of a few named states (a congestion controller's phases): what holds at the bin's end. */
export class StateBins implements Binned {
  /** Index in names, −1: no change in this bin. */
  readonly state = new Int32Array(BINS).fill(-1);
  private readonly at = new Float64Array(BINS).fill(NaN);
  readonly names: string[] = [];

  constructor(
    private readonly grid: TimeGrid,
    private readonly maxNames = 32,
  ) {
    grid.add(this);
  }

  add(t: number, name: string): void {
    let k = this.names.indexOf(name);
    if (k < 0 && this.names.length < this.maxNames) k = this.names.push(name) - 1;
    if (k < 0) return;
    const i = this.grid.bin(t);
    if (!(this.at[i]! > t)) [this.state[i], this.at[i]] = [k, t];
  }

  halve(): void {
    for (let i = 0; i < BINS / 2; i++) {
      const from = this.state[2 * i + 1]! >= 0 ? 2 * i + 1 : 2 * i;
      [this.state[i], this.at[i]] = [this.state[from]!, this.at[from]!];
    }
    this.state.fill(-1, BINS / 2);
    this.at.fill(NaN, BINS / 2);
  }
}

/** A pixel column's values: its x (px) and, for a line, first, lowest, highest, last. */
export interface Column {
  x: number;
  first: number;
  min: number;
  max: number;
  last: number;
}

/**
 * The bins folded into pixel columns between px left and right: the non-empty columns, left to right. x maps
 * ms to px; bins past right (after the chart's end) are left out.
 */
export function columns(
  grid: TimeGrid,
  bins: SpreadBins,
  x: (ms: number) => number,
  left: number,
  right: number,
): Column[] {
  const out: Column[] = [];
  const line = bins instanceof LineBins ? bins : null;
  for (let i = 0; i < BINS; i++) {
    if (Number.isNaN(bins.min[i]!)) continue;
    const px = Math.floor(x((i + 0.5) * grid.width));
    if (px > right) break;
    const col = Math.max(left, px);
    const c = out.at(-1);
    const [first, last] = line ? [line.first[i]!, line.last[i]!] : [bins.min[i]!, bins.max[i]!];
    if (c && c.x === col) {
      c.min = Math.min(c.min, bins.min[i]!);
      c.max = Math.max(c.max, bins.max[i]!);
      c.last = last;
    } else out.push({ x: col, first, min: bins.min[i]!, max: bins.max[i]!, last });
  }
  return out;
}

/** The states folded into pixel columns: runs [x0, x1) of one state (the one holding at each column's end). */
export function stateRuns(
  grid: TimeGrid,
  bins: StateBins,
  x: (ms: number) => number,
  left: number,
  right: number,
): Array<{ x0: number; x1: number; name: string }> {
  const runs: Array<{ x0: number; x1: number; name: string }> = [];
  for (let i = 0; i < BINS; i++) {
    const k = bins.state[i]!;
    if (k < 0) continue;
    const px = Math.min(right, Math.max(left, x(i * grid.width)));
    let r = runs.at(-1);
    if (r) {
      r.x1 = px;
      // A state that held for less than half a pixel is not drawn.
      if (r.x1 - r.x0 < 0.5) {
        runs.pop();
        r = runs.at(-1);
      }
    }
    if (r && r.name === bins.names[k]) r.x1 = right;
    else if (px < right) runs.push({ x0: px, x1: right, name: bins.names[k]! });
  }
  return runs;
}
