/**
 * One LFTP transfer from the client side: a connected UDP endpoint (common/lftp/node/endpoint.ts), the
 * connection state machine, the file source or sink, progress and --verbose
 * lines. Used by `chat-client lftp` and by /get and /post in the chat.
 */
import { randomInt } from 'node:crypto';
import { Flag, PROTECTED_MSS } from '../common/lftp/engine/packet.js';
import { synProof } from '../common/lftp/protect/keys.js';
import { TransferProtection } from '../common/lftp/protect/transfer-protection.js';
import { ConnectionDriver } from '../common/lftp/node/driver.js';
import { TraceWriter } from '../common/lftp/node/trace-writer.js';
import { datagramOptions } from '../common/lftp/node/datagram-options.js';
import { checkLocal, transferKeys } from './lftp-preflight.js';
import { ownEndpoint, type TransferEndpoint } from '../common/lftp/node/shared-endpoint.js';
import { DEFAULT_CONGESTION } from '../common/lftp/engine/congestion.js';
import type { LftpConnection, TransferEvent } from '../common/lftp/engine/connection.js';
import type { FileSink } from '../common/lftp/node/file-sink.js';
import { LftpError, type LftpErrorCode } from '../common/lftp/engine/errors.js';
import { LFTP_DEFAULTS } from '../common/lftp/defaults.js';
import { describeEvent } from '../common/lftp/event-text.js';
import { clientResume, resumeEstablished, type ClientResume } from './lftp-resume.js';
import type { TransferOptions, TransferResult } from './lftp-transfer-options.js';

/** After success, how long teardown may take before we stop waiting for it. */
const TEARDOWN_WAIT_MS = 3_000;

export async function transfer(o: TransferOptions): Promise<TransferResult> {
  const size = await checkLocal(o);
  const keys = await transferKeys(o);
  const plan = o.resume ? await clientResume(o.op, o.resume, o.remote, o.local, size) : null;
  const endpoint = o.shared ? o.shared.lane() : await ownEndpoint(o.host, o.port);
  const run = new ClientTransfer(o, endpoint, size, keys, plan);
  try {
    return await run.run();
  } catch (err) {
    await run.discard();
    throw err;
  } finally {
    if (o.lingerInBackground) void run.lingerThenClose();
    else await run.close();
  }
}

/** What a socket error does to the transfer: nothing (a size probe this host refused), or it ends it. */
function socketFailure(err: NodeJS.ErrnoException, server: string): { code: LftpErrorCode; message: string } | null {
  // A size probe too big for this host's own link (DPLPMTUD) is refused here: the probe was lost, nothing else.
  if (err.code === 'EMSGSIZE') return null;
  // A closed UDP port answers with ICMP "port unreachable", which a connected socket reports as ECONNREFUSED.
  if (err.code === 'ECONNREFUSED')
    return {
      code: 'HANDSHAKE_TIMEOUT',
      message: `nothing answers on ${server} (port unreachable: is the server running?)`,
    };
  return { code: 'IO_ERROR', message: `socket error: ${err.message}` };
}

/** One transfer on a connected endpoint: the driver, the file, progress, and the moment it is decided. */
class ClientTransfer {
  private readonly driver: ConnectionDriver;
  private readonly trace: TraceWriter | undefined;
  private readonly started = Date.now();
  private sink: FileSink | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private result: TransferResult | null = null;
  private settle: (err: Error | null) => void = () => undefined;
  private onClosed: () => void = () => undefined;
  private unlisten: () => void = () => undefined;

  constructor(
    private readonly o: TransferOptions,
    private readonly endpoint: TransferEndpoint,
    private readonly size: number,
    keys: { master: Buffer; salt: Buffer } | null,
    private readonly plan: ClientResume | null,
  ) {
    this.trace = o.tracePath ? new TraceWriter(o.tracePath) : undefined;
    const mss = o.mss ?? (keys ? PROTECTED_MSS : LFTP_DEFAULTS.mss);
    const conn = endpoint.newConn();
    const isn = randomInt(0, 2 ** 32 - 1);
    const postSize = o.op === 'post' ? size : undefined;
    // The SYN proves the key: the server acts on it only then, and nobody who lacks the key can alter what it asks.
    const flags = Flag.SYN | (o.op === 'post' ? Flag.POST : 0);
    const resume = plan?.ask;
    const facts = {
      flags,
      conn,
      isn,
      name: o.remote,
      mss,
      size: postSize,
      salt: keys?.salt ?? Buffer.alloc(0),
      resume,
    };
    const signed = keys ? { salt: keys.salt, proof: synProof(keys.master, facts) } : {};
    this.driver = new ConnectionDriver(
      {
        side: 'client',
        conn,
        isn,
        request: {
          op: o.op,
          name: o.remote,
          mss,
          ...(postSize !== undefined ? { size: postSize } : {}),
          ...(o.auth !== undefined ? { auth: o.auth } : {}),
          ...signed,
          ...(resume ? { resume } : {}),
          // This client answers a RETRY (a server that validates addresses first asks for the SYN again with a token).
          retry: Buffer.alloc(0),
        },
        receiveCapacity: o.receiveCapacity ?? LFTP_DEFAULTS.receiveCapacity,
        maxWindow: o.maxWindow ?? LFTP_DEFAULTS.maxWindow,
        congestion: o.congestion ?? DEFAULT_CONGESTION,
        datagram: datagramOptions(endpoint.dontFragment, keys !== null),
        idleTimeoutMs: o.idleTimeoutMs ?? LFTP_DEFAULTS.idleTimeoutMs,
        handshakeTries: LFTP_DEFAULTS.handshakeTries,
        handshakeTimeoutMs: o.connectTimeoutMs ?? LFTP_DEFAULTS.connectTimeoutMs,
        closeTries: LFTP_DEFAULTS.closeTries,
      },
      {
        sendRaw: (parts, key, probe) => endpoint.send(parts, undefined, key, probe),
        event: (e, c) => this.onEvent(e, c),
        ...(this.trace ? { trace: this.trace } : {}),
        ...(o.qlogDir
          ? { qlog: { dir: o.qlogDir, title: `lftp client: ${o.op} ${o.remote} from ${o.host}:${o.port}` } }
          : {}),
      },
      keys ? TransferProtection.client(keys.master, keys.salt) : null,
    );
  }

