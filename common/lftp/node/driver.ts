/**
 * The edge between one LftpConnection and the outside world: encodes and sends
 * its packets, feeds it datagrams, runs its timer, batches its ACKs (one per
 * turn of the event loop, after every datagram that arrived in that turn),
 * opens the file it sends or receives and reports that I/O back to it, and
 * writes the --trace file. A protected transfer's datagrams are sealed and
 * opened here (protect/transfer-protection.ts): the connection sees only
 * packets that authenticated.
 */
import { Flag, encodeHeader, type Packet } from '../engine/packet.js';
import { LftpConnection, type ConnectionOptions, type TransferEvent } from '../engine/connection.js';
import { FileSource } from './file-source.js';
import { FileSink, type SinkOutcome } from './file-sink.js';
import type { HeldRecord } from './resume-record.js';
import { ioFailure } from './io-failure.js';
import type { LftpError } from '../engine/errors.js';
import type { TransferProtection } from '../protect/transfer-protection.js';
import { QlogWriter } from './qlog.js';
import type { TraceWriter } from './trace-writer.js';
import type { NativeKey } from '../native/load.js';
import { clockMs } from './clock.js';

export interface DriverHooks {
  /**
   * Sends one datagram given as its parts (header, payload, and a tag when sealed), sent without joining them;
   * with a key, the addon seals the last part in the send batch (protect/packet-cipher.ts).
   */
  sendRaw(parts: Buffer[], key?: NativeKey, probe?: boolean): void;
  event(e: TransferEvent, conn: LftpConnection): void;
  trace?: TraceWriter;
  /** --qlog: the folder this transfer's qlog file goes in, and the title it gets. */
  qlog?: { dir: string; title: string };
}

export class ConnectionDriver {
  readonly conn: LftpConnection;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private flushQueued = false;
  private stopped = false;
  private sink: FileSink | null = null;
  private source: FileSource | null = null;
  /** The client's file to send, opened once the handshake has fixed the mss. */
  private sourceLater: Parameters<ConnectionDriver['openSource']> | null = null;
  readonly qlog: QlogWriter | null;
  /** The data packet the connection just said it sends again: the next one out with this seq is a retransmission (--trace marks it). */
  private retransmitting = -1;
  /** Work that must be done before the END is acknowledged (a folder's manifest checked, a folder put in place). */
  afterStore: ((stored: SinkOutcome) => Promise<SinkOutcome>) | null = null;

  /** @param protection the transfer's keys; null: unprotected (an --open server) */
  constructor(
    opts: ConnectionOptions,
    hooks: DriverHooks,
    readonly protection: TransferProtection | null = null,
  ) {
    const traceWriter = hooks.trace;
    const qlog = (this.qlog = hooks.qlog
      ? new QlogWriter(hooks.qlog.dir, opts.side, opts.conn, hooks.qlog.title)
      : null);
    const trace =
      traceWriter || qlog
        ? (dir: 'in' | 'out', p: Packet) => {
            traceWriter?.packet(
              dir,
              p,
              this.conn,
              dir === 'out' && p.seq === this.retransmitting && (p.flags & Flag.DAT) !== 0,
            );
            qlog?.packet(dir, p, this.conn);
          }
        : undefined;
    this.conn = new LftpConnection(
      opts,
      {
        send: (p) => {
          if (!protection?.sealing) return hooks.sendRaw([encodeHeader(p), p.payload], undefined, p.probe);
          const out = protection.sealForBatch(p);
          hooks.sendRaw(out.parts, out.key, p.probe);
        },
        event: (e) => {
          if (e.type === 'retransmit_data' || (e.type === 'tail_probe' && e.resend)) this.retransmitting = e.seq;
          qlog?.transferEvent(e, this.conn);
          if (e.type === 'established') this.openSourceNow();
          hooks.event(e, this.conn);
        },
        finishSink: (expected) => {
          const sink = this.sink;
          if (!sink) return;
          // A check or hook that throws fails the transfer: a connection left VERIFYING answers no END.
          void sink
            .finish(expected)
            .then((outcome) => (outcome.ok && this.afterStore ? this.afterStore(outcome) : outcome))
            .catch(storeFailure)
            .then((outcome) => this.apply((c, now) => c.sinkFinished(now, outcome)));
        },
        ...(trace ? { trace } : {}),
      },
      clockMs(),
    );
  }

