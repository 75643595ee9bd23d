/**
 * The report's two time charts, as inline SVG, drawn from the transfer's
 * time bins (transfer-series.ts) folded into pixel columns, so a chart holds
 * at most a few points per pixel column however long the transfer was. The
 * time-sequence graph (as tcptrace draws TCP's): the data packets the sender
 * sent at their relative sequence numbers (per column, the span from the
 * lowest to the highest), retransmissions in red, the cumulative ACK it got
 * as a line, SACK ranges as bars, losses as crosses. The congestion chart:
 * cwnd, ssthresh and packets in flight against time, smoothed RTT on its own
 * axis, the controller's phases shaded behind. Both end at the transfer's
 * last datagram (a side that lingers after it, in TIME_WAIT, is in the
 * ladder, not here).
 */
import type { TransferModel } from './transfer-model.js';
import { columns, stateRuns, type Column, type LineBins, type SpreadBins, type TimeGrid } from './time-bins.js';
import { axes, esc, n, scale, type Frame } from './svg.js';

const FRAME: Frame = { width: 960, height: 380, left: 70, right: 70, top: 20, bottom: 44 };
const PLOT_LEFT = FRAME.left;
const PLOT_RIGHT = FRAME.width - FRAME.right;

type Scale = (v: number) => number;

/** The x scale of both charts: 0 to the last datagram. */
function timeScale(m: TransferModel): [Scale, number] {
  const xMax = Math.max(1, m.lastPacketAt);
  return [scale(0, xMax, PLOT_LEFT, PLOT_RIGHT), xMax];
}

/** Per column a vertical stroke from the lowest to the highest value (a short tick when they are one). */
function spreadPath(cls: string, grid: TimeGrid, bins: SpreadBins, x: Scale, y: Scale): string {
  let d = '';
  for (const c of columns(grid, bins, x, PLOT_LEFT, PLOT_RIGHT)) {
    const [top, bottom] = [n(y(c.max)), n(y(c.min))];
    d += `M${c.x},${bottom}${top === bottom ? 'h1.6' : `V${top}`}`;
  }
  return d ? `<path class="${cls}" d="${d}"/>` : '';
}

/** A line through each column's first, lowest, highest and last value: the line all the points would draw. */
export function linePath(cls: string, cols: Column[], y: Scale, top = FRAME.top): string {
  let d = '';
  for (const c of cols) {
    const ys = [c.first, c.min, c.max, c.last].map((v) => n(Math.max(top, y(v))));
    d += `${d ? 'L' : 'M'}${c.x},${ys[0]}`;
    for (const v of ys.slice(1)) if (v !== ys[0]) d += `V${v}`;
  }
  return d ? `<path class="${cls}" d="${d}"/>` : '';
}

export function timeSequenceSvg(m: TransferModel): string {
  const sender = m.dataSender;
  if (!sender)
    return '<p class="muted">No data packets in these traces (give the data sender\'s trace: the server for a get, the client for a post).</p>';
  const s = m.series;
  const [x, xMax] = timeScale(m);
  const yMax = s.maxSeq[sender];
  const y = scale(0, yMax, FRAME.height - FRAME.bottom, FRAME.top);
  const parts = [svgOpen('time-sequence graph')];
  parts.push(axes(FRAME, x, y, xMax, yMax, 'time (ms)', 'sequence number (relative, packets)'));
  parts.push(linePath('ackline', columns(s.grid, s.acks[sender], x, PLOT_LEFT, PLOT_RIGHT), y));
  parts.push(spreadPath('sack', s.grid, s.sacks[sender], x, y));
  parts.push(spreadPath('sent', s.grid, s.sent[sender], x, y));
  parts.push(spreadPath('retx-dots', s.grid, s.resent[sender], x, y));
  let crosses = '';
  for (const c of columns(s.grid, s.losses, x, PLOT_LEFT, PLOT_RIGHT))
    for (const v of c.min === c.max ? [c.min] : [c.min, c.max]) crosses += `M${c.x - 3},${n(y(v) - 3)}l6,6m0,-6l-6,6`;
  if (crosses) parts.push(`<path class="lossmark" d="${crosses}"/>`);
  parts.push(
    legend([
      ['sent', 'data sent'],
      ['retx-dots', 'retransmitted'],
      ['ackline', 'cumulative ACK'],
      ['sack', 'SACK ranges'],
      ['lossmark', '× declared lost'],
    ]),
  );
  parts.push('</svg>');
  return parts.join('');
}

