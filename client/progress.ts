/** Transfer progress for people: a bar on a terminal, a plain line now and then otherwise. */
import { formatBytes, formatDuration, formatRate } from '../common/units.js';
import { writeFullySync, writeLineSync } from '../common/sync-output.js';
import { clip, columns } from '../common/terminal/layout.js';

export interface ProgressSample {
  bytes: number;
  total: number;
  elapsedMs: number;
  /** Bytes a resumed transfer already held when it began: the bar counts them, the rate and ETA do not. */
  from?: number;
}

/** Bytes per second moved by this run, and the time left at that rate (NaN when unknown). */
function pace(s: ProgressSample): { moved: number; eta: number } {
  const moved = Math.max(0, s.bytes - (s.from ?? 0));
  const rate = s.elapsedMs > 0 ? (moved * 1000) / s.elapsedMs : 0;
  return { moved, eta: rate > 0 ? ((s.total - s.bytes) / rate) * 1000 : NaN };
}

export function progressLine(name: string, s: ProgressSample): string {
  const pct = s.total > 0 ? (100 * s.bytes) / s.total : 100;
  const { moved, eta } = pace(s);
  return `${name}: ${pct.toFixed(1)}% of ${formatBytes(s.total)}, ${formatRate(moved, s.elapsedMs)}, ETA ${Number.isFinite(eta) ? formatDuration(eta) : '?'}`;
}

export function progressBar(name: string, s: ProgressSample, width = 30): string {
  const frac = s.total > 0 ? Math.min(1, s.bytes / s.total) : 1;
  const filled = Math.round(frac * width);
  const { moved, eta } = pace(s);
  return `${name} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${formatBytes(s.bytes)}/${formatBytes(s.total)} ${formatRate(moved, s.elapsedMs)} ETA ${Number.isFinite(eta) ? formatDuration(eta) : '?'}`;
}

/** Prints progress to fd: redraws one line on a terminal; otherwise a line every `plainEveryMs`. */
export class ProgressPrinter {
  private lastPlain = 0;
  private drawn = false;

  constructor(
    private readonly fd: number,
    private readonly tty: boolean,
    private readonly plainEveryMs = 2000,
  ) {}

  update(name: string, s: ProgressSample): void {
    if (this.tty) {
      writeFullySync(this.fd, Buffer.from(`\r\x1b[2K${progressBar(name, s)}`));
      this.drawn = true;
    } else if (s.elapsedMs - this.lastPlain >= this.plainEveryMs) {
      this.lastPlain = s.elapsedMs;
      writeLineSync(this.fd, progressLine(name, s));
    }
  }

  /** Ends the bar's line so the next output starts clean. */
  done(): void {
    if (this.drawn) writeFullySync(this.fd, Buffer.from('\r\x1b[2K'));
    this.drawn = false;
  }
}

/** A transfer as /transfers lists it. */
export interface ListedTransfer {
  what: string;
  state: 'asking' | 'queued' | 'running';
  position: number;
  sample: ProgressSample;
}

/**
 * /transfers: a header, then a line each. On a terminal `width` columns wide, a running one gets a bar, narrowed
 * (and the line cut, with …) so that nothing runs past the edge; without a terminal (null), the plain progress line.
 */
export function transferList(jobs: ListedTransfer[], width: number | null): string[] {
  const lines = [`* ${jobs.length} transfer${jobs.length === 1 ? '' : 's'}:`];
  for (const j of jobs) {
    const line =
      j.state === 'asking'
        ? `*   ${j.what}: asking the server for a ticket`
        : j.state === 'queued'
          ? `*   ${j.what}: waiting, number ${j.position} in the server's queue`
          : width === null
            ? `*   ${progressLine(j.what, j.sample)}`
            : `*   ${fittedBar(j.what, j.sample, width - 5)}`;
    lines.push(width === null ? line : fit(line, width - 1));
  }
  return lines;
}

/**
 * A progress bar in at most `room` columns: the bar narrows (20 down to 5) and, if that is not enough, the sizes
 * go, then the rate; the percentage and the ETA stay. Only a name too long for all that is cut (fit).
 */
function fittedBar(name: string, s: ProgressSample, room: number): string {
  const frac = s.total > 0 ? Math.min(1, s.bytes / s.total) : 1;
  const rate = s.elapsedMs > 0 ? (s.bytes * 1000) / s.elapsedMs : 0;
  const eta = rate > 0 ? ((s.total - s.bytes) / rate) * 1000 : NaN;
  const pct = `${(frac * 100).toFixed(0).padStart(3)}%`;
  const sizes = `${formatBytes(s.bytes)}/${formatBytes(s.total)}`;
  const etaText = `ETA ${Number.isFinite(eta) ? formatDuration(eta) : '?'}`;
  const bar = (w: number) => `[${'#'.repeat(Math.round(frac * w))}${'-'.repeat(w - Math.round(frac * w))}]`;
  for (const tail of [
    [pct, sizes, formatRate(s.bytes, s.elapsedMs), etaText],
    [pct, formatRate(s.bytes, s.elapsedMs), etaText],
    [pct, etaText],
  ]) {
    const rest = ` ${tail.join(' ')}`;
    const width = Math.min(20, room - columns(name) - 3 - columns(rest));
    if (width >= 5) return `${name} ${bar(width)}${rest}`;
  }
  return `${name} ${bar(5)} ${pct} ${etaText}`;
}

function fit(line: string, room: number): string {
  return columns(line) <= room ? line : `${clip(line, room - 1)}…`;
}
