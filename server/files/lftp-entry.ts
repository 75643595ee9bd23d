/** One transfer the LFTP server has admitted: what was asked, the connection running it, and what it holds. */
import type { ConnectionDriver } from '../../common/lftp/node/driver.js';
import type { Op } from '../../common/lftp/engine/connection.js';
import type { FileSource } from '../../common/lftp/node/file-source.js';
import type { FileSink } from '../../common/lftp/node/file-sink.js';
import type { Logger } from '../logger.js';

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