export function congestionSvg(m: TransferModel): string {
  const s = m.series;
  if (s.metricsPoints === 0)
    return '<p class="muted">No congestion figures in these traces (they come from the data sender\'s trace).</p>';
  const [x, xMax] = timeScale(m);
  // The scale follows cwnd and the flight; an ssthresh far above them (its starting "infinity", capped) is cut at the top.
  const yMax = s.maxPackets * 1.1;
  const rttMax = Math.max(1, s.srttSpread.quantile(0.99) || 1) * 1.1;
  const y = scale(0, yMax, FRAME.height - FRAME.bottom, FRAME.top);
  const yr = scale(0, rttMax, FRAME.height - FRAME.bottom, FRAME.top);
  const parts = [svgOpen('congestion window, ssthresh, packets in flight and RTT')];
  // The phases first, behind the lines.
  parts.push(...phaseBands(m, x));
  parts.push(axes(FRAME, x, y, xMax, yMax, 'time (ms)', 'packets'));
  const line = (cls: string, bins: LineBins, sy = y) =>
    linePath(cls, columns(s.grid, bins, x, PLOT_LEFT, PLOT_RIGHT), sy);
  parts.push(
    line('cwnd', s.cwnd),
    line('ssthresh', s.ssthresh),
    line('inflight', s.inFlight),
    line('srtt', s.srtt, yr),
  );
  parts.push(
    `<text class="tick" x="${FRAME.width - FRAME.right + 6}" y="${FRAME.top + 4}">${n(rttMax)} ms</text><text class="tick" x="${FRAME.width - FRAME.right + 6}" y="${FRAME.height - FRAME.bottom}">0 ms</text>`,
  );
  parts.push(
    legend([
      ['cwnd', 'cwnd'],
      ['ssthresh', 'ssthresh'],
      ['inflight', 'in flight'],
      ['srtt', 'smoothed RTT (right axis)'],
    ]),
  );
  parts.push('</svg>');
  return parts.join('');
}

/** BBR's pacing rate and bandwidth estimate against time (Mbit/s), its phases shaded behind. */
export function pacingSvg(m: TransferModel): string {
  const s = m.series;
  if (s.ratePoints === 0)
    return '<p class="muted">No pacing rate in these traces: Reno (--cc reno) paces nothing; BBR\'s comes from the data sender\'s trace.</p>';
  const [x, xMax] = timeScale(m);
  const yMax = Math.max(s.maxRate, 0.001) * 1.1;
  const y = scale(0, yMax, FRAME.height - FRAME.bottom, FRAME.top);
  const parts = [svgOpen('pacing rate and bandwidth estimate')];
  parts.push(...phaseBands(m, x));
  parts.push(axes(FRAME, x, y, xMax, yMax, 'time (ms)', 'Mbit/s'));
  const line = (cls: string, bins: LineBins) => linePath(cls, columns(s.grid, bins, x, PLOT_LEFT, PLOT_RIGHT), y);
  parts.push(line('pacing', s.pacing), line('bandwidth', s.bandwidth));
  parts.push(
    legend([
      ['pacing', 'pacing rate'],
      ['bandwidth', 'bandwidth estimate'],
    ]),
  );
  parts.push('</svg>');
  return parts.join('');
}

/** The controller's phases as shaded bands behind a chart, named where there is room. */
function phaseBands(m: TransferModel, x: Scale): string[] {
  const s = m.series;
  const parts: string[] = [];
  for (const p of stateRuns(s.grid, s.phases, x, PLOT_LEFT, PLOT_RIGHT)) {
    parts.push(
      `<rect class="phase phase-${esc(p.name)}" x="${n(p.x0)}" y="${FRAME.top}" width="${n(Math.max(0.5, p.x1 - p.x0))}" height="${FRAME.height - FRAME.top - FRAME.bottom}"/>`,
    );
    if (p.x1 - p.x0 > 40)
      parts.push(`<text class="phase-label" x="${n(p.x0 + 4)}" y="${FRAME.top + 12}">${esc(p.name)}</text>`);
  }
  return parts;
}

function svgOpen(label: string): string {
  return `<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="${FRAME.width}" height="${FRAME.height}" viewBox="0 0 ${FRAME.width} ${FRAME.height}" role="img" aria-label="${esc(label)}">`;
}

function legend(items: Array<[string, string]>): string {
  return items
    .map(
      ([cls, text], i) =>
        `<g class="legend" transform="translate(${FRAME.left + 10 + i * 150} ${FRAME.top + 4})"><rect class="key ${cls}" width="12" height="4" y="6"/><text x="16" y="12">${esc(text)}</text></g>`,
    )
    .join('');
}