  /** Opens the file, sends the SYN, and settles once the transfer is decided. */
  run(): Promise<TransferResult> {
    const d = this.driver;
    const done = new Promise<TransferResult>((resolve, reject) => {
      let settled = false;
      this.settle = (err) => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else resolve(this.result!);
      };
    });
    this.endpoint.listen({
      sealed: (buf, conn) => {
        if (conn === d.conn.opts.conn) d.inputSealed(buf);
      },
      plain: (p) => {
        if (p.conn === d.conn.opts.conn) d.input(p);
      },
      error: (err) => {
        const failure = socketFailure(err, `${this.o.host}:${this.o.port}`);
        if (failure) d.apply((c) => c.fail(failure.code, failure.message, false));
      },
    });
    const signal = this.o.signal;
    const onAbort = () => d.apply((c) => c.abort(String(signal?.reason ?? 'aborted')));
    signal?.addEventListener('abort', onAbort, { once: true });
    // A folder's transfers share its signal: each takes its listener back, or they pile up, each holding its transfer.
    this.unlisten = () => signal?.removeEventListener('abort', onAbort);
    this.openFile().then(
      () => d.apply((c, now) => c.open(now)),
      (err: Error) => this.settle(new LftpError('IO_ERROR', err.message)),
    );
    return done;
  }

  private async openFile(): Promise<void> {
    const o = this.o;
    if (o.op === 'post') {
      // Opened once established: the SYN-ACK may lower the mss the file is cut at.
      const canReuse = () => this.endpoint.sendQueueEmpty;
      const window = o.maxWindow ?? LFTP_DEFAULTS.maxWindow;
      this.driver.openSourceWhenEstablished(o.local, this.size, window, o.local, canReuse);
    } else this.sink = await this.driver.createSink(o.local, o.local, this.plan?.sink);
  }

  private onEvent(e: TransferEvent, conn: LftpConnection): void {
    const o = this.o;
    if (e.type === 'queued') o.onQueued?.(e.position);
    else if (o.onVerbose) {
      const text = describeEvent(e, { own: conn.opts.isn, peer: conn.peerIsn });
      if (text) o.onVerbose(text);
    }
    if (e.type === 'established') o.onStarted?.();
    if (e.type === 'established' && this.plan) {
      const line = resumeEstablished(this.plan, o.remote, conn.size, conn.resumed);
      if (line) o.onResume?.(line);
    }
    if (e.type === 'established' && o.onProgress) {
      const report = o.onProgress;
      this.progressTimer = setInterval(
        () => report(conn.progressBytes(), conn.size, Date.now() - this.started, conn.from),
        o.progressEveryMs ?? 250,
      );
    }
    if (e.type === 'done') {
      this.result = {
        size: e.size,
        sha256: e.sha256,
        elapsedMs: Date.now() - this.started,
        path: o.local,
        retransmissions: conn.sender?.retransmissions ?? 0,
        resumedFrom: conn.from,
      };
      // Success is decided; let the teardown finish, but not forever.
      setTimeout(() => this.settle(null), TEARDOWN_WAIT_MS).unref();
    }
    if (e.type === 'closed') this.onClosed();
    if (e.type === 'closed' || (e.type === 'state' && e.state === 'TIME_WAIT' && this.result)) this.settle(null);
    if (e.type === 'error') this.settle(this.result ? null : new LftpError(e.code, e.message));
  }

  /** A failed get leaves no partial file behind (a resumable one keeps what it holds, resume-record.ts). */
  async discard(): Promise<void> {
    await this.sink?.discard();
  }

  /** Closes once the connection is closed (TIME_WAIT ran out), or at once if it is not in TIME_WAIT. */
  async lingerThenClose(): Promise<void> {
    if (this.progressTimer) clearInterval(this.progressTimer);
    if (this.driver.conn.state === 'TIME_WAIT') await new Promise<void>((resolve) => (this.onClosed = resolve));
    await this.close();
  }

  async close(): Promise<void> {
    if (this.progressTimer) clearInterval(this.progressTimer);
    this.unlisten();
    this.driver.stop();
    await this.driver.qlog?.close();
    await this.driver.closeSource();
    await this.endpoint.close();
    await this.trace?.close();
  }
}
