/** One transfer the LFTP server has admitted: what was asked, the connection running it, and what it holds. */
import type { ConnectionDriver } from '../../common/lftp/node/driver.js';
import type { Op } from '../../common/lftp/engine/connection.js';
import type { FileSource } from '../../common/lftp/node/file-source.js';
import type { FileSink } from '../../common/lftp/node/file-sink.js';
import type { Logger } from '../logger.js';
import type { TransferInfo } from './lftp-server-api.js';

/** A request that passed every check (authorisation, the file, the quota). */
export interface AdmittedRequest {
  op: Op;
  name: string;
  path: string;
  size: number;
  mss: number;
  owner: string | undefined;
  /** Gives an upload's bytes back to its user's quota (it was not stored). */
  releaseQuota: () => void;
  /** The transfer is over: its ticket stops counting against the session. */
  ended: () => void;
}

export interface Entry extends Omit<AdmittedRequest, 'mss'> {
  key: string;
  remote: { address: string; port: number };
  driver: ConnectionDriver;
  started: boolean;
  source?: FileSource;
  sink?: FileSink;
  finished: Promise<void>;
  resolveFinished: () => void;
  log: Logger;
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
    srttMs: c.rtt.srtt,
    rtoMs: c.rtt.rto,
    farthestBytes: c.farthestBytes(),
    losses: c.lossCount,
    dropped: e.driver.protection?.dropped ?? null,
  };
}
