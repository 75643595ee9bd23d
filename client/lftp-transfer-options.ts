/**
 * What one LFTP transfer of the client is asked to do, and what it gives back (lftp-client.ts runs it); and the
 * same for a folder's (lftp-folder.ts, whose files lftp-folder-files.ts moves).
 */
import type { Op } from '../common/lftp/engine/connection.js';
import type { CongestionName } from '../common/lftp/engine/congestion.js';
import type { ResumeMode } from './lftp-resume.js';
import type { SharedEndpoint } from '../common/lftp/node/shared-endpoint.js';
import type { FolderManifest } from '../common/lftp/node/folder-manifest.js';

export interface TransferOptions {
  host: string;
  port: number;
  op: Op;
  /** Name on the server. */
  remote: string;
  /** Path on this machine: read for post, created for get (never overwritten). */
  local: string;
  /** The chat's one-time ticket. */
  auth?: string;
  /**
   * Where the transfer's key comes from: the master key TICKET gave (chat), or the standalone server's --token
   * (made into one with scrypt). Without it nothing is protected (an --open server).
   */
  keyFrom?: { master: Buffer; salt?: Buffer } | { token: string };
  mss?: number;
  idleTimeoutMs?: number;
  /** Give up the handshake after this long (default 30 s). */
  connectTimeoutMs?: number;
  receiveCapacity?: number;
  maxWindow?: number;
  /** Congestion control when this side sends (post); default bbr. */
  congestion?: CongestionName;
  tracePath?: string;
  /** --qlog: this transfer's qlog file goes in this folder. */
  qlogDir?: string;
  /** Readable lines about handshake, teardown, losses, timeouts (--verbose). */
  onVerbose?: (line: string) => void;
  /** bytes: of the whole file, the resumed part (from) included. */
  onProgress?: (bytes: number, total: number, elapsedMs: number, from: number) => void;
  onQueued?: (position: number) => void;
  /** The server accepted (the handshake is done): the transfer is under way. */
  onStarted?: () => void;
  progressEveryMs?: number;
  /** Abort from outside (Ctrl-C, /quit). */
  signal?: AbortSignal;
  /** Resume (docs/LFTP.md, "Resume"): continue a cut transfer, or start over keeping a partial; none: neither. */
  resume?: ResumeMode;
  /** Where the transfer starts, or why it starts over (resume). */
  onResume?: (line: string) => void;
  /**
   * The transfer resolves when its TIME_WAIT begins (the outcome is known); then the socket closes at once (a
   * command about to exit: its last ACK is its last word, docs/LFTP.md "End of data and teardown"), or, with
   * this, TIME_WAIT runs out in the background (a process that goes on: the chat client).
   */
  lingerInBackground?: boolean;
  /** A socket shared with other transfers to the same server (a folder's files); else the transfer opens its own. */
  shared?: SharedEndpoint;
}

export interface TransferResult {
  size: number;
  sha256: string;
  elapsedMs: number;
  path: string;
  retransmissions: number;
  /** Where a resumed transfer started (0: from the beginning). */
  resumedFrom: number;
}

export interface FolderOptions {
  /** How to reach the server and move each file (local, remote, op and the callbacks below are set here). */
  settings: Omit<TransferOptions, 'local' | 'remote' | 'op' | 'onProgress' | 'onResume' | 'onStarted'>;
  /** The folder's name on the server, without a slash. */
  remote: string;
  /** get: where the folder should land (a free name is picked at the end); post: the folder to send. */
  local: string;
  /** The whole folder's progress: bytes of all its files, those held before this run included (from). */
  onProgress?: (bytes: number, total: number, elapsedMs: number, from: number) => void;
  /** The folder's own lines (files held whole from an earlier run, the name it lands under). */
  onLine?: (line: string) => void;
  /** A line per file that resumes or starts over (--verbose). */
  onFileLine?: (line: string) => void;
  /** post: the folder's manifest, if walked already. */
  manifest?: FolderManifest;
}

export interface FolderResult {
  files: number;
  dirs: number;
  size: number;
  elapsedMs: number;
  /** Bytes held before this run (whole files kept, partials continued, or held by the server). */
  resumedFrom: number;
  retransmissions: number;
  path: string;
}
