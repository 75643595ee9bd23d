/**
 * The report as one self-contained HTML file: no script, no font, nothing
 * fetched, so it opens offline anywhere. One section per transfer (the
 * traces that share a connection id are merged): a summary table, the
 * handshake and teardown ladder, the time-sequence graph, the congestion
 * chart. Everything from a trace is escaped (svg.ts esc), and the page's
 * Content-Security-Policy allows nothing but its own <style> (by its hash):
 * no script runs, nothing is fetched, even if markup got in.
 */
import { createHash } from 'node:crypto';
import { congestionSvg, pacingSvg, timeSequenceSvg } from './charts.js';
import { ladderSvg } from './ladder.js';
import { esc } from './svg.js';
import type { TransferModel } from './transfer-model.js';
import type { QlogTrace } from './qlog-file.js';
import { formatBytes } from '../../common/units.js';
import { heartbeatSvg, sessionSummary, type SessionView } from './heartbeat-timeline.js';

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d232a;max-width:1000px}
h1{font-size:22px}h2{font-size:18px;margin-top:36px;border-top:1px solid #ccd;padding-top:16px}h3{font-size:15px}
table{border-collapse:collapse}td,th{border:1px solid #ccd;padding:3px 10px;text-align:left}th{background:#f0f2f6}
.muted{color:#667}svg{background:#fff;border:1px solid #dde;margin:8px 0;max-width:100%;height:auto}
.ladder .side{font-weight:600;font-size:15px}.life{stroke:#8894a8;stroke-width:2}
.arrow line{stroke:#2458c5;stroke-width:1.6}.arrow.retx line{stroke-dasharray:6 4;stroke:#c56a24}.arrow.lost line{stroke:#c52424}
.arrow.error line{stroke:#c52424}.arrow .flags{font:12px ui-monospace,monospace;fill:#1d232a}.arrow .abs{font:10px ui-monospace,monospace;fill:#7a8599}
.arrow .time{font:11px ui-monospace,monospace;fill:#7a8599}.cross{fill:#c52424;font-weight:700}
.arrow.unknown line{stroke:#8894a8;stroke-dasharray:2 4}.unknown-mark{fill:#7a8599;font-weight:700}.state{font:11px ui-monospace,monospace;fill:#2c7a3f}
.gap{fill:#7a8599;font-style:italic}marker path{fill:#2458c5}
.axis{stroke:#445}.grid{stroke:#eef}.tick{font-size:10px;fill:#556}.label{font-size:12px;fill:#334}
.sent{stroke:#2458c5;stroke-width:2}.retx-dots{stroke:#d11;stroke-width:3}.ackline{fill:none;stroke:#2c9a4f;stroke-width:1.4}
.sack{stroke:#9bd8ad;stroke-width:2;fill:none}path.lossmark{stroke:#d11;stroke-width:1.6;fill:none}
.cwnd{fill:none;stroke:#2458c5;stroke-width:1.6}.ssthresh{fill:none;stroke:#c56a24;stroke-width:1.2;stroke-dasharray:5 3}
.inflight{fill:none;stroke:#8a5cc5;stroke-width:1}.srtt{fill:none;stroke:#2c9a4f;stroke-width:1.2}
.phase{opacity:.12}.phase-slow_start,.phase-startup{fill:#2458c5}.phase-avoidance,.phase-probe_bw_cruise{fill:#2c9a4f}.phase-recovery,.phase-drain{fill:#c52424}
.phase-probe_bw_down{fill:#c58a24}.phase-probe_bw_refill{fill:#7fb33a}.phase-probe_bw_up{fill:#8a5cc5}.phase-probe_rtt{fill:#7a8599}
.pacing{fill:none;stroke:#8a5cc5;stroke-width:1.4}.bandwidth{fill:none;stroke:#2458c5;stroke-width:1.2;stroke-dasharray:5 3}
.key.pacing{fill:#8a5cc5}.key.bandwidth{fill:#2458c5}
.phase-label{font-size:10px;fill:#556}.legend text{font-size:11px;fill:#334}
.key.sent{fill:#2458c5}.key.retx-dots{fill:#d11}.key.ackline{fill:#2c9a4f}.key.sack{fill:#9bd8ad}.key.lossmark{fill:#d11}
.key.cwnd{fill:#2458c5}.key.ssthresh{fill:#c56a24}.key.inflight{fill:#8a5cc5}.key.srtt{fill:#2c9a4f}
.window{fill:#c52424;opacity:.12}.hb-sent{fill:#2458c5}.hb-unanswered{fill:#c52424}.rtt{fill:none;stroke:#2c9a4f;stroke-width:1.4}
.drop{stroke:#c52424;stroke-width:2}.drop-label{fill:#c52424;font-size:12px;font-weight:600}`;

/**
 * No script, no fetch (images, fonts, frames, forms), no base URL; style only the one <style> below. Inline
 * SVG is part of the document, so it needs nothing more; the page uses no style attributes.
 */
export const CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'`,
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** One section of the report: an LFTP transfer (its model), or a chat session (its view). */
export type ReportItem =
  | { traces: QlogTrace[]; model: TransferModel; session?: undefined }
  | { traces: QlogTrace[]; model: null; session: SessionView };

export function reportHtml(groups: ReportItem[]): string {
  const body = groups
    .map((g, i) => (g.model ? section(g.traces, g.model, i + 1) : chatSection(g.traces[0]!, g.session, i + 1)))
    .join('\n');
  const transfers = groups.filter((g) => g.model).length;
  const sessions = groups.length - transfers;
  const id = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(CSP)}">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="generator" content="chat-client trace report"><title>Trace report</title><style>${CSS}</style></head>
<body><h1>Trace report</h1>
<p class="muted">${transfers} LFTP transfer${transfers === 1 ? '' : 's'}, ${sessions} chat session${sessions === 1 ? '' : 's'}; report ${id}. Sequence numbers are relative to each side's initial sequence number (the absolute ones in brackets), as Wireshark shows TCP's.</p>
${body}
</body></html>
`;
}

function section(traces: QlogTrace[], m: TransferModel, n: number): string {
  const files = traces
    .map((t) => `${esc(t.side)}: ${esc(t.file)}${t.truncated ? ' (its last record was cut short and left out)' : ''}`)
    .join('<br>');
  return `<section class="transfer" id="transfer-${n}">
<h2>${n}. ${esc(m.title)}</h2>
<p class="muted">${files}</p>
<h3>Summary</h3>
${summary(m)}
<h3>Handshake and teardown</h3>
${oneSide(m)}${ladderSvg(m)}
<h3>Time-sequence graph (the data sender's view)</h3>
${timeSequenceSvg(m)}
<h3>Congestion window, ssthresh, packets in flight and RTT</h3>
${congestionSvg(m)}
<h3>Pacing rate and bandwidth estimate (BBR)</h3>
${pacingSvg(m)}
</section>`;
}

/** With one side's trace, what it sent may or may not have arrived: said, as the ladder draws it. */
function oneSide(m: TransferModel): string {
  if (m.neverReceived !== null) return '';
  const given = m.sides[0] ?? 'client';
  return `<p class="muted">Only the ${esc(given)}'s trace: whether what it sent arrived is unknown (dotted arrows ending in ?). Give both sides' traces to see what was lost.</p>\n`;
}

function chatSection(t: QlogTrace, v: SessionView, n: number): string {
  const rows = sessionSummary(v);
  return `<section class="session" id="session-${n}">
<h2>${n}. ${esc(t.title)}</h2>
<p class="muted">${esc(t.file)}${t.truncated ? ' (its last record was cut short and left out)' : ''}</p>
<h3>Summary</h3>
<table class="summary">${rows.map(([k, val]) => `<tr><th>${esc(k)}</th><td>${esc(val)}</td></tr>`).join('')}</table>
<h3>Heartbeats (▲ sent, red: never answered; the shaded band is an unanswered heartbeat's timeout window)</h3>
${heartbeatSvg(v)}
</section>`;
}

function summary(m: TransferModel): string {
  const r = m.rtt;
  const ms = (v: number) => (Number.isNaN(v) ? '—' : v.toFixed(2));
  const rows: Array<[string, string]> = [
    [
      'outcome',
      m.done
        ? `complete, ${formatBytes(m.done.size)}, sha256 ${m.done.sha256.slice(0, 16)}…`
        : m.failed
          ? `failed: ${m.failed.code}: ${m.failed.message}`
          : 'not finished in these traces',
    ],
    [
      'goodput',
      m.done && m.done.elapsedMs > 0
        ? `${formatBytes(m.done.size / (m.done.elapsedMs / 1000))}/s over ${(m.done.elapsedMs / 1000).toFixed(3)} s`
        : '—',
    ],
    ['data sender', m.dataSender ?? 'not in these traces'],
    ...m.sides.map((s) => [`datagrams the ${s} sent`, `${m.sent[s].all} (${m.sent[s].data} data)`] as [string, string]),
    ['retransmissions', String(m.retransmissions)],
    ['packets declared lost', String(m.losses)],
    [
      'datagrams sent and never received',
      m.neverReceived !== null ? String(m.neverReceived) : "needs both sides' traces",
    ],
    ['RTO fires', String(m.rtoFires)],
    [
      'RTT min / avg / p99 (ms)',
      `${r.count ? ms(r.min) : '—'} / ${ms(r.mean())} / ${ms(r.quantile(0.99))} (${r.count} samples)`,
    ],
    ['congestion phases', m.phases.join(', ') || '—'],
    ...(m.clockOffset
      ? [
          [
            'clocks',
            `the server's times moved ${m.clockOffset > 0 ? 'later' : 'earlier'} by ${Math.abs(m.clockOffset).toFixed(1)} ms: on the clocks as traced, datagrams arrived before they were sent`,
          ] as [string, string],
        ]
      : []),
    ...(m.malformed ? [['malformed events left out', String(m.malformed)] as [string, string]] : []),
  ];
  return `<table class="summary">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
}
