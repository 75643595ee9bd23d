/**
 * A small time-series chart on a canvas: cwnd and ssthresh on the left axis
 * (packets), smoothed RTT on the right axis (ms), time along the bottom.
 * Drawn from scratch each snapshot; a few hundred points cost nothing.
 */

import type { TransferPoint as Point } from '../../common/dashboard.js';

export const SERIES = [
  { key: 'cwnd', label: 'cwnd (packets)', color: '#2563eb' },
  { key: 'ssthresh', label: 'ssthresh (packets)', color: '#d97706' },
  { key: 'rtt', label: 'smoothed RTT (ms)', color: '#16a34a' },
  { key: 'pacing', label: 'pacing rate (scaled to its top, in the corner)', color: '#9333ea' },
] as const;

/** The strip along the chart's foot: the sender's congestion phase at each sample. */
export const PHASE_COLORS: Record<string, string> = {
  startup: '#2563eb',
  slow_start: '#2563eb',
  drain: '#dc2626',
  recovery: '#dc2626',
  probe_bw_down: '#d97706',
  probe_bw_cruise: '#16a34a',
  avoidance: '#16a34a',
  probe_bw_refill: '#84cc16',
  probe_bw_up: '#9333ea',
  probe_rtt: '#64748b',
};

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

/** The canvas sized to its box at the screen's pixel ratio, cleared: its context and size in CSS pixels, or null. */
function prepare(
  canvas: HTMLCanvasElement,
  defaultHeight: number,
): { ctx: CanvasRenderingContext2D; w: number; h: number } | null {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 600;
  const h = canvas.clientHeight || defaultHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}

export function drawChart(canvas: HTMLCanvasElement, points: Point[], showWindow: boolean): void {
  const c = prepare(canvas, 180);
  if (!c) return;
  const { ctx, w, h } = c;
  const style = getComputedStyle(document.body);
  const text = style.color;
  const pad = { l: 44, r: 48, t: 8, b: 22 };
  const pw = w - pad.l - pad.r;
  const ph = h - pad.t - pad.b;
  const tMax = Math.max(1000, points.at(-1)?.[0] ?? 0);
  const cwndMax = niceMax(Math.max(...points.map((p) => p[1]), 1) * 1.15);
  const rttMax = niceMax(Math.max(...points.map((p) => p[3]), 0.1) * 1.15);
  const x = (t: number) => pad.l + (t / tMax) * pw;
  const yL = (v: number) => pad.t + ph - (Math.min(v, cwndMax) / cwndMax) * ph;
  const yR = (v: number) => pad.t + ph - (Math.min(v, rttMax) / rttMax) * ph;

  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = text;
  ctx.strokeStyle = 'rgba(127,127,127,0.3)';
  ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = pad.t + (ph * i) / 4;
    ctx.beginPath();
    ctx.moveTo(pad.l, y);
    ctx.lineTo(pad.l + pw, y);
    ctx.stroke();
    if (showWindow) {
      ctx.textAlign = 'right';
      ctx.fillText(String(Math.round(cwndMax * (1 - i / 4))), pad.l - 6, y + 4);
    }
    ctx.textAlign = 'left';
    ctx.fillText(`${+(rttMax * (1 - i / 4)).toPrecision(3)}`, pad.l + pw + 6, y + 4);
  }
  ctx.textAlign = 'center';
  for (let i = 0; i <= 4; i++) ctx.fillText(`${((tMax * i) / 4 / 1000).toFixed(1)}s`, x((tMax * i) / 4), h - 6);

  const line = (color: string, pick: (p: Point) => number | null, y: (v: number) => number, dashed = false) =>
    series(ctx, points, x, color, pick, y, dashed);
  if (showWindow) {
    line(SERIES[1].color, (p) => p[2], yL, true);
    line(SERIES[0].color, (p) => p[1], yL);
    const pacingMax = niceMax(Math.max(...points.map((p) => p[7] ?? -1), 0) * 1.15);
    if (points.some((p) => (p[7] ?? -1) >= 0)) {
      line(
        SERIES[3].color,
        (p) => ((p[7] ?? -1) >= 0 ? p[7]! : null),
        (v) => pad.t + ph - (v / pacingMax) * ph,
        true,
      );
      ctx.fillStyle = SERIES[3].color;
      ctx.textAlign = 'left';
      ctx.fillText(`pacing, top ${mbit(pacingMax)}`, pad.l + 4, pad.t + 11);
    }
    phaseStrip(ctx, points, x, pad.t + ph - 4, pad.l + pw);
  }
  line(SERIES[2].color, (p) => (p[3] >= 0 ? p[3] : null), yR);
}

