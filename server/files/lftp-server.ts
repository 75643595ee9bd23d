/**
 * The LFTP server endpoint: one UDP socket (common/lftp/node/endpoint.ts, which
 * sorts sealed from plain datagrams), many transfers keyed by the client's
 * address, port and connection id. Requests are checked (name, authorization,
 * file) before any state is committed to them; at most `maxTransfers` run at
 * once (p-queue) and the rest wait in order, told their place each time they ask.
 */
import PQueue from 'p-queue';
import { Flag, HEADER_BYTES, type Packet } from '../../common/lftp/engine/packet.js';
import { TraceWriter } from '../../common/lftp/node/trace-writer.js';
import type { LftpConnection, Op, TransferEvent } from '../../common/lftp/engine/connection.js';
import { ioFailure } from '../../common/lftp/node/io-failure.js';
import { decodeSynRequest, encodeError } from '../../common/lftp/engine/payloads.js';
import { LftpError, type LftpErrorCode } from '../../common/lftp/engine/errors.js';
import { LftpEndpoint, type Peer } from '../../common/lftp/node/endpoint.js';
import type { LftpServerOptions, TransferInfo } from './lftp-server-api.js';
import { admittedEntry, statelessAnswer, transferInfo, type AdmittedRequest, type Entry } from './lftp-entry.js';
import { LftpReports } from './lftp-reports.js';
import { SynKeys } from './syn-keys.js';
import { SynAnswers } from './syn-answers.js';
import { TransferProtection } from '../../common/lftp/protect/transfer-protection.js';
import { resumeKey, resumeOrTakeOver } from './lftp-resume.js';
import { ServedFolders } from './folders.js';
import { giveWayOn, type WriterHandoff } from './writer-claim.js';

const LINGER_MS = 5_000;

/** Both, one after the other. */
const chain = (a: () => void, b: () => void) => () => (a(), b());
const BAD_PACKET_REPORT_MS = 10_000;

export class LftpServer {
  private endpoint: LftpEndpoint | null = null;
  private readonly entries = new Map<string, Entry>();
  /** SYNs being checked (file system, authorization) or refused for a token: their copies are not checked again. */
  private readonly syns = new SynAnswers();
  private readonly waiting: Entry[] = [];
  /** This endpoint's transfers writing a partial (their writer claim is the file service's), by resume key. */
  private readonly resumeClaims = new Map<string, Entry>();
  private readonly queue: PQueue;
  private readonly trace: TraceWriter | undefined;
  private readonly reports: LftpReports;
  private badTimer: NodeJS.Timeout | null = null;
  private readonly keys: SynKeys;
  private readonly folders: ServedFolders;

  constructor(private readonly o: LftpServerOptions) {
    this.queue = new PQueue({ concurrency: o.maxTransfers });
    this.keys = new SynKeys(o.keying);
    this.folders = new ServedFolders(o.files, (f) => o.onStored?.({ ...f, remote: '', owner: f.owner }));
    this.trace = o.tracePath ? new TraceWriter(o.tracePath) : undefined;
    this.reports = new LftpReports(o, this.keys.counts);
    this.handoff = { giveWay: (key, address) => giveWayOn(this.resumeClaims, key, address), others: o.otherWorkers };
  }

  get counters(): LftpReports['counters'] {
    return this.reports.counters;
  }

  async start(): Promise<number> {
    const endpoint = await LftpEndpoint.bind({ host: this.o.host, port: this.o.port, reusePort: this.o.reusePort });
    this.endpoint = endpoint;
    endpoint.listen({
      sealed: (buf, conn, from) => this.onSealed(buf, conn, from),
      plain: (p, from) => this.onPlain(p, from),
      malformed: (reason, bytes, from) => this.reports.dropped(from, reason, bytes),
      error: (err) => this.reports.socketError(err),
    });
    this.badTimer = setInterval(() => this.reports.reportCounts(), BAD_PACKET_REPORT_MS);
    this.badTimer.unref();
    return endpoint.port;
  }

  /** Every transfer this endpoint knows: running, queued, and lingering after the end. */
  transfers(): TransferInfo[] {
    return [...this.entries.values()].map((e) => transferInfo(e, this.waiting.indexOf(e) + 1));
  }

