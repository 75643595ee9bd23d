/**
 * A chat session's heartbeats, from chat-server --qlog (server/chat/session-qlog.ts):
 * every heartbeat the server sent and whether its answer came (with the RTT),
 * the timeout window each unanswered one opened, and the moment the session
 * was dropped with the numbers the server decided it with. Fields are
 * checked as in transfer-model.ts: an event whose numbers are not numbers is
 * left out and counted. Any length of session, in bounded memory and time:
 * the heartbeats waiting for an answer are a queue (an answer answers every
 * earlier one too), and what is drawn is kept in time bins, one marker per
 * pixel column (time-bins.ts).
 */
import type { QlogTrace } from './qlog-file.js';
import { axes, esc, n, scale, type Frame } from './svg.js';
import { finite } from './trace-fields.js';
import { Quantiles } from './quantiles.js';
import { LineBins, SpreadBins, TimeGrid, columns } from './time-bins.js';
import { linePath } from './charts.js';

const FRAME: Frame = { width: 960, height: 260, left: 70, right: 70, top: 24, bottom: 44 };
/** Heartbeats waiting for an answer, at most (past it the oldest count as unanswered). */
const MAX_WAITING = 65_536;
/** Unanswered heartbeats whose timeout window is drawn, at most. */
const MAX_WINDOWS = 256;

export interface SessionView {
  nick: string;
  timeoutMs: number;
  /** The drop and the numbers it was decided with (null: not in the event). */
  drop: { at: number; timeoutMs: number | null; lastAnswerMsAgo: number | null; serverStallMs: number | null } | null;
  closed: { at: number; how: string } | null;
  endAt: number;
  /** Events left out because a field was not what it should be. */
  malformed: number;
  sent: number;
  answered: number;
  /** The RTTs of the heartbeats answered (each answer's own). */
  rtt: Quantiles;
  grid: TimeGrid;
  /** Heartbeats by when they were sent (their seq as the value): answered, and never answered. */
  answeredBeats: SpreadBins;
  unansweredBeats: SpreadBins;
  /** Each answer's RTT, at its time. */
  rttLine: LineBins;
  /** The first heartbeats never answered (their timeout windows are drawn). */
  unanswered: Array<{ seq: number; sentAt: number }>;
}

export async function sessionView(t: QlogTrace): Promise<SessionView> {
  const grid = new TimeGrid();
  const v: SessionView = {
    nick: '?',
    timeoutMs: finite(t.configuration['heartbeat_timeout_ms']) ?? 0,
    drop: null,
    closed: null,
    endAt: 0,
    malformed: 0,
    sent: 0,
    answered: 0,
    rtt: new Quantiles(),
    grid,
    answeredBeats: new SpreadBins(grid),
    unansweredBeats: new SpreadBins(grid),
    rttLine: new LineBins(grid),
    unanswered: [],
  };
  let waiting: Array<{ seq: number; sentAt: number }> = [];
  const unanswered = (b: { seq: number; sentAt: number }) => {
    v.unansweredBeats.add(b.sentAt, b.seq);
    if (v.unanswered.length < MAX_WINDOWS) v.unanswered.push(b);
  };
  for await (const e of t.events) {
    v.endAt = Math.max(v.endAt, e.time);
    const d = e.data;
    if (e.name === 'chat:frame_received' && d['type'] === 'HELLO' && typeof d['nick'] === 'string') v.nick = d['nick'];
    if (e.name === 'chat:frame_sent' && d['type'] === 'WELCOME' && typeof d['nick'] === 'string') v.nick = d['nick'];
    const seq = finite(d['seq']);
    if (e.name === 'chat:heartbeat_sent') {
      if (seq === null) v.malformed++;
      else {
        v.sent++;
        waiting.push({ seq, sentAt: e.time });
        // Never answered so far and far behind: the older half counts as unanswered (in halves: amortised O(1)).
        if (waiting.length > MAX_WAITING) for (const b of waiting.splice(0, MAX_WAITING / 2)) unanswered(b);
      }
    }
    if (e.name === 'chat:heartbeat_answered') {
      const rtt = finite(d['rtt_ms']);
      if (seq === null || rtt === null) {
        v.malformed++;
        continue;
      }
      // An answer to seq n answers every earlier one too.
      const [done, still] = [waiting.filter((b) => b.seq <= seq), waiting.filter((b) => b.seq > seq)];
      waiting = still;
      for (const b of done) {
        v.answered++;
        v.answeredBeats.add(b.sentAt, b.seq);
      }
      if (done.some((b) => b.seq === seq)) {
        v.rtt.add(rtt);
        v.rttLine.add(e.time, rtt);
      }
    }
    if (e.name === 'chat:heartbeat_timeout')
      v.drop = {
        at: e.time,
        timeoutMs: finite(d['timeout_ms']),
        lastAnswerMsAgo: finite(d['last_answer_ms_ago']),
        serverStallMs: finite(d['server_stall_ms']),
      };
    if (e.name === 'chat:connection_closed') {
      if (typeof d['how'] === 'string') v.closed = { at: e.time, how: d['how'] };
      else v.malformed++;
    }
  }
  for (const b of waiting) unanswered(b);
  return v;
}

