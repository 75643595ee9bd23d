/**
 * A worker's client group: the TCP listener it shares with the other workers
 * through reusePort, the connections the kernel hands it, and the ticker that
 * drives heartbeats and publishes statistics.
 */
import net from 'node:net';
import { BroadcastChannel } from 'node:worker_threads';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { encodeMessage, errorMessage, type ServerMessage, type WhoEntry } from '../../common/protocol.js';
import { ClientConnection, type ConnectionHost, type ConnectionLimits, type WorkerTotals } from '../chat/connection.js';
import { LoopStallMeter } from '../chat/heartbeat.js';
import { TcpTransport, WebSocketTransport } from '../chat/transport.js';
import { TurnBatcher } from '../chat/turn-batcher.js';
import { WebServer, type WebHost } from '../web/web-server.js';
import { AdminAuth } from '../web/admin-auth.js';
import { AdminHub, sessionRow, type AdminSnapshot } from '../web/admin-hub.js';
import { TransferMonitor } from '../web/transfer-monitor.js';
import { neutralizeControls } from '../../common/text.js';
import type { WebSocket } from 'ws';
import { SessionTable, type SlotRef } from '../shm/session-table.js';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TicketTable } from '../shm/ticket-table.js';
import { LftpServer } from '../files/lftp-server.js';
import { LftpError } from '../../common/lftp/engine/errors.js';
import { MAX_MSS } from '../../common/lftp/engine/packet.js';
import { resolveForRead, resolveForWrite } from '../../common/lftp/node/names.js';
import { formatBytes } from '../../common/units.js';
import type { FileEntry, TransferOp } from '../../common/protocol.js';
import type { Logger } from '../logger.js';
import type { BusMessage, WorkerConfig } from './thread-messages.js';

/** Ticks often enough to drop a peer within a small fraction of the interval after its deadline. */
export function tickPeriodFor(intervalMs: number): number {
  return Math.max(10, Math.min(100, Math.floor(intervalMs / 10)));
}

/** Frames from the bus arrive as Uint8Array (structured clone); a view, not a copy. */
function asBuffer(frame: Uint8Array): Buffer {
  return Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
}

/** Connections that have not said HELLO yet, beyond --max-clients, are refused at once. */
const PRE_HELLO_ALLOWANCE = 256;

/** How often live LFTP transfers are sampled for the dashboard's charts. */
const TRANSFER_SAMPLE_MS = 200;

export class ChatWorker implements ConnectionHost, WebHost {
  readonly workerIndex: number;
  readonly table: SessionTable;
  readonly limits: ConnectionLimits & { maxClients: number };
  readonly serverName: string;
  readonly totals: WorkerTotals = { msgsIn: 0, bytesIn: 0, bytesOut: 0, framesOut: 0 };
  private readonly connections = new Set<ClientConnection>();
  /** Active sessions on this worker by slot. */
  private readonly sessions = new Map<number, ClientConnection>();
  private readonly server: net.Server;
  private readonly bus: BroadcastChannel;
  private readonly stall: LoopStallMeter;
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  private ticker: NodeJS.Timeout | null = null;
  readonly tickets: TicketTable;
  private lftp: LftpServer | null = null;
  private lftpPortBound = 0;
  private statsAt = 0;
  private transfersAt = 0;
  private closingNow = false;
  private web: WebServer | null = null;
  private readonly monitor: TransferMonitor;
  /** This turn's frames per client leave together at its end. */
  private readonly batcher = new TurnBatcher();
  private rates = { at: 0, msgs: 0, frames: 0, msgsPerSec: 0, deliveriesPerSec: 0 };