  /** What a resuming post's claim may take over (writer-claim.ts): this endpoint's transfers, the other workers'. */
  readonly handoff: WriterHandoff;

  private onSealed(buf: Buffer, conn: number, from: Peer): void {
    const entry = this.entries.get(`${from.address}|${from.port}|${conn}`);
    if (entry?.started) entry.driver.inputSealed(buf);
    else this.reports.counters.unknownConn++;
  }

  private onPlain(p: Packet, from: Peer): void {
    const key = `${from.address}|${from.port}|${p.conn}`;
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
      const seen = this.syns.begin(key, p.payload, Date.now());
      if (seen === 'check') void this.onSyn(key, p, from).finally(() => this.syns.done(key));
      else if (seen !== 'drop') this.endpoint?.send([seen], from);
      return;
    }
    this.reports.unknown(from, p.conn);
  }

  private refuse(p: Packet, from: Peer, code: LftpErrorCode, message: string): void {
    this.reports.refused(from, code, message);
    const answer = statelessAnswer(p, Flag.ERR, encodeError(code, message));
    if (code === 'AUTH') this.syns.refusedAuth(`${from.address}|${from.port}|${p.conn}`, p.payload, answer, Date.now());
    this.endpoint?.send([answer], from);
  }

  /** Address validation: the SYN answered with a token and nothing kept; never more bytes than the SYN. */
  private sendRetry(p: Packet, from: Peer, token: Buffer): void {
    const pkt = statelessAnswer(p, Flag.RETRY, token);
    if (pkt.length <= HEADER_BYTES + p.payload.length) this.endpoint?.send([pkt], from);
  }

  /** A new request: checked (payload, authorization, the file) before any state is kept for it; refused with ERR otherwise. */
  private async onSyn(key: string, p: Packet, from: Peer): Promise<void> {
    const op: Op = p.flags & Flag.POST ? 'post' : 'get';
    // The spent ticket counts against its session until the transfer ends, or here, if it never starts.
    let ended: () => void = () => undefined;
    try {
      const req = decodeSynRequest(p.payload, this.o.maxMss);
      const size = typeof req.size === 'number' ? req.size : undefined;
      const facts = {
        flags: p.flags,
        conn: p.conn,
        isn: p.seq,
        name: req.name,
        mss: req.mss,
        size,
        resume: req.resume,
      };
      // Nothing costly for a source address that has not answered a RETRY (syn-keys.ts).
      const token = this.keys.addressCheck(req, facts, from, Date.now());
      if (token) return this.sendRetry(p, from, token);
      const master = await this.keys.check(req, facts, from.address, Date.now());
      const decision = await this.o.authorize({
        op,
        name: req.name,
        auth: req.auth,
        remote: `${from.address}:${from.port}`,
      });
      if (!decision.allow) throw new LftpError(decision.code, decision.message);
      if (decision.ended) ended = decision.ended;
      const folder = await this.folders.check(op, req.name, size, decision.owner, from.address);
      // A folder's manifest made for this SYN goes if the SYN is refused after all (BUSY).
      ended = chain(ended, folder?.folder.cleanup ?? (() => undefined));
      const file =
        folder ??
        (op === 'get'
          ? await this.o.files.checkDownload(req.name)
          : await this.o.files.checkUpload(req.name, req.size));
      if (this.waiting.length >= this.o.maxQueued && this.queue.pending >= this.o.maxTransfers) {
        throw new LftpError(
          'BUSY',
          `server busy: ${this.queue.pending} transfers running and ${this.waiting.length} waiting`,
        );
      }
      const owner = decision.owner;
      const resume = this.o.resume
        ? await resumeOrTakeOver(this.handoff, this.o.files, {
            op,
            ask: req.resume,
            file,
            address: from.address,
            owner,
          })
        : undefined;
      if (resume?.sink) ended = chain(ended, resume.sink.release);
      // A continued partial's bytes are counted since it was cut; a dropped one's are given back.
      // A folder's manifest (`DIR/`) is not a file of the user's: its files count, each as it comes.
      const releaseQuota =
        op === 'post' && owner !== undefined && !req.name.endsWith('/')
          ? await this.o.files.reserveResumable(owner, file.size, resume?.sink?.have ?? 0, resume?.answer.dropped ?? 0)
          : () => undefined;
      const protection = master ? TransferProtection.server(master, req.salt!, p.payload) : null;
      const admitted = { op, ...file, mss: req.mss, owner, releaseQuota, ended, dgram: req.dgram };
      this.admit(key, p, from, { ...admitted, ...(resume ? { resume } : {}) }, protection);
    } catch (err) {
      ended();
      if (err instanceof LftpError) this.refuse(p, from, err.code, err.message);
      else {
        const failure = ioFailure('cannot serve the request', err);
        this.refuse(p, from, failure.code, failure.message);
      }
    }
  }

  private admit(
    key: string,
    syn: Packet,
    from: Peer,
    req: AdmittedRequest,
    protection: TransferProtection | null,
  ): void {
    const remote = { address: from.address, port: from.port };
    const entry = admittedEntry(this.o, key, syn, remote, req, protection, {
      sendRaw: (parts, to, key, probe) => this.endpoint?.send(parts, to, key, probe),
      dontFragment: this.endpoint?.dontFragment ?? false,
      event: (entry, e, conn) => this.onEvent(entry, e, conn),
      trace: this.trace,
    });
    this.entries.set(key, entry);
    if (req.resume?.sink) this.resumeClaims.set(resumeKey(req.name, req.owner), entry);
    this.waiting.push(entry);
    if (this.queue.pending >= this.o.maxTransfers) {
      entry.driver.apply((c) => c.queued(this.waiting.length, syn.seq));
      entry.log.info({ position: this.waiting.length }, 'queued');
    }
    void this.queue.add(async () => {
      const i = this.waiting.indexOf(entry);
      if (i >= 0) this.waiting.splice(i, 1);
      if (entry.driver.conn.finished) return; // gave up while waiting
      await this.begin(entry, syn, req.mss);
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
          () => this.endpoint?.sendQueueEmpty ?? true,
          entry.resume?.answer.from ?? 0,
        );
      else entry.sink = await d.createSink(entry.path, entry.name, entry.resume?.sink);
    } catch (err) {
      d.failIo(ioFailure(`cannot open ${JSON.stringify(entry.name)}`, err));
      return;
    }
    entry.started = true;
    d.afterStore = entry.folder?.afterStore ?? null;
    this.reports.started(entry);
    // From the SYN-ACK on, everything this transfer sends is sealed.
    d.protection?.begin();
    const synBytes = HEADER_BYTES + syn.payload.length;
    d.apply((c, now) => c.accept(now, syn.seq, entry.size, mss, synBytes, entry.resume?.answer));
  }

  private onEvent(entry: Entry, e: TransferEvent, conn: LftpConnection): void {
    this.reports.event(entry, e, conn);
    // A transfer whose outcome is decided is over at our FIN (LAST_ACK): a client that exits without waiting in
    // TIME_WAIT and whose last ACK is lost leaves our FIN unanswered, which must not hold a place for long.
    if (e.type === 'error' || e.type === 'closed' || (e.type === 'state' && e.state === 'LAST_ACK' && conn.succeeded))
      this.finish(entry);
  }

  private finish(entry: Entry): void {
    if (entry.over) return;
    entry.over = true;
    void entry.source?.close();
    if (!entry.driver.conn.succeeded) {
      // What a resumable sink kept stays counted against its uploader's quota (lftp-resume.ts).
      const kept = () => entry.resume?.sink?.held.recordedBytes ?? 0;
      entry.sinkClosed = Promise.resolve(entry.sink?.discard()).then(() => entry.releaseQuota(kept()));
    }
    // The spent ticket and the partial's writer claim go once the sink has put the partial away.
    const ended = entry.ended;
    entry.ended = () => undefined;
    entry.sinkClosed = Promise.resolve(entry.sinkClosed).finally(ended);
    const claim = resumeKey(entry.name, entry.owner);
    if (this.resumeClaims.get(claim) === entry) this.resumeClaims.delete(claim);
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
    this.reports.reportCounts();
    for (const e of this.entries.values()) {
      if (!e.driver.conn.finished) e.driver.apply((c) => c.abort('server shutting down'));
      e.driver.stop();
      await e.driver.qlog?.close();
      await e.source?.close();
      e.folder?.cleanup?.();
      if (!e.driver.conn.succeeded) await e.sink?.discard();
    }
    this.queue.clear();
    await this.endpoint?.close();
    await this.trace?.close();
  }
}
