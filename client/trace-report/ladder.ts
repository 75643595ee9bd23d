/**
 * The sequence (ladder) diagram of a transfer's handshake and teardown, as
 * the course notes draw TCP's: the client's and the server's lifelines, an
 * arrow per datagram with its flags and its seq and ack numbers (relative to
 * each side's ISN, the absolute ones beside), each side's state where it
 * changes, a retransmission dashed, a datagram that never arrived ending in a
 * cross. The data in between is one summarised row: the time-sequence graph
 * shows it.
 */
import type { Datagram, TransferModel } from './transfer-model.js';
import { esc, n } from './svg.js';

const WIDTH = 960;
const CLIENT_X = 260;
const SERVER_X = 700;
const ROW = 46;
const TOP = 60;
/** ACKs kept next to the handshake and the teardown. */
const EDGE_ACKS = 3;

export function ladderSvg(m: TransferModel): string {
  const rows = ladderRows(m);
  const height = TOP + rows.length * ROW + 40;
  const parts: string[] = [
    `<svg class="ladder" xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="handshake and teardown">`,
  ];
  parts.push(
    '<defs><marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>',
  );
  parts.push(
    `<text class="side" x="${CLIENT_X}" y="24" text-anchor="middle">client</text><text class="side" x="${SERVER_X}" y="24" text-anchor="middle">server</text>`,
  );
  parts.push(
    `<line class="life" x1="${CLIENT_X}" y1="34" x2="${CLIENT_X}" y2="${height - 20}"/><line class="life" x1="${SERVER_X}" y1="34" x2="${SERVER_X}" y2="${height - 20}"/>`,
  );
  rows.forEach((row, i) => {
    const y = TOP + i * ROW;
    if (row.kind === 'gap') {
      parts.push(
        `<text class="gap" x="${(CLIENT_X + SERVER_X) / 2}" y="${y + 18}" text-anchor="middle">${esc(row.text)}</text>`,
      );
      return;
    }
    parts.push(arrow(row.d, y));
    for (const s of row.states) {
      const x = s.side === 'client' ? CLIENT_X - 14 : SERVER_X + 14;
      parts.push(
        `<text class="state" x="${x}" y="${y + 4}" text-anchor="${s.side === 'client' ? 'end' : 'start'}">${esc(s.state)}</text>`,
      );
    }
  });
  parts.push('</svg>');
  return parts.join('');
}

type Row =
  | { kind: 'gap'; text: string }
  | { kind: 'packet'; d: Datagram; states: Array<{ side: string; state: string }> };

/** Control datagrams, the few ACKs around them, one row for the data in between; states put on the row they precede. */
export function ladderRows(m: TransferModel): Row[] {
  const all = m.datagrams;
  // The handshake's ACKs (and the first few of the data's), then those from the END on: END's and FIN's.
  const firstData = all.findIndex((d) => d.type === 'data');
  const end = all.findIndex((d) => d.type === 'end' || d.type === 'fin' || d.type === 'error');
  const keep = (d: Datagram, i: number) => {
    if (d.type !== 'data' && d.type !== 'ack') return true;
    if (d.type === 'data') return false;
    return firstData < 0 || i < firstData + EDGE_ACKS || (end >= 0 && i > end);
  };
  const rows: Row[] = [];
  let skipped = { data: 0, acks: 0 };
  let s = 0;
  const states = [...m.states].sort((a, b) => a.at - b.at);
  all.forEach((d, i) => {
    if (!keep(d, i)) {
      if (d.type === 'data') skipped.data++;
      else skipped.acks++;
      return;
    }
    if (skipped.data + skipped.acks > 0) {
      rows.push({
        kind: 'gap',
        text: `⋮ ${skipped.data} data packets and ${skipped.acks} ACKs (the time-sequence graph below shows them) ⋮`,
      });
      skipped = { data: 0, acks: 0 };
    }
    // What a side entered on sending or on receiving this datagram: up to its arrival.
    const t = Math.max(d.sentAt ?? 0, d.receivedAt ?? 0);
    const here: Array<{ side: string; state: string }> = [];
    // A state a side entered on sending or receiving this datagram (within a millisecond) goes beside it.
    while (s < states.length && states[s]!.at <= t + 1) here.push(states[s++]!);
    rows.push({ kind: 'packet', d, states: joinBySide(here) });
  });
  const rest = states.slice(s);
  if (rest.length) rows.push({ kind: 'gap', text: rest.map((x) => `${x.side}: ${x.state}`).join(' · ') });
  return rows;
}

/** Several states one side went through at one row: one label, "A → B". */
function joinBySide(states: Array<{ side: string; state: string }>): Array<{ side: string; state: string }> {
  const by = new Map<string, string[]>();
  for (const s of states) by.set(s.side, [...(by.get(s.side) ?? []), s.state]);
  return [...by].map(([side, list]) => ({ side, state: list.join(' → ') }));
}

function arrow(d: Datagram, y: number): string {
  const fromX = d.from === 'client' ? CLIENT_X : SERVER_X;
  const toX = d.from === 'client' ? SERVER_X : CLIENT_X;
  const lost = d.sentAt !== null && d.receivedAt === null;
  const unknownSend = d.sentAt === null;
  const endX = lost ? (fromX + toX) / 2 : toX;
  const endY = lost ? y + 14 : y + 28;
  const cls = `${d.retransmission ? 'retx ' : ''}${lost ? 'lost ' : ''}${d.type}`;
  const label = `${d.flags} seq=${d.seqRel} ack=${d.ackRel}${d.window ? ` win=${d.window}` : ''}`;
  const abs = `(seq ${d.seq}, ack ${d.ack})`;
  const time = d.sentAt ?? d.receivedAt ?? 0;
  const mid = (fromX + endX) / 2;
  const parts = [
    `<g class="arrow ${esc(cls)}" data-flags="${esc(d.flags)}" data-seq="${esc(d.seqRel)}" data-ack="${esc(d.ackRel)}">`,
  ];
  parts.push(
    `<line x1="${fromX}" y1="${unknownSend ? endY - 4 : y}" x2="${n(endX)}" y2="${endY}" marker-end="url(#head)"/>`,
  );
  if (lost) parts.push(`<text class="cross" x="${n(endX)}" y="${endY + 5}" text-anchor="middle">✕ lost</text>`);
  parts.push(
    `<text class="flags" x="${n(mid)}" y="${y + (lost ? 4 : 10)}" text-anchor="middle">${esc(label)}${d.retransmission ? ' (retransmission)' : ''}</text>`,
  );
  parts.push(`<text class="abs" x="${n(mid)}" y="${y + (lost ? 30 : 40)}" text-anchor="middle">${esc(abs)}</text>`);
  parts.push(`<text class="time" x="12" y="${y + 10}">${time.toFixed(1)} ms</text>`);
  parts.push('</g>');
  return parts.join('');
}
