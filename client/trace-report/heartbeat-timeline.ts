/**
 * A chat session's heartbeats, from chat-server --qlog (server/chat/session-qlog.ts):
 * every heartbeat the server sent and when its answer came (with the RTT),
 * the timeout window each unanswered one opened, and the moment the session
 * was dropped with the numbers the server decided it with. Fields are
 * checked as in transfer-model.ts: an event whose numbers are not numbers is
 * left out and counted.
 */
import type { QlogTrace } from './qlog-file.js';
import { axes, esc, maxOf, n, scale, type Frame } from './svg.js';
import { finite } from './transfer-model.js';

const FRAME: Frame = { width: 960, height: 260, left: 70, right: 70, top: 24, bottom: 44 };

interface Beat {
  seq: number;
  sentAt: number;
  answeredAt: number | null;
  rtt: number | null;
}

export interface SessionView {
  nick: string;
  beats: Beat[];
  timeoutMs: number;
  /** The drop and the numbers it was decided with (null: not in the event). */
  drop: { at: number; timeoutMs: number | null; lastAnswerMsAgo: number | null; serverStallMs: number | null } | null;
  closed: { at: number; how: string } | null;
  endAt: number;
  /** Events left out because a field was not what it should be. */
  malformed: number;
}

export async function sessionView(t: QlogTrace): Promise<SessionView> {
  const beats = new Map<number, Beat>();
  const v: SessionView = {
    nick: '?',
    beats: [],
    timeoutMs: finite(t.configuration['heartbeat_timeout_ms']) ?? 0,
    drop: null,
    closed: null,
    endAt: 0,
    malformed: 0,
  };
  for await (const e of t.events) {
    v.endAt = Math.max(v.endAt, e.time);
    const d = e.data;
    if (e.name === 'chat:frame_received' && d['type'] === 'HELLO' && typeof d['nick'] === 'string') v.nick = d['nick'];
    if (e.name === 'chat:frame_sent' && d['type'] === 'WELCOME' && typeof d['nick'] === 'string') v.nick = d['nick'];
    const seq = finite(d['seq']);
    if (e.name === 'chat:heartbeat_sent') {
      if (seq === null) v.malformed++;
      else beats.set(seq, { seq, sentAt: e.time, answeredAt: null, rtt: null });
    }
    if (e.name === 'chat:heartbeat_answered') {
      const rtt = finite(d['rtt_ms']);
      if (seq === null || rtt === null) {
        v.malformed++;
        continue;
      }
      // An answer to seq n answers every earlier one too.
      for (const b of beats.values()) if (b.seq <= seq && b.answeredAt === null) b.answeredAt = e.time;
      const b = beats.get(seq);
      if (b) b.rtt = rtt;
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
  v.beats = [...beats.values()];
  return v;
}

export function heartbeatSvg(v: SessionView): string {
  const xMax = Math.max(1, v.endAt);
  const rtts = v.beats.map((b) => b.rtt ?? 0);
  const rttMax = maxOf(rtts, 1) * 1.2;
  const x = scale(0, xMax, FRAME.left, FRAME.width - FRAME.right);
  const y = scale(0, rttMax, FRAME.height - FRAME.bottom, FRAME.top + 30);
  const lane = FRAME.top + 12;
  const parts = [
    `<svg class="chart heartbeats" xmlns="http://www.w3.org/2000/svg" width="${FRAME.width}" height="${FRAME.height}" viewBox="0 0 ${FRAME.width} ${FRAME.height}" role="img" aria-label="heartbeats of ${esc(v.nick)}">`,
  ];
  // The timeout window of each heartbeat still unanswered when the session was dropped (or at the end).
  for (const b of v.beats) {
    if (b.answeredAt !== null || v.timeoutMs <= 0) continue;
    parts.push(
      `<rect class="window" x="${n(x(b.sentAt))}" y="${FRAME.top}" width="${n(Math.max(1, x(Math.min(xMax, b.sentAt + v.timeoutMs)) - x(b.sentAt)))}" height="${FRAME.height - FRAME.top - FRAME.bottom}"><title>heartbeat ${b.seq}: answer due within ${v.timeoutMs} ms</title></rect>`,
    );
  }
  parts.push(axes(FRAME, x, y, xMax, rttMax, 'time (ms)', 'RTT (ms)'));
  let rttPath = '';
  for (const b of v.beats) {
    parts.push(
      `<path class="${b.answeredAt === null ? 'hb-unanswered' : 'hb-sent'}" d="M${n(x(b.sentAt))},${lane - 6}l4,8h-8z"><title>heartbeat ${b.seq} sent at ${b.sentAt.toFixed(1)} ms${b.rtt !== null ? `, answered in ${b.rtt} ms` : b.answeredAt === null ? ', never answered' : ''}</title></path>`,
    );
    if (b.rtt !== null && b.answeredAt !== null)
      rttPath += `${rttPath ? 'L' : 'M'}${n(x(b.answeredAt))},${n(y(b.rtt))}`;
  }
  if (rttPath) parts.push(`<path class="rtt" d="${rttPath}"/>`);
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
  const rtts = v.beats
    .map((b) => b.rtt)
    .filter((r): r is number => r !== null)
    .sort((a, b) => a - b);
  const p99 = rtts.length ? rtts[Math.min(rtts.length - 1, Math.floor(0.99 * rtts.length))]! : NaN;
  return [
    ['nick', v.nick],
    ['heartbeats sent / answered', `${v.beats.length} / ${v.beats.filter((b) => b.answeredAt !== null).length}`],
    [
      'heartbeat RTT min / avg / p99 (ms)',
      rtts.length
        ? `${rtts[0]!.toFixed(2)} / ${(rtts.reduce((a, b) => a + b, 0) / rtts.length).toFixed(2)} / ${p99.toFixed(2)}`
        : '—',
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
