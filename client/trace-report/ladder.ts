/**
 * The sequence (ladder) diagram of a transfer's handshake and teardown, as
 * the course notes draw TCP's: the client's and the server's lifelines, an
 * arrow per datagram with its flags and its seq and ack numbers (relative to
 * each side's ISN, the absolute ones beside), each side's state where it
 * changes, a retransmission dashed. A datagram that never arrived ends in a
 * cross, which only both sides' traces can tell: with the sender's trace
 * alone, an arrow whose arrival is unknown is dotted and ends in a "?". The
 * data in between is one summarised row: the time-sequence graph shows it.
 * The labels run along their arrow, the flags above it and the absolute
 * numbers below, so no text crosses a line.
 */
import type { Datagram, TransferModel } from './transfer-model.js';
import { HEAD_ROWS, TAIL_ROWS, type Skipped } from './ladder-sample.js';
import { other } from './delivery.js';
import { esc, n } from './svg.js';

const WIDTH = 960;
const CLIENT_X = 260;
const SERVER_X = 700;
/** A row's height: room for an arrow's fall and its labels, the next row's clear of them however the two lean. */
const ROW = 52;
const TOP = 60;
/** How far an arrow falls: its arrival is later than its sending. */
const DROP = 28;

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
    parts.push(arrow(row.d, y, m.sides.includes(other(row.d.from))));
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

/** The ladder's rows (transfer-model.ts chose the datagrams); states put on the row they precede. */
export function ladderRows(m: TransferModel): Row[] {
  const rows: Row[] = [];
  let s = 0;
  const states = m.states;
  for (const e of m.ladder) {
    if (e.kind === 'gap') {
      rows.push({ kind: 'gap', text: gapText(e.skipped, e.why) });
      continue;
    }
    const d = e.d;
    // What a side entered on sending or on receiving this datagram: up to its arrival.
    const t = Math.max(d.sentAt ?? 0, d.receivedAt ?? 0);
    const here: Array<{ side: string; state: string }> = [];
    // A state a side entered on sending or receiving this datagram (within a millisecond) goes beside it.
    while (s < states.length && states[s]!.at <= t + 1) here.push(states[s++]!);
    rows.push({ kind: 'packet', d, states: joinBySide(here) });
  }
  const rest = states.slice(s);
  if (rest.length) rows.push({ kind: 'gap', text: rest.map((x) => `${x.side}: ${x.state}`).join(' · ') });
  return rows;
}

function gapText(k: Skipped, why: 'graph' | 'bound'): string {
  const of = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;
  if (why === 'graph')
    return `⋮ ${of(k.data, 'data packet')} and ${of(k.acks, 'ACK')} (the time-sequence graph below shows them) ⋮`;
  return `⋮ ${of(k.data + k.acks + k.other, 'more datagram')} (${k.data} data, ${of(k.acks, 'ACK')}, ${of(k.other, 'other')}): the ladder draws the first ${HEAD_ROWS} rows and the last ${TAIL_ROWS} ⋮`;
}

/** Several states one side went through at one row: one label, "A → B". */
function joinBySide(states: Array<{ side: string; state: string }>): Array<{ side: string; state: string }> {
  const by = new Map<string, string[]>();
  for (const s of states) by.set(s.side, [...(by.get(s.side) ?? []), s.state]);
  return [...by].map(([side, list]) => ({ side, state: list.join(' → ') }));
}

/** One datagram's arrow. knownDelivery: the receiving side's trace is given (then no arrival means lost). */
function arrow(d: Datagram, y: number, knownDelivery: boolean): string {
  const fromX = d.from === 'client' ? CLIENT_X : SERVER_X;
  const toX = d.from === 'client' ? SERVER_X : CLIENT_X;
  const dir = Math.sign(toX - fromX);
  const unarrived = d.sentAt !== null && d.receivedAt === null;
  const lost = unarrived && knownDelivery;
  const unknown = unarrived && !knownDelivery;
  const unknownSend = d.sentAt === null;
  const endX = lost ? (fromX + toX) / 2 : toX;
  // Sent at an unknown time: nearly flat, at the row's middle (where its labels have the room others have).
  const endY = lost ? y + DROP / 2 : unknownSend ? y + DROP / 2 + 2 : y + DROP;
  const startY = unknownSend ? endY - 4 : y;
  const cls = `${d.retransmission ? 'retx ' : ''}${lost ? 'lost ' : ''}${unknown ? 'unknown ' : ''}${d.type}`;
  const label = `${d.flags} seq=${d.seqRel} ack=${d.ackRel}${d.window ? ` win=${d.window}` : ''}`;
  const abs = `${d.retransmission ? 'retransmission ' : ''}(seq ${d.seq}, ack ${d.ack})`;
  const time = d.sentAt ?? d.receivedAt ?? 0;
  const parts = [
    `<g class="arrow ${esc(cls)}" data-flags="${esc(d.flags)}" data-seq="${esc(d.seqRel)}" data-ack="${esc(d.ackRel)}">`,
  ];
  if (unknown)
    parts.push(
      `<title>delivery unknown: only the ${esc(d.from)}'s trace is given, not the ${esc(other(d.from))}'s</title>`,
    );
  parts.push(
    `<line x1="${fromX}" y1="${startY}" x2="${n(endX)}" y2="${endY}"${unknown ? '' : ' marker-end="url(#head)"'}/>`,
  );
  if (lost)
    parts.push(
      `<text class="cross" x="${n(endX + dir * 7)}" y="${endY + 5}" text-anchor="middle">✕</text><text class="cross" x="${n(endX + dir * 16)}" y="${endY + 5}" text-anchor="${dir > 0 ? 'start' : 'end'}">lost</text>`,
    );
  if (unknown)
    parts.push(`<text class="unknown-mark" x="${n(endX - dir * 8)}" y="${endY + 14}" text-anchor="middle">?</text>`);
  // The labels along the line, reading left to right: the flags above it, the absolute numbers below.
  const [mx, my] = [(fromX + endX) / 2, (startY + endY) / 2];
  const angle = (Math.atan2(endY - startY, endX - fromX) * 180) / Math.PI;
  const along = `transform="rotate(${n(dir > 0 ? angle : angle - 180)} ${n(mx)} ${n(my)})"`;
  parts.push(
    `<text class="flags" x="${n(mx)}" y="${n(my - 5)}" text-anchor="middle" ${along}>${esc(label)}</text>`,
    `<text class="abs" x="${n(mx)}" y="${n(my + 13)}" text-anchor="middle" ${along}>${esc(abs)}</text>`,
  );
  parts.push(`<text class="time" x="12" y="${y + 10}">${time.toFixed(1)} ms</text>`);
  parts.push('</g>');
  return parts.join('');
}