export function heartbeatSvg(v: SessionView): string {
  const xMax = Math.max(1, v.endAt);
  const rttMax = Math.max(1, v.rtt.max) * 1.2;
  const [left, right] = [FRAME.left, FRAME.width - FRAME.right];
  const x = scale(0, xMax, left, right);
  const y = scale(0, rttMax, FRAME.height - FRAME.bottom, FRAME.top + 30);
  const lane = FRAME.top + 12;
  const parts = [
    `<svg class="chart heartbeats" xmlns="http://www.w3.org/2000/svg" width="${FRAME.width}" height="${FRAME.height}" viewBox="0 0 ${FRAME.width} ${FRAME.height}" role="img" aria-label="heartbeats of ${esc(v.nick)}">`,
  ];
  // The timeout window of each heartbeat still unanswered when the session was dropped (or at the end).
  for (const b of v.timeoutMs > 0 ? v.unanswered : []) {
    parts.push(
      `<rect class="window" x="${n(x(b.sentAt))}" y="${FRAME.top}" width="${n(Math.max(1, x(Math.min(xMax, b.sentAt + v.timeoutMs)) - x(b.sentAt)))}" height="${FRAME.height - FRAME.top - FRAME.bottom}"><title>heartbeat ${b.seq}: answer due within ${v.timeoutMs} ms</title></rect>`,
    );
  }
  parts.push(axes(FRAME, x, y, xMax, rttMax, 'time (ms)', 'RTT (ms)'));
  // One ▲ per pixel column, naming the heartbeats it stands for; the unanswered drawn over the answered.
  for (const [bins, cls, how] of [
    [v.answeredBeats, 'hb-sent', 'answered'],
    [v.unansweredBeats, 'hb-unanswered', 'never answered'],
  ] as const)
    for (const c of columns(v.grid, bins, x, left, right)) {
      const which = c.min === c.max ? `heartbeat ${c.min}` : `heartbeats ${c.min}–${c.max}`;
      parts.push(`<path class="${cls}" d="M${c.x},${lane - 6}l4,8h-8z"><title>${which}: ${how}</title></path>`);
    }
  parts.push(linePath('rtt', columns(v.grid, v.rttLine, x, left, right), y, FRAME.top));
  if (v.drop) {
    const d = v.drop;
    const shown = (ms: number | null) => esc(ms === null ? '?' : ms);
    const dx = x(v.drop.at);
    parts.push(
      `<line class="drop" x1="${n(dx)}" y1="${FRAME.top}" x2="${n(dx)}" y2="${FRAME.height - FRAME.bottom}"/>`,
    );
    parts.push(
      `<text class="drop-label" x="${n(dx - 6)}" y="${FRAME.top + 40}" text-anchor="end">dropped: no answer within ${shown(d.timeoutMs)} ms</text>`,
    );
    parts.push(
      `<text class="drop-label" x="${n(dx - 6)}" y="${FRAME.top + 56}" text-anchor="end">(last answer ${shown(d.lastAnswerMsAgo)} ms before; server stalls not counted: ${shown(d.serverStallMs)} ms)</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

export function sessionSummary(v: SessionView): Array<[string, string]> {
  const r = v.rtt;
  return [
    ['nick', v.nick],
    ['heartbeats sent / answered', `${v.sent} / ${v.answered}`],
    [
      'heartbeat RTT min / avg / p99 (ms)',
      r.count ? `${r.min.toFixed(2)} / ${r.mean().toFixed(2)} / ${r.quantile(0.99).toFixed(2)}` : '—',
    ],
    ['timeout', `${v.timeoutMs} ms`],
    [
      'ended',
      v.drop
        ? `dropped at ${v.drop.at.toFixed(0)} ms: heartbeat timeout`
        : v.closed
          ? `${v.closed.how} at ${v.closed.at.toFixed(0)} ms`
          : 'still open when the trace ends',
    ],
    ...(v.malformed ? [['malformed events left out', String(v.malformed)] as [string, string]] : []),
  ];
}
