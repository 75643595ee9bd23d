/**
 * The report's two time charts, as inline SVG. The time-sequence graph (as
 * tcptrace draws TCP's): each data packet the sender sent at its relative
 * sequence number, retransmissions in red, the cumulative ACK it got as a
 * step line, SACK ranges as bars above it, losses as crosses. The congestion
 * chart: cwnd, ssthresh and packets in flight against time, smoothed RTT on
 * its own axis, the controller's phases shaded behind.
 */
import type { TransferModel } from './transfer-model.js';
import { axes, esc, maxOf, n, scale, thin, type Frame } from './svg.js';

const FRAME: Frame = { width: 960, height: 380, left: 70, right: 70, top: 20, bottom: 44 };
const MAX_POINTS = 20_000;

export function timeSequenceSvg(m: TransferModel): string {
  const sender = m.dataSender;
  if (!sender)
    return '<p class="muted">No data packets in these traces (give the data sender\'s trace: the server for a get, the client for a post).</p>';
  const sent = m.datagrams.filter((d) => d.from === sender && d.type === 'data' && d.sentAt !== null);
  // The ACKs as the sender got them (or, with the receiver's trace alone, as they were sent).
  const acks = m.datagrams
    .filter((d) => d.from !== sender && d.type === 'ack')
    .map((d) => ({ ...d, receivedAt: d.receivedAt ?? d.sentAt }));
  const xMax = Math.max(1, m.endAt);
  const yMax = maxOf(
    sent.map((d) => d.seqRel),
    1,
  );
  const x = scale(0, xMax, FRAME.left, FRAME.width - FRAME.right);
  const y = scale(0, yMax, FRAME.height - FRAME.bottom, FRAME.top);
  const parts = [svgOpen('time-sequence graph')];
  parts.push(axes(FRAME, x, y, xMax, yMax, 'time (ms)', 'sequence number (relative, packets)'));
  let ackPath = '';
  for (const a of thin(acks, MAX_POINTS)) ackPath += `${ackPath ? 'L' : 'M'}${n(x(a.receivedAt!))},${n(y(a.ackRel))}`;
  if (ackPath) parts.push(`<path class="ackline" d="${ackPath}"/>`);
  const sacks = thin(
    acks.filter((a) => a.sack.length > 0),
    MAX_POINTS / 4,
  );
  for (const a of sacks)
    for (const [s, e] of a.sack)
      parts.push(
        `<line class="sack" x1="${n(x(a.receivedAt!))}" y1="${n(y(s))}" x2="${n(x(a.receivedAt!))}" y2="${n(y(e))}"/>`,
      );
  let dots = '';
  let retx = '';
  for (const d of thin(sent, MAX_POINTS)) {
    const seg = `M${n(x(d.sentAt!))},${n(y(d.seqRel))}h1.6`;
    if (d.retransmission) retx += seg;
    else dots += seg;
  }
  parts.push(`<path class="sent" d="${dots}"/>`, `<path class="retx-dots" d="${retx}"/>`);
  for (const l of thin(m.losses, MAX_POINTS / 4))
    parts.push(`<text class="lossmark" x="${n(x(l.at))}" y="${n(y(l.seqRel) + 4)}" text-anchor="middle">×</text>`);
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
  const pts = m.metrics;
  if (pts.length === 0)
    return '<p class="muted">No congestion figures in these traces (they come from the data sender\'s trace).</p>';
  const xMax = Math.max(1, m.endAt);
  // The scale follows cwnd and the flight; an ssthresh far above them (its starting "infinity", capped) is cut at the top.
  const yMax =
    maxOf(
      pts.map((p) => Math.max(p.cwnd, p.inFlight)),
      1,
    ) * 1.1;
  const rtts = pts.map((p) => p.srtt ?? 0).sort((a, b) => a - b);
  const rttMax = Math.max(1, rtts[Math.floor(rtts.length * 0.99)] ?? 1) * 1.1;
  const x = scale(0, xMax, FRAME.left, FRAME.width - FRAME.right);
  const y = scale(0, yMax, FRAME.height - FRAME.bottom, FRAME.top);
  const yr = scale(0, rttMax, FRAME.height - FRAME.bottom, FRAME.top);
  const parts = [svgOpen('congestion window, ssthresh, packets in flight and RTT')];
  // The phases first, behind the lines.
  m.phases.forEach((p, i) => {
    const x0 = x(p.at);
    const x1 = x(m.phases[i + 1]?.at ?? xMax);
    parts.push(
      `<rect class="phase phase-${esc(p.phase)}" x="${n(x0)}" y="${FRAME.top}" width="${n(Math.max(0.5, x1 - x0))}" height="${FRAME.height - FRAME.top - FRAME.bottom}"/>`,
    );
    if (x1 - x0 > 40)
      parts.push(`<text class="phase-label" x="${n(x0 + 4)}" y="${FRAME.top + 12}">${esc(p.phase)}</text>`);
  });
  parts.push(axes(FRAME, x, y, xMax, yMax, 'time (ms)', 'packets'));
  const line = (cls: string, v: (p: (typeof pts)[number]) => number | null, sy = y) => {
    let d = '';
    for (const p of thin(pts, MAX_POINTS)) {
      const value = v(p);
      if (value === null || !Number.isFinite(value) || value > 1e6) continue;
      d += `${d ? 'L' : 'M'}${n(x(p.at))},${n(Math.max(FRAME.top, sy(value)))}`;
    }
    return d ? `<path class="${cls}" d="${d}"/>` : '';
  };
  parts.push(
    line('cwnd', (p) => p.cwnd),
    line('ssthresh', (p) => p.ssthresh),
    line('inflight', (p) => p.inFlight),
    line('srtt', (p) => p.srtt, yr),
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