  constructor(
    private readonly config: WorkerConfig,
    readonly log: Logger,
    private readonly notify: (text: string) => void,
  ) {
    this.workerIndex = config.index;
    this.table = new SessionTable(config.tableBuffer);
    this.limits = config.limits;
    this.serverName = config.serverName;
    this.bus = new BroadcastChannel(config.busName);
    this.bus.onmessage = (ev) => this.onBus((ev as { data: BusMessage }).data);
    this.server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.stall = new LoopStallMeter(tickPeriodFor(this.limits.intervalMs), Date.now());
    this.tickets = new TicketTable(config.ticketBuffer);
    this.monitor = new TransferMonitor(config.index);
  }

  get closing(): boolean {
    return this.closingNow;
  }
  get filesDir(): string {
    return this.config.filesDir;
  }
  get maxFileSize(): number {
    return this.config.maxFileSize;
  }

  get lftpPort(): number {
    return this.lftpPortBound;
  }

  /** The LFTP endpoint on the shared UDP port: tickets from the shared table authorise it. */
  private async startLftp(host: string, port: number): Promise<number> {
    const c = this.config;
    this.lftp = new LftpServer({
      host,
      port,
      filesDir: c.filesDir,
      maxTransfers: c.maxTransfers,
      maxQueued: 64,
      maxMss: MAX_MSS,
      maxFileSize: c.maxFileSize,
      idleTimeoutMs: 30_000,
      receiveCapacity: 2048,
      maxWindow: 2048,
      congestion: c.congestion,
      reusePort: true,
      authorize: ({ op, name, auth }) => {
        if (auth === undefined) return { allow: false, code: 'AUTH', message: 'a ticket is required: ask for one over the chat session (/get, /post)' };
        const r = this.tickets.consume(auth, op, name, Date.now());
        return r.ok ? { allow: true, owner: r.nick } : { allow: false, code: 'AUTH', message: r.reason };
      },
      print: (line) => this.notify(line),
      log: this.log.child({ component: 'lftp' }),
      verbose: false,
      onStored: ({ name, size, owner }) => this.stored({ name, size, nick: owner ?? '?' }),
    });
    try {
      return await this.lftp.start();
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw Object.assign(new Error(e.code === 'EADDRINUSE' ? `port ${port} is already in use (LFTP; choose another with --lftp-port)` : `cannot bind LFTP udp ${host}:${port}: ${e.message}`), {
        code: e.code,
      });
    }
  }

  /** A file arrived (LFTP or HTTP): the room hears about it. */
  stored({ name, size, nick }: { name: string; size: number; nick: string }): void {
    this.notify(`* ${nick} shared ${name} (${formatBytes(size)})`);
    this.broadcast(encodeMessage({ type: 'NOTICE', event: 'shared', nick, name, size }));
  }

