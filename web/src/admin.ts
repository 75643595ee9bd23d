/**
 * The operator dashboard: a WebSocket to /admin/ws (authorised by the cookie
 * the /admin page set) that brings a JSON snapshot every second, and carries
 * broadcast and kick commands back. Reconnects on its own.
 */
import { byId, el, formatBytes, formatDuration, setText } from './dom.js';
import { PHASE_COLORS, SEQUENCE_SERIES, SERIES, drawChart, drawSequence, mbit, rttSparkline } from './chart.js';
import type { AdminCommand, AdminResult as Result, AdminSnapshot as Snapshot } from '../../common/dashboard.js';

/** Snapshots (seconds) of heartbeat RTT a session's sparkline shows. */
const RTT_HISTORY = 60;

class Dashboard {
  private ws: WebSocket | null = null;
  /** Transfer cards by id, kept across snapshots so canvases are not rebuilt every second. */
  private readonly cards = new Map<
    string,
    {
      root: HTMLElement;
      head: HTMLElement;
      bar: HTMLProgressElement;
      canvas: HTMLCanvasElement;
      seq: HTMLCanvasElement;
    }
  >();
  /** Each session's last heartbeat RTTs, one per snapshot. */
  private readonly rtts = new Map<string, number[]>();

  constructor() {
    byId<HTMLFormElement>('broadcast-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const input = byId<HTMLInputElement>('broadcast');
      const text = input.value.trim();
      if (!text) return;
      this.send({ type: 'broadcast', text });
      input.value = '';
    });
    this.connect();
  }

  private connect(): void {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/admin/ws`);
    this.ws = ws;
    ws.onopen = () => this.setStatus('live', 'on');
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      const msg = JSON.parse(ev.data) as Snapshot | Result;
      if (msg.type === 'snapshot') this.render(msg);
      else this.result(msg);
    };
    ws.onclose = () => {
      this.ws = null;
      this.setStatus('disconnected: retrying', 'off');
      window.setTimeout(() => this.connect(), 2000);
    };
  }

  private send(cmd: AdminCommand): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(cmd));
    else this.result({ type: 'result', ok: false, message: 'not connected' });
  }

  private setStatus(text: string, state: 'on' | 'off'): void {
    const s = byId('status');
    s.textContent = text;
    s.className = `pill ${state}`;
  }

  private result(r: Result): void {
    const p = byId('result');
    setText(p, r.message);
    p.className = `small ${r.ok ? 'muted' : 'error'}`;
  }

  private render(s: Snapshot): void {
    byId('server').textContent = s.server;
    // A standalone LFTP server has no chat: nobody to broadcast to.
    byId<HTMLFormElement>('broadcast-form').hidden = s.workers.length === 0;
    byId('stat-sessions').textContent = String(s.sessionsTotal ?? s.sessions.length);
    byId('stat-msgs').textContent = String(s.msgsPerSec);
    byId('stat-frames').textContent = String(s.deliveriesPerSec);
    byId('stat-transfers').textContent = String(s.transfers.filter((t) => !t.finished).length);
    byId('workers').textContent = s.workers
      .map((w) => `worker ${w.index}: ${w.clients} client${w.clients === 1 ? '' : 's'}, loop lag ${w.loopLagMs} ms`)
      .join(' · ');
    this.renderSessions(s.sessions);
    this.renderTransfers(s.transfers);
  }

  private renderSessions(sessions: Snapshot['sessions']): void {
    const rows = sessions.map((u) => {
      const kick = el('button', { type: 'button', class: 'inline danger', title: `disconnect ${u.nick}` }, 'Kick');
      kick.addEventListener('click', () => {
        if (window.confirm(`Kick ${u.nick}?`)) this.send({ type: 'kick', nick: u.nick, reason: 'by the operator' });
      });
      return el(
        'tr',
        { 'data-nick': u.nick },
        el('td', {}, u.nick),
        el('td', {}, el('span', { class: `tag ${u.transport}` }, u.transport)),
        el('td', { class: 'num' }, u.away ? 'away' : u.node !== undefined ? `node ${u.node}` : String(u.worker)),
        el('td', {}, u.address),
        el('td', { class: 'num' }, u.rttMs === null ? '–' : `${u.rttMs.toFixed(1)} ms`),
        el('td', {}, this.rttCell(u.nick, u.rttMs)),
        el('td', { class: 'num' }, formatDuration(u.idleMs)),
        el('td', { class: 'num' }, formatDuration(u.connectedMs)),
        el('td', { class: 'num' }, String(u.msgsIn)),
        el('td', {}, kick),
      );
    });
    byId('sessions').replaceChildren(
      ...(rows.length ? rows : [el('tr', {}, el('td', { class: 'muted', colspan: '10' }, 'nobody connected'))]),
    );
    for (const nick of this.rtts.keys()) if (!sessions.some((u) => u.nick === nick)) this.rtts.delete(nick);
  }

  /** The session's heartbeat RTT over the last RTT_HISTORY snapshots (one a second), kept here: the server sends the latest only. */
  private rttCell(nick: string, rtt: number | null): SVGSVGElement | string {
    const list = this.rtts.get(nick) ?? [];
    if (rtt !== null) list.push(rtt);
    if (list.length > RTT_HISTORY) list.shift();
    this.rtts.set(nick, list);
    return list.length > 1 ? rttSparkline(list) : '';
  }

  private renderTransfers(transfers: Snapshot['transfers']): void {
    const box = byId('transfers');
    const seen = new Set<string>();
    for (const t of transfers) {
      seen.add(t.id);
      let card = this.cards.get(t.id);
      if (!card) {
        card = transferCard(t);
        this.cards.set(t.id, card);
      }
      const pct = t.size > 0 ? Math.floor((100 * t.bytes) / t.size) : 100;
      const last = t.points.at(-1);
      const second = t.congestion === 'bbr' ? 'BDP' : 'ssthresh';
      const pacing = last && (last[7] ?? -1) >= 0 ? `pacing ${mbit(last[7]!)}, ` : '';
      const phase = last?.[8] ? ` ${last[8]},` : '';
      const now = last
        ? `${t.serverSends ? `${t.congestion}:${phase} ${pacing}cwnd ${last[1]}, ${second} ${last[2]}, ` : ''}rtt ${last[3] >= 0 ? `${last[3]} ms` : '–'}`
        : '';
      const state = t.finished ? (t.succeeded ? 'done' : `ended (${t.state})`) : t.state;
      setText(
        card.head,
        `${t.op} ${t.name} · ${t.owner ?? t.remote} · worker ${t.worker} · ${formatBytes(t.bytes)} of ${formatBytes(t.size)} (${pct}%) · ${state} · ${now}`,
      );
      card.bar.max = Math.max(1, t.size);
      card.bar.value = t.bytes;
      box.append(card.root); // keeps the server's order
      drawChart(card.canvas, t.points, t.serverSends);
      drawSequence(card.seq, t.points, t.size);
    }
    for (const [id, card] of this.cards) {
      if (!seen.has(id)) {
        card.root.remove();
        this.cards.delete(id);
      }
    }
    const empty = box.querySelector('p.muted');
    if (transfers.length === 0 && !empty) box.replaceChildren(el('p', { class: 'muted' }, 'no transfers'));
    else if (transfers.length > 0) empty?.remove();
  }
}

/** A transfer's card: its head line, progress bar, congestion chart with legends, and sequence chart. */
function transferCard(t: Snapshot['transfers'][number]) {
  const head = el('div', { class: 'small' });
  const bar = el('progress', { max: '1', value: '0' });
  const canvas = el('canvas', { class: 'cc', 'aria-label': `cwnd, ssthresh and RTT of ${t.name}` });
  const seq = el('canvas', {
    class: 'seq',
    'aria-label': `bytes delivered and sent of ${t.name}, losses marked`,
  });
  const seqLegend = el(
    'div',
    { class: 'legend' },
    ...SEQUENCE_SERIES.map((x) => {
      const swatch = el('i');
      swatch.style.background = x.color;
      return el('span', {}, swatch, x.label);
    }),
  );
  const legend = el(
    'div',
    { class: 'legend' },
    ...SERIES.filter((x) => (t.serverSends && (x.key !== 'pacing' || t.congestion === 'bbr')) || x.key === 'rtt').map(
      (x) => {
        const swatch = el('i');
        swatch.style.background = x.color; // CSSOM, not a style attribute: the CSP forbids inline styles
        return el(
          'span',
          {},
          swatch,
          x.key === 'ssthresh' && t.congestion === 'bbr' ? 'BDP estimate (packets)' : x.label,
        );
      },
    ),
  );
  const phases = el(
    'div',
    { class: 'legend phases' },
    'phases (the strip under the chart): ',
    ...Object.entries(PHASE_COLORS)
      .filter(([name]) => (t.congestion === 'reno') === ['slow_start', 'avoidance', 'recovery'].includes(name))
      .map(([name, color]) => {
        const swatch = el('i');
        swatch.style.background = color;
        return el('span', {}, swatch, name);
      }),
  );
  const root = el(
    'div',
    { class: 'xfer', 'data-transfer': t.id },
    head,
    bar,
    canvas,
    legend,
    ...(t.serverSends ? [phases] : []),
    seq,
    seqLegend,
  );
  return { root, head, bar, canvas, seq };
}

new Dashboard();
