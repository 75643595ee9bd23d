/**
 * One LFTP transfer from the client side: a connected UDP socket, the
 * connection state machine, the file source or sink, progress and --verbose
 * lines. Used by `chat-client lftp` and by /get and /post in the chat.
 */
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { isIPv6 } from 'node:net';
import { decodePacket, DEFAULT_MSS } from '../common/lftp/engine/packet.js';
import { ConnectionDriver, TraceWriter } from '../common/lftp/node/driver.js';
import { DEFAULT_CONGESTION, type CongestionName } from '../common/lftp/engine/congestion.js';
import type { LftpConnection, Op, TransferEvent } from '../common/lftp/engine/connection.js';
import { FileSource } from '../common/lftp/node/file-source.js';
import { FileSink } from '../common/lftp/node/file-sink.js';
import { LftpError } from '../common/lftp/engine/errors.js';

export interface TransferOptions {
  host: string;
  port: number;
  op: Op;
  /** Name on the server. */
  remote: string;
  /** Path on this machine: read for post, created for get (never overwritten). */
  local: string;
  auth?: string;
  mss?: number;
  idleTimeoutMs?: number;
  /** Give up the handshake after this long (default 30 s). */
  connectTimeoutMs?: number;
  receiveCapacity?: number;
  maxWindow?: number;
  /** Congestion control when this side sends (post); default reno. */
  congestion?: CongestionName;
  tracePath?: string;
  /** Readable lines about handshake, teardown, losses, timeouts (--verbose). */
  onVerbose?: (line: string) => void;
  onProgress?: (bytes: number, total: number, elapsedMs: number) => void;
  onQueued?: (position: number) => void;
  progressEveryMs?: number;
  /** Abort from outside (Ctrl-C, /quit). */
  signal?: AbortSignal;
}

export interface TransferResult {
  size: number;
  sha256: string;
  elapsedMs: number;
  path: string;
  retransmissions: number;
}

export const DEFAULT_RECEIVE_CAPACITY = 2048;
export const DEFAULT_MAX_WINDOW = 2048;
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
/** After success, how long teardown may take before we stop waiting for it. */
const TEARDOWN_WAIT_MS = 3_000;

export async function transfer(o: TransferOptions): Promise<TransferResult> {
  const mss = o.mss ?? DEFAULT_MSS;
  const started = Date.now();
  const socket = dgram.createSocket({ type: isIPv6(o.host) ? 'udp6' : 'udp4', recvBufferSize: 8 << 20, sendBufferSize: 8 << 20 });
  const trace = o.tracePath ? new TraceWriter(o.tracePath) : undefined;
  let source: FileSource | undefined;
  let sink: FileSink | undefined;
  let driver: ConnectionDriver | undefined;
  let progressTimer: NodeJS.Timeout | undefined;

  const cleanup = async () => {
    if (progressTimer) clearInterval(progressTimer);
    driver?.stop();
    await source?.close();
    socket.close();
    await trace?.close();
  };

  try {
    let size = 0;
    if (o.op === 'post') {
      const st = await stat(o.local).catch(() => null);
      if (!st) throw new LftpError('NOT_FOUND', `no such file: ${o.local}`);
      if (!st.isFile()) throw new LftpError('BAD_NAME', `${o.local} is not a regular file`);
      size = st.size;
    } else if (await stat(o.local).then(() => true, () => false)) {
      throw new LftpError('EXISTS', `${o.local} already exists; not overwritten (give another local name)`);
    }
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(o.port, o.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });

    const outcome = await new Promise<TransferResult>((resolve, reject) => {
      let result: TransferResult | null = null;
      let settled = false;
      const settle = (err: Error | null) => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else resolve(result!);
      };
      const onEvent = (e: TransferEvent, conn: LftpConnection) => {
        if (e.type === 'queued') o.onQueued?.(e.position ?? 0);
        else if (e.type !== 'established' && e.text) o.onVerbose?.(e.text);
        if (e.type === 'established' && o.onProgress) {
          progressTimer = setInterval(() => o.onProgress!(conn.progressBytes(), conn.size, Date.now() - started), o.progressEveryMs ?? 250);
        }
        if (e.type === 'done') {
          result = {
            size: e.size ?? 0,
            sha256: e.sha256 ?? '',
            elapsedMs: Date.now() - started,
            path: o.local,
            retransmissions: conn.sender?.retransmissions ?? 0,
          };
          // Success is decided; let the teardown finish, but not forever.
          setTimeout(() => settle(null), TEARDOWN_WAIT_MS).unref();
        }
        if (e.type === 'closed') settle(null);
        if (e.type === 'error') settle(result ? null : new LftpError(e.code ?? 'PROTOCOL', e.text));
      };
      driver = new ConnectionDriver(
        {
          side: 'client',
          conn: randomInt(1, 2 ** 32 - 1),
          isn: randomInt(0, 2 ** 32 - 1),
          request: { op: o.op, name: o.remote, mss, ...(o.op === 'post' ? { size } : {}), ...(o.auth !== undefined ? { auth: o.auth } : {}) },
          receiveCapacity: o.receiveCapacity ?? DEFAULT_RECEIVE_CAPACITY,
          maxWindow: o.maxWindow ?? DEFAULT_MAX_WINDOW,
          congestion: o.congestion ?? DEFAULT_CONGESTION,
          idleTimeoutMs: o.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
          handshakeTries: 16,
          handshakeTimeoutMs: o.connectTimeoutMs ?? 30_000,
          closeTries: 16,
        },
        {
          sendRaw: (buf) => socket.send(buf),
          event: onEvent,
          finishSink: (expected) => {
            void sink!.finish(expected).then((res) => driver!.apply((c, now) => c.sinkFinished(now, res)));
          },
          ...(trace ? { trace } : {}),
        },
      );
      const d = driver;
      socket.on('message', (buf) => {
        const p = decodePacket(buf);
        if (typeof p !== 'string' && p.conn === d.conn.opts.conn) d.input(p);
      });
      socket.on('error', (err) => d.apply((c) => c.fail('IO_ERROR', `socket error: ${err.message}`, false)));
      o.signal?.addEventListener('abort', () => d.apply((c) => c.abort(String(o.signal!.reason ?? 'aborted'))), { once: true });

      const prepare = async () => {
        if (o.op === 'post') {
          source = await FileSource.open(
            o.local,
            size,
            mss,
            o.maxWindow ?? DEFAULT_MAX_WINDOW,
            () => d.apply((c, now) => c.dataReady(now)),
            (err) => d.apply((c) => c.fail('IO_ERROR', `cannot read ${o.local}: ${err.message}`, true)),
            () => socket.getSendQueueCount() === 0,
          );
          d.conn.opts.source = source;
        } else {
          sink = await FileSink.create(
            o.local,
            () => d.apply((c, now) => c.windowOpened(now)),
            (err) => d.apply((c) => c.fail('IO_ERROR', `cannot write ${o.local}: ${err.message}`, true)),
          );
          d.conn.opts.sink = sink;
        }
        d.apply((c, now) => c.open(now));
      };
      prepare().catch((err: Error) => settle(new LftpError('IO_ERROR', err.message)));
    });
    return outcome;
  } catch (err) {
    await sink?.discard();
    throw err;
  } finally {
    await cleanup();
  }
}