/** One series as a line (gaps where `pick` says null), its latest value as a dot. */
function series(
  ctx: CanvasRenderingContext2D,
  points: Point[],
  x: (t: number) => number,
  color: string,
  pick: (p: Point) => number | null,
  y: (v: number) => number,
  dashed: boolean,
): void {
  ctx.strokeStyle = color;
  ctx.lineWidth = 2;
  ctx.setLineDash(dashed ? [5, 4] : []);
  ctx.beginPath();
  let started = false;
  for (const p of points) {
    const v = pick(p);
    if (v === null) {
      started = false;
      continue;
    }
    if (started) ctx.lineTo(x(p[0]), y(v));
    else ctx.moveTo(x(p[0]), y(v));
    started = true;
  }
  ctx.stroke();
  ctx.setLineDash([]);
  // The latest value as a dot, so a transfer with a single sample still shows something.
  const last = points.at(-1);
  const v = last ? pick(last) : null;
  if (last && v !== null) {
    ctx.fillStyle = color;
    ctx.beginPath();
    ctx.arc(x(last[0]), y(v), 3, 0, 2 * Math.PI);
    ctx.fill();
  }
}

/** Bytes per second in Mbit/s, for a label. */
export function mbit(bytesPerSec: number): string {
  return `${+((bytesPerSec * 8) / 1e6).toPrecision(3)} Mbit/s`;
}

/** A 4-pixel strip at `y`: each sample's phase from its time to the next sample's. */
function phaseStrip(
  ctx: CanvasRenderingContext2D,
  points: Point[],
  x: (t: number) => number,
  y: number,
  right: number,
): void {
  points.forEach((p, i) => {
    const color = PHASE_COLORS[p[8] ?? ''];
    if (!color) return;
    const x1 = i + 1 < points.length ? x(points[i + 1]![0]) : right;
    ctx.fillStyle = color;
    ctx.fillRect(x(p[0]), y, Math.max(1, x1 - x(p[0])), 4);
  });
}

export const SEQUENCE_SERIES = [
  { label: 'delivered (acknowledged / in order)', color: '#16a34a' },
  { label: 'sent / held at the farthest', color: '#2563eb' },
  { label: 'a loss (sender) or hole (receiver)', color: '#dc2626' },
] as const;

/**
 * The transfer's sequence picture, as tcptrace's time-sequence graph draws it at a dashboard's resolution:
 * bytes delivered and bytes at the farthest against time (the gap between them is what is in flight, or held
 * beyond a hole), a red tick wherever losses were counted since the sample before.
 */
export function drawSequence(canvas: HTMLCanvasElement, points: Point[], size: number): void {
  const c = prepare(canvas, 140);
  if (!c) return;
  const { ctx, w, h } = c;
  const pad = { l: 44, r: 48, t: 8, b: 22 };
  const pw = w - pad.l - pad.r;
  const ph = h - pad.t - pad.b;
  const tMax = Math.max(1000, points.at(-1)?.[0] ?? 0);
  const yMax = Math.max(1, size);
  const x = (t: number) => pad.l + (t / tMax) * pw;
  const y = (b: number) => pad.t + ph - (Math.min(b, yMax) / yMax) * ph;
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = getComputedStyle(document.body).color;
  ctx.textAlign = 'right';
  for (let i = 0; i <= 4; i++) ctx.fillText(`${Math.round(100 * (1 - i / 4))}%`, pad.l - 6, pad.t + (ph * i) / 4 + 4);
  ctx.textAlign = 'center';
  for (let i = 0; i <= 4; i++) ctx.fillText(`${((tMax * i) / 4 / 1000).toFixed(1)}s`, x((tMax * i) / 4), h - 6);
  const line = (color: string, pick: (p: Point) => number) => {
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    points.forEach((p, i) => (i === 0 ? ctx.moveTo(x(p[0]), y(pick(p))) : ctx.lineTo(x(p[0]), y(pick(p)))));
    ctx.stroke();
  };
  line(SEQUENCE_SERIES[1].color, (p) => p[5] ?? p[4]);
  line(SEQUENCE_SERIES[0].color, (p) => p[4]);
  ctx.strokeStyle = SEQUENCE_SERIES[2].color;
  ctx.lineWidth = 2;
  for (let i = 1; i < points.length; i++) {
    if ((points[i]![6] ?? 0) <= (points[i - 1]![6] ?? 0)) continue;
    const px = x(points[i]![0]);
    ctx.beginPath();
    ctx.moveTo(px, pad.t + ph);
    ctx.lineTo(px, pad.t + ph - 10);
    ctx.stroke();
  }
}

/** A session's heartbeat RTTs (ms) as a small inline SVG line, newest at the right. */
export function rttSparkline(samples: number[]): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  const w = 120;
  const h = 22;
  svg.setAttribute('width', String(w));
  svg.setAttribute('height', String(h));
  svg.setAttribute('class', 'rtt-spark');
  svg.setAttribute('aria-label', `heartbeat RTT over the last ${samples.length} seconds`);
  const max = Math.max(0.1, ...samples);
  const path = document.createElementNS(ns, 'path');
  path.setAttribute(
    'd',
    samples
      .map(
        (v, i) =>
          `${i === 0 ? 'M' : 'L'}${((i / Math.max(1, samples.length - 1)) * (w - 2) + 1).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`,
      )
      .join(''),
  );
  path.setAttribute('fill', 'none');
  path.setAttribute('stroke', '#16a34a');
  path.setAttribute('stroke-width', '1.5');
  const title = document.createElementNS(ns, 'title');
  title.textContent = `RTT ${Math.min(...samples).toFixed(1)}–${max.toFixed(1)} ms`;
  svg.append(title, path);
  return svg;
}
