/** One transfer the LFTP server has admitted: what was asked, the connection running it, and what it holds. */
import { encodePacket, type Packet } from '../../common/lftp/engine/packet.js';
import { datagramOptions } from '../../common/lftp/node/datagram-options.js';
import { randomInt } from 'node:crypto';
import { ConnectionDriver, type DriverHooks } from '../../common/lftp/node/driver.js';
import type { LftpConnection, Op, TransferEvent } from '../../common/lftp/engine/connection.js';
import type { FileSource } from '../../common/lftp/node/file-source.js';
import type { FileSink } from '../../common/lftp/node/file-sink.js';
import type { TransferProtection } from '../../common/lftp/protect/transfer-protection.js';
import type { NativeKey } from '../../common/lftp/native/load.js';
import { LFTP_DEFAULTS } from '../../common/lftp/defaults.js';
import type { Logger } from '../logger.js';
import type { LftpServerOptions, TransferInfo } from './lftp-server-api.js';
import type { ServerResume } from './lftp-resume.js';
import type { FolderHooks } from './folders.js';

/** A request that passed every check (authorisation, the file, the quota). */
export interface AdmittedRequest {
  op: Op;
  name: string;
  path: string;
  size: number;
  mss: number;
  /** The largest datagram the client's SYN said it takes (packed data datagrams), if it said. */
  dgram?: number;
  owner: string | undefined;
  /** Gives an upload's bytes back to its user's quota (it was not stored), but for the `kept` bytes of a partial. */
  releaseQuota: (kept: number) => void;
  /** The transfer is over: its ticket stops counting against the session. */
  ended: () => void;
  /** What the SYN-ACK says about resuming, and a post's partial (lftp-resume.ts). */
  resume?: ServerResume;
  /** A folder's manifest or a file in a folder (folders.ts): what to do once stored, and once over. */
  folder?: FolderHooks;
}

export interface Entry extends Omit<AdmittedRequest, 'mss'> {
  key: string;
  remote: { address: string; port: number };
  driver: ConnectionDriver;
  started: boolean;
  source?: FileSource;
  sink?: FileSink;
  finished: Promise<void>;
  /** A failed upload's sink closing (a resumable one records its partial then). */
  sinkClosed?: Promise<void> | undefined;
  resolveFinished: () => void;
  /** finish() ran: the transfer's place, claim and ticket are given back (once). */
  over?: boolean;
  log: Logger;
}

/** What an entry's connection is given by the endpoint that admitted it. */
export interface EntryHooks {
  sendRaw(parts: Buffer[], to: Entry['remote'], key?: NativeKey, probe?: boolean): void;
  event(entry: Entry, e: TransferEvent, conn: LftpConnection): void;
  trace: DriverHooks['trace'];
  /** The endpoint's datagrams go with the don't-fragment bit: its transfers may probe for bigger ones. */
  dontFragment: boolean;
}

/** The entry for a request that passed every check, with the connection that answers its SYN. */
export function admittedEntry(
  o: LftpServerOptions,
  key: string,
  syn: Packet,
  remote: Entry['remote'],
  req: AdmittedRequest,
  protection: TransferProtection | null,
  hooks: EntryHooks,
): Entry {
  const { op, name, path, size, mss, dgram, owner, releaseQuota, ended, resume, folder } = req;
  let resolveFinished!: () => void;
  const finished = new Promise<void>((r) => (resolveFinished = r));
  const log = o.log.child({ transfer: key, op, file: name });
  const entry = {
    key,
    remote,
    op,
    name,
    size,
    path,
    owner,
    releaseQuota,
    ended,
    resume,
    folder,
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
      request: { op, name, mss, size, ...(dgram !== undefined ? { dgram } : {}) },
      receiveCapacity: o.receiveCapacity,
      maxWindow: o.maxWindow,
      congestion: o.congestion,
      datagram: datagramOptions(hooks.dontFragment, protection !== null),
      idleTimeoutMs: o.idleTimeoutMs,
      handshakeTries: LFTP_DEFAULTS.handshakeTries,
      handshakeTimeoutMs: LFTP_DEFAULTS.serverHandshakeTimeoutMs,
      closeTries: LFTP_DEFAULTS.closeTries,
    },
    {
      sendRaw: (parts, key, probe) => hooks.sendRaw(parts, remote, key, probe),
      event: (e, conn) => hooks.event(entry, e, conn),
      ...(hooks.trace ? { trace: hooks.trace } : {}),
      ...(o.qlogDir
        ? { qlog: { dir: o.qlogDir, title: `lftp server: ${op} ${name} for ${remote.address}:${remote.port}` } }
        : {}),
    },
    protection,
  );
  // The SYN came before the transfer (and its trace) existed: it opens the trace.
  entry.driver.qlog?.packet('in', syn, entry.driver.conn);
  return entry;
}

/** What the dashboard and the console show of a transfer; `position`: its place in the queue (from 1) while it waits. */
export function transferInfo(e: Entry, position: number): TransferInfo {
  const c = e.driver.conn;
  return {
    id: e.key,
    op: e.op,
    name: e.name,
    remote: `${e.remote.address}:${e.remote.port}`,
    owner: e.owner,
    state: e.started ? c.state : `QUEUED(${position})`,
    congestion: c.isDataSender ? c.cc.name : 'client',
    finished: c.finished,
    succeeded: c.succeeded,
    bytes: c.progressBytes(),
    size: e.size,
    cwnd: c.cc.cwnd,
    ssthresh: c.cc.ssthresh,
    phase: c.isDataSender ? c.cc.phase : null,
    // The rate BBR paces at once it has measured the path (before, its start-up guess, not a measurement).
    pacingRate:
      c.isDataSender && c.cc.pacingRate !== null && (c.cc.model?.bw ?? 0) > 0
        ? Math.round(c.cc.pacingRate * c.mss * 1000)
        : null,
    srttMs: c.rtt.srtt,
    rtoMs: c.rtt.rto,
    farthestBytes: c.farthestBytes(),
    losses: c.lossCount,
    dropped: e.driver.protection?.dropped ?? null,
  };
}

/** An answer to a SYN that keeps no state (ERR, RETRY): its connection id, seq 0, ack its seq + 1, no window. */
export function statelessAnswer(p: Packet, flags: number, payload: Buffer): Buffer {
  return encodePacket({ flags, conn: p.conn, seq: 0, ack: (p.seq + 1) >>> 0, window: 0, payload });
}