  async listFiles(): Promise<ServerMessage> {
    const dir = this.config.filesDir;
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => !n.startsWith('.')).sort();
    const files: FileEntry[] = [];
    for (const name of names) {
      const st = await stat(join(dir, name)).catch(() => null);
      if (st?.isFile()) files.push({ name, size: st.size, mtimeMs: Math.round(st.mtimeMs) });
    }
    const shown: FileEntry[] = [];
    let budget = this.limits.maxFrame - 128;
    for (const f of files) {
      budget -= JSON.stringify(f).length + 1;
      if (budget < 0) break;
      shown.push(f);
    }
    return { type: 'FILES_REPLY', files: shown, total: files.length };
  }

  async issueTicket(id: number, op: TransferOp, rawName: string, size: number | undefined, nick: string): Promise<ServerMessage> {
    const fail = (code: string, message: string): ServerMessage => ({ type: 'TICKET', id, ok: false, op, name: rawName, code, message });
    try {
      let name: string;
      let fileSize: number;
      if (op === 'get') {
        ({ name, size: fileSize } = await resolveForRead(this.config.filesDir, rawName));
      } else {
        if (size === undefined || !Number.isSafeInteger(size) || size < 0) return fail('BAD_REQUEST', 'post needs the file size');
        if (size > this.config.maxFileSize) return fail('TOO_LARGE', `${formatBytes(size)} is over the limit of ${formatBytes(this.config.maxFileSize)}`);
        ({ name } = await resolveForWrite(this.config.filesDir, rawName));
        fileSize = size;
      }
      const t = this.tickets.issue(op, name, nick, Date.now());
      if (!t) return fail('BUSY', 'too many tickets outstanding; try again in a minute');
      this.log.info({ op, file: name, nick }, 'ticket issued');
      return { type: 'TICKET', id, ok: true, op, name, ticket: t.ticket, port: this.lftpPortBound, size: fileSize };
    } catch (err) {
      if (err instanceof LftpError) return fail(err.code, err.message);
      return fail('IO_ERROR', (err as Error).message);
    }
  }

  /** TCP first; then LFTP on `lftpPort` (-1: the TCP port's number); then the web side, if any. */
  async listen(host: string, port: number, lftpPort: number, httpPort: number | null): Promise<{ port: number; lftpPort: number; httpPort: number | null }> {
    const tcp = await this.listenTcp(host, port);
    let httpBound: number | null = null;
    try {
      this.lftpPortBound = await this.startLftp(host, lftpPort === -1 ? tcp : lftpPort);
      if (httpPort !== null) httpBound = await this.startWeb(host, httpPort);
    } catch (err) {
      this.server.close();
      await this.lftp?.close();
      throw err;
    }
    return { port: tcp, lftpPort: this.lftpPortBound, httpPort: httpBound };
  }

  private async startWeb(host: string, port: number): Promise<number> {
    const c = this.config;
    const log = this.log.child({ component: 'web' });
    const admin =
      c.adminToken === null
        ? null
        : { auth: new AdminAuth(c.adminToken, c.adminSecret), hub: new AdminHub({ snapshot: (now) => this.adminSnapshot(now), broadcast: (t) => this.operatorBroadcast(t), kick: (n, r) => this.kickNick(n, r) }, log) };
    this.web = new WebServer({ maxFrame: this.limits.maxFrame, maxConnections: this.limits.maxClients + PRE_HELLO_ALLOWANCE, admin }, this, log);
    try {
      return await this.web.listen(host, port);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw Object.assign(new Error(e.code === 'EADDRINUSE' ? `port ${port} is already in use (web; choose another with --http-port or turn it off with --no-web)` : `cannot listen for http on ${host}:${port}: ${e.message}`), {
        code: e.code,
      });
    }
  }

  // ---- WebHost ---------------------------------------------------------------

  canAcceptSession(): boolean {
    return !this.closingNow && this.connections.size < this.limits.maxClients + PRE_HELLO_ALLOWANCE;
  }

  acceptChatSocket(ws: WebSocket, socket: net.Socket): void {
    this.connections.add(new ClientConnection(new WebSocketTransport(ws, socket, this.limits.maxFrame, this.batcher), this));
  }

  // ---- dashboard ---------------------------------------------------------------

  private adminSnapshot(now: number): AdminSnapshot {
    const t = this.table;
    const workers = Array.from({ length: this.config.workers }, (_, index) => ({
      index,
      clients: t.workerStat(index, 'CLIENTS'),
      loopLagMs: t.workerStat(index, 'LOOP_LAG_MS'),
    }));
    const sessions = t
      .snapshot()
      .sort((a, b) => a.nick.localeCompare(b.nick))
      .slice(0, 1000)
      .map((s) => sessionRow(s, now));
    return {
      type: 'snapshot',
      now,
      server: this.serverName,
      workers,
      msgsPerSec: this.rates.msgsPerSec,
      deliveriesPerSec: this.rates.deliveriesPerSec,
      sessions,
      transfers: this.monitor.all(now),
    };
  }

  /** A broadcast typed on the dashboard: the same as one typed on the server's stdin. */
  private operatorBroadcast(raw: string): void {
    const text = neutralizeControls(raw);
    this.broadcast(encodeMessage({ type: 'BROADCAST', text, ts: Date.now() }));
    this.notify(`[server] ${text} (from the dashboard)`);
  }

  private kickNick(nick: string, reason: string): string | null {
    const target = this.table.lookup(nick);
    if (!target) return null;
    const why = neutralizeControls(reason);
    if (target.owner === this.workerIndex) this.sessions.get(target.slot)?.kick(why);
    else this.post({ k: 'kick', slot: target.slot, generation: target.generation, reason: why });
    return target.nick;
  }

  private listenTcp(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port, reusePort: true, backlog: 1024 }, () => {
        this.server.off('error', reject);
        this.server.on('error', (err) => this.log.error({ err }, 'listener error'));
        const addr = this.server.address() as net.AddressInfo;
        this.startTicker();
        resolve(addr.port);
      });
    });
  }

  // ---- ConnectionHost -------------------------------------------------------

  wallNow(): number {
    // Sub-millisecond, so loopback RTTs are not all "0ms".
    return performance.timeOrigin + performance.now();
  }
  awakeNow(): number {
    return this.stall.awake(Date.now());
  }
  broadcast(frame: Buffer): void {
    this.deliverLocal(frame);
    this.post({ k: 'room', frame });
  }
  sendDirect(target: SlotRef & { owner: number }, frame: Buffer): void {
    if (target.owner === this.workerIndex) this.deliverDirect(target, frame);
    else this.post({ k: 'direct', slot: target.slot, generation: target.generation, frame });
  }

  registered(conn: ClientConnection): void {
    if (conn.ref) this.sessions.set(conn.ref.slot, conn);
  }
  unregistered(conn: ClientConnection): void {
    this.connections.delete(conn);
    if (conn.ref && this.sessions.get(conn.ref.slot) === conn) this.sessions.delete(conn.ref.slot);
  }
  event(text: string): void {
    this.notify(text);
  }
  whoReply(): ServerMessage {
    const now = Date.now();
    const all = this.table.snapshot().sort((a, b) => a.nick.localeCompare(b.nick));
    const users: WhoEntry[] = [];
    // Keep the reply inside one frame: a very large room gets the first entries and the total.
    let budget = this.limits.maxFrame - 128;
    for (const s of all) {
      const entry: WhoEntry = { nick: s.nick, idleMs: Math.max(0, now - s.lastActive), rttMs: s.rttMs };
      budget -= JSON.stringify(entry).length + 1;
      if (budget < 0) break;
      users.push(entry);
    }
    return { type: 'WHO_REPLY', users, total: all.length };
  }

  // ---- internals -------------------------------------------------------------

  private accept(socket: net.Socket): void {
    if (!this.canAcceptSession()) {
      socket.end(encodeMessage(errorMessage(this.closingNow ? 'SHUTTING_DOWN' : 'SERVER_FULL', this.closingNow ? 'the server is shutting down' : 'the server is full, try again later', true)));
      socket.on('error', () => socket.destroy());
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    this.connections.add(new ClientConnection(new TcpTransport(socket, this.limits.maxFrame, this.batcher), this));
  }

  private post(msg: BusMessage): void {
    this.bus.postMessage(msg);
  }

  private deliverLocal(frame: Uint8Array): void {
    const buf = asBuffer(frame);
    for (const conn of this.sessions.values()) conn.send(buf);
  }

  private deliverDirect(target: SlotRef, frame: Uint8Array): void {
    const conn = this.sessions.get(target.slot);
    if (conn?.ref?.generation === target.generation) conn.send(asBuffer(frame));
  }

  private onBus(msg: BusMessage): void {
    switch (msg.k) {
      case 'room':
        this.deliverLocal(msg.frame);
        return;
      case 'direct':
        this.deliverDirect(msg, msg.frame);
        return;
      case 'kick': {
        const conn = this.sessions.get(msg.slot);
        if (conn?.ref?.generation === msg.generation) conn.kick(msg.reason);
        return;
      }
      case 'transfers':
        this.monitor.received(msg.worker, msg.transfers, Date.now());
        return;
    }
  }

  private startTicker(): void {
    const period = tickPeriodFor(this.limits.intervalMs);
    this.loopDelay.enable();
    this.stall.tick(Date.now());
    this.ticker = setInterval(() => {
      const now = Date.now();
      const awake = this.stall.tick(now);
      // Read what arrived during a stall before judging anyone: deadlines are checked after the poll phase.
      setImmediate(() => {
        for (const conn of [...this.connections]) conn.tick(awake, now);
        this.publishStats(now);
      });
    }, period);
  }

  private publishStats(now: number): void {
    const t = this.table;
    const w = this.workerIndex;
    t.addWorkerStat(w, 'MSGS_IN', this.totals.msgsIn);
    t.addWorkerStat(w, 'BYTES_IN', this.totals.bytesIn);
    t.addWorkerStat(w, 'BYTES_OUT', this.totals.bytesOut);
    t.addWorkerStat(w, 'FRAMES_OUT', this.totals.framesOut);
    this.totals.msgsIn = this.totals.bytesIn = this.totals.bytesOut = this.totals.framesOut = 0;
    t.setWorkerStat(w, 'CLIENTS', this.sessions.size);
    t.setWorkerStat(w, 'LAG_CREDIT_MS', this.stall.totalStallMs);
    if (this.lftp && now - this.transfersAt >= TRANSFER_SAMPLE_MS) {
      this.transfersAt = now;
      const views = this.monitor.sample(this.lftp.transfers(), now);
      if (views) this.post({ k: 'transfers', worker: w, transfers: views });
    }
    if (now - this.statsAt >= 1000) {
      this.sampleRates(now);
      this.statsAt = now;
      const lagMs = Math.max(this.stall.takeMaxLate(), this.loopDelay.max / 1e6);
      t.setWorkerStat(w, 'LOOP_LAG_MS', lagMs);
      this.loopDelay.reset();
      if (lagMs > this.limits.intervalMs) this.log.warn({ lagMs }, 'event loop stalled longer than the heartbeat interval; deadlines extended');
    }
  }

  /** Server-wide messages and deliveries per second, from the shared per-worker counters. */
  private sampleRates(now: number): void {
    let msgs = 0;
    let frames = 0;
    for (let i = 0; i < this.config.workers; i++) {
      msgs += this.table.workerStat(i, 'MSGS_IN');
      frames += this.table.workerStat(i, 'FRAMES_OUT');
    }
    const r = this.rates;
    const secs = (now - r.at) / 1000;
    if (r.at > 0 && secs > 0) {
      r.msgsPerSec = Math.max(0, Math.round((msgs - r.msgs) / secs));
      r.deliveriesPerSec = Math.max(0, Math.round((frames - r.frames) / secs));
    }
    Object.assign(r, { at: now, msgs, frames });
  }

  /** Says goodbye to every client, waits (bounded) for their sockets to close. */
  async shutdown(reason: string, graceMs = 3_000): Promise<void> {
    this.closingNow = true;
    if (this.ticker) clearInterval(this.ticker);
    this.server.close();
    const sockets = [...this.connections].map((c) => c.socket);
    for (const conn of [...this.connections]) conn.shutdown(reason);
    await Promise.race([
      Promise.all(sockets.map((s) => (s.closed ? Promise.resolve() : new Promise<void>((r) => s.once('close', () => r()))))),
      new Promise<void>((r) => setTimeout(r, graceMs).unref()),
    ]);
    for (const s of sockets) s.destroy();
    await this.web?.close();
    await this.lftp?.close();
    this.publishStats(Date.now());
    this.bus.close();
  }

  /** For /kill-worker --hold-lock: dies with the table lock held, to show the supervisor's repair. */
  takeLockForever(): void {
    this.table.mutex.lock();
  }
}
