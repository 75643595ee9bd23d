/**
 * The operator dashboard's live feed: each dashboard is a WebSocket that gets
 * a JSON snapshot every second (sessions, rates, transfers with their cwnd /
 * ssthresh / RTT history) and may send two commands, broadcast and kick.
 * The messages are documented in docs/PROTOCOL.md ("Operator dashboard").
 */
import type { WebSocket } from 'ws';
import type { SessionInfo } from '../shm/session-table.js';
import type { Logger } from '../logger.js';
import type { AdminResult, AdminSnapshot, SessionRow } from '../../common/dashboard.js';
import { clipChars } from '../../common/unicode/text-policy.js';

export type { AdminSnapshot } from '../../common/dashboard.js';

export interface AdminActions {
  snapshot(now: number): AdminSnapshot;
  broadcast(text: string): void;
  /** The exact nick kicked, or null when nobody has that nick. */
  kick(nick: string, reason: string): Promise<string | null>;
}

/** Largest command a dashboard may send (the socket's maxPayload enforces it). */
export const ADMIN_MAX_PAYLOAD = 8 * 1024;
const SNAPSHOT_MS = 1_000;

export function sessionRow(s: SessionInfo, now: number): SessionRow {
  return {
    nick: s.nick,
    transport: s.transport,
    worker: s.owner,
    address: s.address.includes(':') ? `[${s.address}]:${s.port}` : `${s.address}:${s.port}`,
    rttMs: s.away ? null : s.rttMs,
    idleMs: Math.max(0, now - s.lastActive),
    connectedMs: Math.max(0, now - s.connectedAt),
    msgsIn: s.msgsIn,
    ...(s.away ? { away: true as const } : {}),
    ...(s.node !== undefined ? { node: s.node } : {}),
  };
}

export class AdminHub {
  private readonly sockets = new Set<WebSocket>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly actions: AdminActions,
    private readonly log: Logger,
  ) {}

  get watchers(): number {
    return this.sockets.size;
  }

  add(ws: WebSocket, remote: string): void {
    this.sockets.add(ws);
    this.log.info({ remote }, 'dashboard connected');
    ws.on('message', (data: Buffer, isBinary: boolean) => this.command(ws, data, isBinary, remote));
    ws.on('close', () => {
      this.sockets.delete(ws);
      if (this.sockets.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    });
    ws.on('error', () => ws.terminate());
    this.push([ws]);
    this.timer ??= setInterval(() => this.push([...this.sockets]), SNAPSHOT_MS);
  }

  /** One snapshot (a walk of the session table) per tick, however many dashboards watch. */
  private push(sockets: WebSocket[]): void {
    // A dashboard that does not keep up gets fewer snapshots, not a growing queue.
    const ready = sockets.filter((ws) => ws.readyState === ws.OPEN && ws.bufferedAmount <= 1 << 20);
    if (ready.length === 0) return;
    const text = JSON.stringify(this.actions.snapshot(Date.now()));
    for (const ws of ready) ws.send(text);
  }

  private reply(ws: WebSocket, ok: boolean, message: string): void {
    const result: AdminResult = { type: 'result', ok, message };
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(result));
  }

  private command(ws: WebSocket, data: Buffer, isBinary: boolean, remote: string): void {
    let msg: unknown;
    try {
      msg = isBinary ? null : JSON.parse(data.toString('utf8'));
    } catch {
      msg = null;
    }
    const m = msg as { type?: unknown; text?: unknown; nick?: unknown; reason?: unknown } | null;
    if (m?.type === 'broadcast' && typeof m.text === 'string') {
      const text = m.text.trim();
      if (text === '' || Buffer.byteLength(text) > 4096) {
        this.reply(ws, false, 'a broadcast is 1 to 4096 bytes of text');
        return;
      }
      this.log.info({ remote, text }, 'dashboard broadcast');
      this.actions.broadcast(text);
      this.reply(ws, true, 'broadcast sent');
      return;
    }
    if (m?.type === 'kick' && typeof m.nick === 'string' && (m.reason === undefined || typeof m.reason === 'string')) {
      const nick = m.nick;
      void this.actions.kick(nick, clipChars(m.reason ?? 'by the operator', 200)).then((kicked) => {
        this.log.info({ remote, nick, kicked }, 'dashboard kick');
        this.reply(ws, kicked !== null, kicked !== null ? `${kicked} kicked` : `no user named ${clipChars(nick, 40)}`);
      });
      return;
    }
    this.reply(ws, false, 'unknown command: send {"type":"broadcast","text"} or {"type":"kick","nick","reason"?}');
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    for (const s of this.sockets) s.close(1001, 'server shutting down');
  }
}
