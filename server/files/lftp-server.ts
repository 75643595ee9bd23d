/**
 * The LFTP server endpoint: one UDP socket, many transfers keyed by the
 * client's address, port and connection id. Requests are checked (name,
 * authorization, file) before any state is committed to them; at most
 * `maxTransfers` run at once (p-queue) and the rest wait in order, told their
 * place each time they ask.
 */
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { isIPv6 } from 'node:net';
import PQueue from 'p-queue';
import { decodePacket, encodePacket, Flag, HEADER_BYTES, type Packet } from '../../common/lftp/engine/packet.js';
import { ConnectionDriver, TraceWriter } from '../../common/lftp/node/driver.js';
import type { LftpConnection, Op, TransferEvent } from '../../common/lftp/engine/connection.js';
import { describeEvent } from '../../common/lftp/event-text.js';
import { ioFailure } from '../../common/lftp/node/io-failure.js';
import { LogBudget } from '../auth-throttle.js';
import { decodeSynRequest, encodeError } from '../../common/lftp/engine/payloads.js';
import { LftpError, type LftpErrorCode } from '../../common/lftp/engine/errors.js';
import { literalFirstLookup } from '../../common/lftp/node/address.js';
import { formatBytes } from '../../common/units.js';
import { LFTP_DEFAULTS } from '../../common/lftp/defaults.js';
import type { LftpServerOptions, TransferInfo } from './lftp-server-api.js';
import { transferInfo, type AdmittedRequest, type Entry } from './lftp-entry.js';
import { SynKeys } from './syn-keys.js';
import { readSealedHeader } from '../../common/lftp/protect/sealed-packet.js';
import { TransferProtection } from '../../common/lftp/protect/transfer-protection.js';

export type { AuthDecision, LftpAuthRequest, LftpServerOptions, TransferInfo } from './lftp-server-api.js';

/** A request that passed every check, with the file it names. */

const LINGER_MS = 5_000;
const BAD_PACKET_REPORT_MS = 10_000;

export class LftpServer {
  private socket: dgram.Socket | null = null;
  private readonly entries = new Map<string, Entry>();
  /** SYNs being checked (file system, authorization), so that their retransmissions are not checked twice. */
  private readonly pending = new Set<string>();
  private readonly waiting: Entry[] = [];
  /** Refusals are the attacker's to cause: logged within a budget per minute. */
  private readonly refusalLog = new LogBudget();
  private readonly queue: PQueue;
  private readonly trace: TraceWriter | undefined;
  readonly counters = { completed: 0, failed: 0, refused: 0, badPackets: 0, unknownConn: 0 };
  private badReported = 0;
  private badTimer: NodeJS.Timeout | null = null;
  private readonly keys: SynKeys;

  constructor(private readonly o: LftpServerOptions) {
    this.queue = new PQueue({ concurrency: o.maxTransfers });
    this.keys = new SynKeys(o.keying);
    this.trace = o.tracePath ? new TraceWriter(o.tracePath) : undefined;
  }

