/** Small helpers for the report's HTML and inline SVG: escaping, numbers, axes. No DOM: strings in, strings out. */

/**
 * The report's one escape: every value that goes into its HTML or SVG, as text or in an attribute (quoted
 * with " or '), goes through here. A trace is input like any other: its strings may hold markup.
 */
export function esc(v: string | number): string {
  return String(v)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export function n(x: number): string {
  return Number.isFinite(x) ? String(Math.round(x * 10) / 10) : '0';
}

/** A linear scale from [d0, d1] to [r0, r1]. */
export function scale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

/** Round tick values for an axis from 0 to max. */
export function ticks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  // Ticks within the axis only: one past its end would be drawn beyond the chart.
  for (let v = 0; v <= max * (1 + 1e-9); v += step) out.push(Math.round(v * 1000) / 1000);
  return out;
}

export interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** The axes of a chart: x in ms, y labelled; returns the SVG of both with their tick labels. */
export function axes(
  f: Frame,
  x: (v: number) => number,
  y: (v: number) => number,
  xMax: number,
  yMax: number,
  xLabel: string,
  yLabel: string,
): string {
  const parts: string[] = [];
  const y0 = f.height - f.bottom;
  parts.push(
    `<line class="axis" x1="${f.left}" y1="${y0}" x2="${f.width - f.right}" y2="${y0}"/>`,
    `<line class="axis" x1="${f.left}" y1="${f.top}" x2="${f.left}" y2="${y0}"/>`,
  );
  for (const t of ticks(xMax))
    parts.push(`<text class="tick" x="${n(x(t))}" y="${y0 + 16}" text-anchor="middle">${t}</text>`);
  for (const t of ticks(yMax))
    parts.push(
      `<text class="tick" x="${f.left - 6}" y="${n(y(t) + 4)}" text-anchor="end">${t}</text>`,
      `<line class="grid" x1="${f.left}" y1="${n(y(t))}" x2="${f.width - f.right}" y2="${n(y(t))}"/>`,
    );
  parts.push(
    `<text class="label" x="${(f.left + f.width - f.right) / 2}" y="${f.height - 4}" text-anchor="middle">${esc(xLabel)}</text>`,
  );
  parts.push(
    `<text class="label" transform="translate(14 ${(f.top + y0) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  return parts.join('');
}