  /**
   * The file this side sends, opened and attached to the connection, cut at the
   * connection's mss (the server's, fixed before it accepts). `label` names it in
   * error messages; `canReuse` says whether buffers already sent are free again
   * (the socket's send queue is empty).
   */
  async openSource(
    path: string,
    size: number,
    maxWindow: number,
    label: string,
    canReuse: () => boolean,
    from = this.conn.from,
  ): Promise<FileSource> {
    const source = await FileSource.open(
      path,
      size,
      this.conn.mss,
      maxWindow,
      () => this.apply((c, now) => c.dataReady(now)),
      (err) => this.failIo(ioFailure(`cannot read ${JSON.stringify(label)}`, err)),
      canReuse,
      from,
    );
    if (this.stopped) {
      await source.close();
      return source;
    }
    this.source = source;
    this.conn.attachSource(source);
    return source;
  }

  /**
   * The client's file to send: opened when the connection is established, with the mss the SYN-ACK gave
   * (a server may answer with less than was asked). Same arguments as openSource.
   */
  openSourceWhenEstablished(...args: Parameters<ConnectionDriver['openSource']>): void {
    this.sourceLater = args;
  }

  private openSourceNow(): void {
    const args = this.sourceLater;
    if (!args || !this.conn.isDataSender) return;
    this.sourceLater = null;
    this.openSource(...args).then(
      () => this.apply((c, now) => c.dataReady(now)),
      (err: unknown) => this.failIo(ioFailure(`cannot read ${JSON.stringify(args[3])}`, err)),
    );
  }

  /** Closes the file this side sent, if it opened one. */
  async closeSource(): Promise<void> {
    await this.source?.close();
  }

  /** Ends the transfer on a local file failure, telling the peer what failed (not where). */
  failIo(err: LftpError): void {
    this.apply((c) => c.fail(err.code, err.message, true));
  }

  /**
   * The file this side receives into (a temporary file until verified), created and attached to the connection;
   * with `resume`, the partial of an earlier try, continued after its `have` bytes (resume-record.ts).
   */
  async createSink(path: string, label: string, resume?: { held: HeldRecord; have: number }): Promise<FileSink> {
    const onDrain = () => this.apply((c, now) => c.windowOpened(now));
    const onError = (err: Error) => this.failIo(ioFailure(`cannot write ${JSON.stringify(label)}`, err));
    const sink = resume
      ? await FileSink.resumable(path, resume.held, resume.have, onDrain, onError)
      : await FileSink.create(path, onDrain, onError);
    this.sink = sink;
    this.conn.attachSink(sink);
    return sink;
  }

  /** A version-1 datagram (its CRC checked): what a protected transfer takes of one is allowPlain's rule. */
  input(p: Packet): void {
    if (this.stopped) return;
    if (this.protection && !this.protection.allowPlain(p, this.conn.state, this.conn.opts.isn)) return;
    this.conn.onPacket(p, clockMs());
    this.afterInput();
  }

  /** A version-2 (sealed) datagram: opened, or dropped before the connection sees it. */
  inputSealed(buf: Buffer): void {
    if (this.stopped) return;
    const p = this.protection?.open(buf) ?? null;
    if (!p) return;
    this.conn.onPacket(p, clockMs());
    this.afterInput();
  }

  /** Run fn against the connection (an I/O completion), then re-arm the timer. */
  apply(fn: (conn: LftpConnection, now: number) => void): void {
    if (this.stopped) return;
    fn(this.conn, clockMs());
    this.afterInput();
  }

  private afterInput(): void {
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => {
        this.flushQueued = false;
        if (!this.stopped) this.conn.flush(clockMs());
      });
    }
    this.schedule();
  }

  schedule(): void {
    if (this.stopped) return;
    const at = this.conn.nextDeadline();
    if (at === null) {
      this.clearTimer();
      return;
    }
    // Re-arming a timer per datagram costs more than the datagram: only move it earlier.
    if (this.timer && at >= this.timerAt - 1) return;
    this.clearTimer();
    this.timerAt = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - clockMs()));
  }

  private fire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    if (this.stopped) return;
    this.conn.tick(clockMs());
    this.schedule();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
    void this.qlog?.close();
  }
}

function storeFailure(err: unknown) {
  return { ok: false as const, code: 'IO_ERROR' as const, message: `cannot store the file: ${(err as Error).message}` };
}