  start(): Promise<number> {
    const socket = dgram.createSocket({
      type: isIPv6(this.o.host) ? 'udp6' : 'udp4',
      reuseAddr: false,
      reusePort: this.o.reusePort,
      recvBufferSize: LFTP_DEFAULTS.socketBufferBytes,
      sendBufferSize: LFTP_DEFAULTS.socketBufferBytes,
      lookup: literalFirstLookup,
    });
    this.socket = socket;
    socket.on('message', (buf, rinfo) => this.onDatagram(buf, rinfo));
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: this.o.host, port: this.o.port }, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.o.log.error({ err }, 'lftp socket error'));
        this.badTimer = setInterval(() => this.reportBadPackets(), BAD_PACKET_REPORT_MS);
        this.badTimer.unref();
        resolve(socket.address().port);
      });
    });
  }

  /** Every transfer this endpoint knows: running, queued, and lingering after the end. */
  transfers(): TransferInfo[] {
    return [...this.entries.values()].map((e) => transferInfo(e, this.waiting.indexOf(e) + 1));
  }

  private onDatagram(buf: Buffer, rinfo: dgram.RemoteInfo): void {
    const sealed = readSealedHeader(buf);
    if (sealed) {
      const entry = this.entries.get(`${rinfo.address}|${rinfo.port}|${sealed.conn}`);
      if (entry?.started) entry.driver.inputSealed(buf);
      else this.counters.unknownConn++;
      return;
    }
    const p = decodePacket(buf);
    if (typeof p === 'string') {
      this.counters.badPackets++;
      this.o.log.debug({ remote: `${rinfo.address}:${rinfo.port}`, reason: p, bytes: buf.length }, 'dropped datagram');
      return;
    }
    const key = `${rinfo.address}|${rinfo.port}|${p.conn}`;
    const entry = this.entries.get(key);
    if (entry) {
      if (!entry.started) {
        if (p.flags & Flag.SYN) entry.driver.apply((c, now) => c.queued(this.waiting.indexOf(entry) + 1, p.seq, now));
        return;
      }
      entry.driver.input(p);
      return;
    }
    if (p.flags & Flag.SYN && !(p.flags & Flag.ACK)) {
      if (this.pending.has(key)) return;
      this.pending.add(key);
      void this.onSyn(key, p, rinfo).finally(() => this.pending.delete(key));
      return;
    }
    this.counters.unknownConn++;
    this.o.log.debug({ remote: `${rinfo.address}:${rinfo.port}`, conn: p.conn }, 'datagram for no known transfer');
  }

  private reportBadPackets(): void {
    const n = this.counters.badPackets + this.counters.unknownConn;
    if (n > this.badReported) {
      this.o.log.warn(
        { badPackets: this.counters.badPackets, unknownConn: this.counters.unknownConn },
        'lftp: datagrams dropped (corrupt, wrong version, or no such transfer)',
      );
      this.badReported = n;
    }
  }

  private refuse(p: Packet, rinfo: dgram.RemoteInfo, code: LftpErrorCode, message: string): void {
    this.counters.refused++;
    const budget = this.refusalLog.take(Date.now());
    if (budget)
      this.o.log.warn(
        {
          remote: `${rinfo.address}:${rinfo.port}`,
          code,
          ...(budget.suppressed ? { suppressed: budget.suppressed } : {}),
        },
        `lftp request refused: ${message}`,
      );
    const pkt = encodePacket({
      flags: Flag.ERR,
      conn: p.conn,
      seq: 0,
      ack: (p.seq + 1) >>> 0,
      window: 0,
      payload: encodeError(code, message),
    });
    this.socket?.send(pkt, rinfo.port, rinfo.address);
  }

  /** A new request: checked (payload, authorization, the file) before any state is kept for it; refused with ERR otherwise. */
  private async onSyn(key: string, p: Packet, rinfo: dgram.RemoteInfo): Promise<void> {
    const op: Op = p.flags & Flag.POST ? 'post' : 'get';
    // The spent ticket counts against its session until the transfer ends, or here, if it never starts.
    let ended: () => void = () => undefined;
    try {
      const req = decodeSynRequest(p.payload, this.o.maxMss);
      const size = typeof req.size === 'number' ? req.size : undefined;
      const master = await this.keys.check(
        req,
        { flags: p.flags, conn: p.conn, isn: p.seq, name: req.name, mss: req.mss, size },
        rinfo.address,
        Date.now(),
      );
      const decision = this.o.authorize({
        op,
        name: req.name,
        auth: req.auth,
        remote: `${rinfo.address}:${rinfo.port}`,
      });
      if (!decision.allow) throw new LftpError(decision.code, decision.message);
      if (decision.ended) ended = decision.ended;
      const file =
        op === 'get' ? await this.o.files.checkDownload(req.name) : await this.o.files.checkUpload(req.name, req.size);
      if (this.waiting.length >= this.o.maxQueued && this.queue.pending >= this.o.maxTransfers) {
        throw new LftpError(
          'BUSY',
          `server busy: ${this.queue.pending} transfers running and ${this.waiting.length} waiting`,
        );
      }
      const releaseQuota =
        op === 'post' && decision.owner !== undefined
          ? this.o.files.reserveUpload(decision.owner, file.size)
          : () => undefined;
      const protection = master ? TransferProtection.server(master, req.salt!, p.payload) : null;
      this.admit(key, p, rinfo, { op, ...file, mss: req.mss, owner: decision.owner, releaseQuota, ended }, protection);
    } catch (err) {
      ended();
      if (err instanceof LftpError) this.refuse(p, rinfo, err.code, err.message);
      else {
        const failure = ioFailure('cannot serve the request', err);
        this.refuse(p, rinfo, failure.code, failure.message);
      }
    }
  }

  private admit(
    key: string,
    syn: Packet,
    rinfo: dgram.RemoteInfo,
    req: AdmittedRequest,
    protection: TransferProtection | null,
  ): void {
    const { op, name, path, size, mss, owner, releaseQuota, ended } = req;
    let resolveFinished!: () => void;
    const finished = new Promise<void>((r) => (resolveFinished = r));
    const log = this.o.log.child({ transfer: key, op, file: name });
    const remote = { address: rinfo.address, port: rinfo.port };
    const entry: Entry = {
      key,
      remote,
      op,
      name,
      size,
      path,
      owner,
      releaseQuota,
      ended,
      started: false,
      finished,
      resolveFinished,
      log,
    } as Entry;
    entry.driver = new ConnectionDriver(
      {
        side: 'server',
        conn: syn.conn,
        isn: randomInt(0, 2 ** 32 - 1),
        request: { op, name, mss, size },
        receiveCapacity: this.o.receiveCapacity,
        maxWindow: this.o.maxWindow,
        congestion: this.o.congestion,
        idleTimeoutMs: this.o.idleTimeoutMs,
        handshakeTries: LFTP_DEFAULTS.handshakeTries,
        handshakeTimeoutMs: LFTP_DEFAULTS.serverHandshakeTimeoutMs,
        closeTries: LFTP_DEFAULTS.closeTries,
      },
      {
        sendRaw: (buf) => this.socket?.send(buf, remote.port, remote.address),
        event: (e, conn) => this.onEvent(entry, e, conn),
        ...(this.trace ? { trace: this.trace } : {}),
        ...(this.o.qlogDir
          ? { qlog: { dir: this.o.qlogDir, title: `lftp server: ${op} ${name} for ${remote.address}:${remote.port}` } }
          : {}),
      },
      protection,
    );
    // The SYN came before the transfer (and its trace) existed: it opens the trace.
    entry.driver.qlog?.packet('in', syn, entry.driver.conn);
    this.entries.set(key, entry);
    this.waiting.push(entry);
    if (this.queue.pending >= this.o.maxTransfers) {
      entry.driver.apply((c) => c.queued(this.waiting.length, syn.seq));
      log.info({ position: this.waiting.length }, 'queued');
    }
    void this.queue.add(async () => {
      const i = this.waiting.indexOf(entry);
      if (i >= 0) this.waiting.splice(i, 1);
      if (entry.driver.conn.finished) return; // gave up while waiting
      await this.begin(entry, syn, mss);
      await entry.finished;
    });
  }

  private async begin(entry: Entry, syn: Packet, mss: number): Promise<void> {
    const d = entry.driver;
    try {
      if (entry.op === 'get')
        entry.source = await d.openSource(
          entry.path,
          entry.size,
          this.o.maxWindow,
          entry.name,
          () => this.socket?.getSendQueueCount() === 0,
        );
      else entry.sink = await d.createSink(entry.path, entry.name);
    } catch (err) {
      d.failIo(ioFailure(`cannot open ${JSON.stringify(entry.name)}`, err));
      return;
    }
    entry.started = true;
    entry.log.info({ remote: `${entry.remote.address}:${entry.remote.port}`, size: entry.size }, 'transfer started');
    if (this.o.verbose)
      this.o.print(
        `lftp: ${entry.op} ${entry.name} (${formatBytes(entry.size)}) for ${entry.remote.address}:${entry.remote.port}: started`,
      );
    // From the SYN-ACK on, everything this transfer sends is sealed.
    d.protection?.begin();
    d.apply((c, now) => c.accept(now, syn.seq, entry.size, mss, HEADER_BYTES + syn.payload.length));
  }

  private onEvent(entry: Entry, e: TransferEvent, conn: LftpConnection): void {
    const who = entry.owner
      ? `${entry.owner} (${entry.remote.address}:${entry.remote.port})`
      : `${entry.remote.address}:${entry.remote.port}`;
    const text = this.o.verbose ? describeEvent(e, { own: conn.opts.isn, peer: conn.peerIsn }) : '';
    if (text) this.o.print(`lftp [${who} ${entry.op} ${entry.name}] ${text}`);
    switch (e.type) {
      case 'done': {
        this.counters.completed++;
        const secs = Math.max(conn.elapsedMs, 1) / 1000;
        entry.log.info(
          {
            size: e.size,
            sha256: e.sha256,
            ms: conn.elapsedMs,
            retransmissions: conn.sender?.retransmissions ?? 0,
            dropped: entry.driver.protection?.dropped ?? null,
          },
          'transfer complete',
        );
        this.o.print(
          `lftp: ${entry.op} ${entry.name} for ${who} complete (${formatBytes(e.size ?? 0)} in ${secs.toFixed(2)}s, ${formatBytes((e.size ?? 0) / secs)}/s, sha256 ok)`,
        );
        if (entry.op === 'post')
          this.o.onStored?.({ name: entry.name, size: e.size ?? 0, remote: who, owner: entry.owner });
        return;
      }
      case 'error':
        if (!conn.succeeded) {
          this.counters.failed++;
          entry.log.warn({ code: e.code }, `transfer failed: ${e.message}`);
          this.o.print(`lftp: ${entry.op} ${entry.name} for ${who} failed: ${e.code}: ${e.message}`);
        }
        this.finish(entry);
        return;
      case 'closed':
        this.finish(entry);
        return;
      default:
        return;
    }
  }

  private finish(entry: Entry): void {
    void entry.source?.close();
    if (!entry.driver.conn.succeeded) {
      void entry.sink?.discard();
      entry.releaseQuota();
    }
    entry.ended();
    entry.resolveFinished();
    const i = this.waiting.indexOf(entry);
    if (i >= 0) this.waiting.splice(i, 1);
    // Linger so that a lost final ACK can be answered; then forget the transfer.
    setTimeout(() => {
      entry.driver.stop();
      if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
    }, LINGER_MS).unref();
  }

  async close(): Promise<void> {
    if (this.badTimer) clearInterval(this.badTimer);
    this.reportBadPackets();
    for (const e of this.entries.values()) {
      if (!e.driver.conn.finished) e.driver.apply((c) => c.abort('server shutting down'));
      e.driver.stop();
      await e.driver.qlog?.close();
      void e.source?.close();
      if (!e.driver.conn.succeeded) await e.sink?.discard();
    }
    this.queue.clear();
    await new Promise<void>((resolve) => (this.socket ? this.socket.close(() => resolve()) : resolve()));
    await this.trace?.close();
  }
}
