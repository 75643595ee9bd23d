/** chat-server command-line options. */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { historyOptions, roomOptions, type HistoryOptions, type RoomOptions } from './room-options.js';
import { tlsOptions, type TlsOptions } from './tls-options.js';
import { secretOptions, type SecretOptions } from './secret-options.js';
import { UsageError } from '../../common/errors.js';
import { parseOptions } from '../../common/cli.js';
import { DEFAULT_MAX_FRAME, HEADER_SIZE, MAX_MAX_FRAME, MIN_MAX_FRAME } from '../../common/frame.js';
import { parseChoice, parseDuration, parseInteger, parseSize } from '../../common/units.js';
import { CONGESTION_CONTROLS, DEFAULT_CONGESTION, type CongestionName } from '../../common/lftp/engine/congestion.js';
import { LOG_LEVELS, parseLogLevel, parseLogRotation, type LogLevel, type LogRotation } from '../logger.js';
import { MAX_CAPACITY } from '../shm/session-table.js';
import { MAX_WORKERS } from '../shm/worker-stats.js';
import { MAX_ADMIN_TOKEN_LENGTH, MIN_ADMIN_TOKEN_LENGTH } from '../web/admin-auth.js';
import { DEFAULT_FLOOD } from '../../common/flood-gate.js';
import { DEFAULT_BACKLOG_FRAMES, type InboundPolicy } from '../chat/inbound-gate.js';
import { DEFAULT_ADMISSION, trustList, type AdmissionPolicy } from '../chat/admission.js';
import { DEFAULT_KEEP_FREE, DEFAULT_MAX_UPLOAD_PER_USER } from '../files/file-service.js';

export interface ServerOptions {
  history: HistoryOptions;
  tls: TlsOptions;
  secrets: SecretOptions;
  rooms: RoomOptions;
  host: string;
  port: number;
  workers: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  maxClients: number;
  maxFrame: number;
  logFile: string;
  logLevel: LogLevel;
  /** --log-max-size and --log-keep. */
  logRotation: LogRotation;
  filesDir: string;
  /** undefined: the same number as the TCP port. */
  lftpPort: number | undefined;
  maxTransfers: number;
  /** --qlog: a qlog file per LFTP transfer goes here, or null. */
  qlogDir: string | null;
  maxFileSize: number;
  /** Free space uploads must leave on the files' file system. */
  keepFree: number;
  /** Bytes one user (nick) may upload while the server runs. */
  maxUploadPerUser: number;
  /** undefined: the TCP port + 1; null: no web side. */
  httpPort: number | null | undefined;
  adminToken: string | null;
  /** Names the web side answers to besides its addresses, localhost and the host name. */
  webHosts: string[];
  congestion: CongestionName;
  /** Bytes that may wait for one client before it is dropped. */
  maxSendQueue: number;
  /** Bytes that may wait for all clients together (split between the workers) before the slowest readers are dropped. */
  maxOutputBytes: number;
  /** Flood control per session. */
  flood: InboundPolicy;
  /** Per-address limits. */
  admission: AdmissionPolicy;
}

export const SERVER_USAGE = `Usage: chat-server [options]

A TCP chat server: clients spread over worker threads, a shared session table,
heartbeats that drop silent clients, and an operator console on stdin.

Options:
  --host ADDR                 address to listen on (default 0.0.0.0)
  --port N                    TCP port, 0 picks a free one (default 9000)
  --workers N                 worker threads, 1-${MAX_WORKERS} (default: number of cores)
  --heartbeat-interval DUR    time between heartbeats, at least 100ms (default 5s)
  --heartbeat-timeout DUR     drop a client whose answer is this late (default 15s)
  --max-clients N             sessions at once, 1-${MAX_CAPACITY} (default 10000)
  --max-frame SIZE            largest frame body accepted (default 64KiB)
  --max-sendq SIZE            output that may wait for one client before it is dropped
                              (default 256KiB, and at least twice --max-frame)
  --max-output SIZE           output that may wait for all clients together; past it the
                              slowest readers are dropped first (default 512MiB)
  --flood-burst N             flood control: credits a session may spend at once; a message
                              costs 1 (+1 per 4KiB), /who and /files 2, /nick 5 (default ${DEFAULT_FLOOD.burst})
  --flood-rate N              credits earned back per second; beyond them commands wait
                              (default ${DEFAULT_FLOOD.perSecond})
  --flood-backlog N           commands that may wait; one more and the client is dropped
                              with FLOOD (default ${DEFAULT_BACKLOG_FRAMES})
  --max-sessions-per-address N  chat sessions from one address (default ${DEFAULT_ADMISSION.maxSessionsPerAddress})
  --max-pending-per-address N   chat connections from one address that have not said HELLO
                              (default ${DEFAULT_ADMISSION.maxPendingPerAddress})
  --max-http-per-address N    HTTP connections to the web port from one address (default ${DEFAULT_ADMISSION.maxHttpPerAddress})
  --trusted LIST              addresses exempt from the per-address limits: comma-separated
                              addresses, subnets (10.0.0.0/8) and "loopback" (default: none)
  --files DIR                 files shared over LFTP (default ./files, created if missing)
  --lftp-port N               UDP port for LFTP (default: the TCP port's number)
  --max-transfers N           LFTP transfers at once per worker; more wait in a queue (default 4)
  --qlog DIR                  each LFTP transfer as a qlog file in DIR (chat-client trace report)
  --max-file-size SIZE        largest upload accepted (default 16GiB)
  --max-upload-per-user SIZE  bytes one nick may upload while the server runs (default 8GiB)
  --keep-free SIZE            free space uploads must leave on the disk (default 256MiB)
  --cc NAME                   LFTP congestion control for downloads: reno (loss halves the
                              window) or bbr (a model of the path; holds up under random loss)
                              (default ${DEFAULT_CONGESTION})
  --http-port N               web chat page and WebSocket port (default: the TCP port + 1)
  --no-web                    no web side at all
  --web-host LIST             more host names the web side answers to (comma-separated);
                              it always answers to its addresses, localhost and the host name
  --admin-token TOKEN         enable the operator dashboard at /admin (${MIN_ADMIN_TOKEN_LENGTH}-${MAX_ADMIN_TOKEN_LENGTH} printable
                              characters; or set CHAT_ADMIN_TOKEN, which ps cannot show)
  --log-file PATH             JSON log file (default logs/server.log)
  --log-level LEVEL           ${LOG_LEVELS.join(', ')} (default info)
  --log-max-size SIZE         rotate the log past this size: FILE.1, FILE.2, … (default 16MiB)
  --log-keep N                rotated logs kept, 0-100 (default 5)
  --tls auto                  TLS on the chat and web ports with a certificate made on first start
                              and kept in the data folder (the default); its SHA-256 is printed
  --tls-cert FILE --tls-key FILE   TLS with your certificate and key (PEM)
  --no-tls                    plain TCP and HTTP: anyone on the network can read the chat
  --keylog FILE               write TLS secrets to FILE (SSLKEYLOGFILE: Wireshark decrypts with it)
  --server-password PASS      a private server: every client must give it (or set CHAT_SERVER_PASSWORD)
  --allow-plain-passwords     accept passwords over plain TCP (--no-tls), readable on the way
  --default-room NAME         the room everyone joins at login (default #lobby)
  --max-rooms N               rooms with members at once (default 1000)
  --max-rooms-per-user N      rooms one user may be in (default 20)
  --max-room-members N        members one room may have (default 10000)
  --history-on-join N         messages a client gets on joining a room, 0-200 (default 50)
  --resume-window DUR         how long a session whose connection was lost is kept for it to
                              resume (default 2m, at most 1d)
  --data DIR                  where the history is kept (default ./data, created if missing)
  --no-history                keep no history: messages are numbered, nothing is written
  --history-max-age DUR       messages older than this are removed (default 30d)
  --history-max-size SIZE     the history is kept under this size, the oldest removed first
                              (default 1GiB)
  -h, --help                  show this help
  -v, --version               show the version

Durations: 500ms, 5s, 1m, 2h, 30d. Sizes: 65536, 64KiB, 1MiB.
Operator console (stdin): a plain line is broadcast; /help lists the commands.
File transfer without the chat: chat-server lftp --help`;

const SPEC = {
  host: { type: 'string' },
  port: { type: 'string' },
  workers: { type: 'string' },
  'heartbeat-interval': { type: 'string' },
  'heartbeat-timeout': { type: 'string' },
  'max-clients': { type: 'string' },
  'max-frame': { type: 'string' },
  'max-sendq': { type: 'string' },
  'max-output': { type: 'string' },
  'flood-burst': { type: 'string' },
  'flood-rate': { type: 'string' },
  'flood-backlog': { type: 'string' },
  'max-sessions-per-address': { type: 'string' },
  'max-pending-per-address': { type: 'string' },
  'max-http-per-address': { type: 'string' },
  trusted: { type: 'string' },
  'log-file': { type: 'string' },
  files: { type: 'string' },
  'lftp-port': { type: 'string' },
  'max-transfers': { type: 'string' },
  qlog: { type: 'string' },
  'max-file-size': { type: 'string' },
  'max-upload-per-user': { type: 'string' },
  'keep-free': { type: 'string' },
  'http-port': { type: 'string' },
  cc: { type: 'string' },
  'no-web': { type: 'boolean' },
  'web-host': { type: 'string' },
  'admin-token': { type: 'string' },
  'log-level': { type: 'string' },
  'log-max-size': { type: 'string' },
  'log-keep': { type: 'string' },
  data: { type: 'string' },
  'default-room': { type: 'string' },
  'history-on-join': { type: 'string' },
  'resume-window': { type: 'string' },
  tls: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'no-tls': { type: 'boolean' },
  keylog: { type: 'string' },
  'server-password': { type: 'string' },
  'allow-plain-passwords': { type: 'boolean' },
  'max-rooms': { type: 'string' },
  'max-rooms-per-user': { type: 'string' },
  'max-room-members': { type: 'string' },
  'no-history': { type: 'boolean' },
  'history-max-age': { type: 'string' },
  'history-max-size': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

export type ParsedServerArgs = { help: true } | { version: true } | { options: ServerOptions };

/** Heartbeats more often than this measure the server's own load more than the peer's liveness. */
export const MIN_HEARTBEAT_INTERVAL_MS = 100;

export function parseServerArgs(args: string[], env: NodeJS.ProcessEnv = process.env): ParsedServerArgs {
  const { values: v } = parseOptions(args, SPEC);
  if (v.help) return { help: true };
  if (v.version) return { version: true };
  const interval =
    v['heartbeat-interval'] !== undefined ? parseDuration(v['heartbeat-interval'], '--heartbeat-interval') : 5_000;
  const timeout =
    v['heartbeat-timeout'] !== undefined ? parseDuration(v['heartbeat-timeout'], '--heartbeat-timeout') : 15_000;
  if (interval < MIN_HEARTBEAT_INTERVAL_MS) {
    throw new UsageError(
      `--heartbeat-interval must be at least ${MIN_HEARTBEAT_INTERVAL_MS}ms (a heartbeat more often than that is load, not liveness)`,
    );
  }
  if (timeout <= interval) {
    throw new UsageError(`--heartbeat-timeout (${timeout}ms) must be longer than --heartbeat-interval (${interval}ms)`);
  }
  const maxFrame = v['max-frame'] !== undefined ? parseSize(v['max-frame'], '--max-frame') : DEFAULT_MAX_FRAME;
  if (maxFrame < MIN_MAX_FRAME || maxFrame > MAX_MAX_FRAME) {
    throw new UsageError(`--max-frame must be between ${MIN_MAX_FRAME} and ${MAX_MAX_FRAME} bytes`);
  }
  if (v['no-web'] && (v['http-port'] !== undefined || v['admin-token'] !== undefined)) {
    throw new UsageError('--no-web turns the web side off: --http-port and --admin-token do not apply');
  }
  const adminToken = v['admin-token'] ?? (v['no-web'] ? undefined : env.CHAT_ADMIN_TOKEN || undefined);
  if (
    adminToken !== undefined &&
    !new RegExp(`^[\\x21-\\x7e]{${MIN_ADMIN_TOKEN_LENGTH},${MAX_ADMIN_TOKEN_LENGTH}}$`).test(adminToken)
  ) {
    throw new UsageError(
      `the admin token must be ${MIN_ADMIN_TOKEN_LENGTH}-${MAX_ADMIN_TOKEN_LENGTH} printable ASCII characters without spaces`,
    );
  }
  return {
    options: {
      host: v.host ?? '0.0.0.0',
      port: v.port !== undefined ? parseInteger(v.port, '--port', 0, 65535) : 9000,
      workers:
        v.workers !== undefined
          ? parseInteger(v.workers, '--workers', 1, MAX_WORKERS)
          : Math.min(MAX_WORKERS, availableParallelism()),
      heartbeatIntervalMs: interval,
      heartbeatTimeoutMs: timeout,
      maxClients:
        v['max-clients'] !== undefined ? parseInteger(v['max-clients'], '--max-clients', 1, MAX_CAPACITY) : 10_000,
      maxFrame,
      logFile: v['log-file'] ?? 'logs/server.log',
      logLevel: parseLogLevel(v['log-level']),
      logRotation: parseLogRotation(v['log-max-size'], v['log-keep']),
      filesDir: resolve(v.files ?? 'files'),
      lftpPort: v['lftp-port'] !== undefined ? parseInteger(v['lftp-port'], '--lftp-port', 0, 65535) : undefined,
      maxTransfers: v['max-transfers'] !== undefined ? parseInteger(v['max-transfers'], '--max-transfers', 1, 1024) : 4,
      qlogDir: v.qlog !== undefined ? resolve(v.qlog) : null,
      maxFileSize: v['max-file-size'] !== undefined ? parseSize(v['max-file-size'], '--max-file-size') : 16 * 2 ** 30,
      maxUploadPerUser:
        v['max-upload-per-user'] !== undefined
          ? parseSize(v['max-upload-per-user'], '--max-upload-per-user')
          : DEFAULT_MAX_UPLOAD_PER_USER,
      keepFree: v['keep-free'] !== undefined ? parseSize(v['keep-free'], '--keep-free') : DEFAULT_KEEP_FREE,
      httpPort: v['no-web']
        ? null
        : v['http-port'] !== undefined
          ? parseInteger(v['http-port'], '--http-port', 0, 65535)
          : undefined,
      adminToken: adminToken ?? null,
      webHosts: webHostList(v['web-host']),
      congestion: parseChoice(v.cc, '--cc', CONGESTION_CONTROLS, DEFAULT_CONGESTION),
      ...outputLimits(v['max-sendq'], v['max-output'], maxFrame),
      flood: floodPolicy(v['flood-burst'], v['flood-rate'], v['flood-backlog'], maxFrame),
      admission: admissionPolicy(v),
      history: historyOptions(v),
      tls: tlsOptions(v),
      secrets: secretOptions(v, env),
      rooms: roomOptions(v),
    },
  };
}

function floodPolicy(
  burst: string | undefined,
  rate: string | undefined,
  backlog: string | undefined,
  maxFrame: number,
): InboundPolicy {
  return {
    burst: burst !== undefined ? parseInteger(burst, '--flood-burst', 1, 1_000_000) : DEFAULT_FLOOD.burst,
    perSecond: rate !== undefined ? parseInteger(rate, '--flood-rate', 1, 1_000_000) : DEFAULT_FLOOD.perSecond,
    backlogFrames:
      backlog !== undefined ? parseInteger(backlog, '--flood-backlog', 1, 100_000) : DEFAULT_BACKLOG_FRAMES,
    // Room for the backlog's worth of ordinary messages, and at least two of the largest.
    backlogBytes: Math.max(256 * 1024, 2 * maxFrame),
  };
}

function admissionPolicy(v: {
  'max-sessions-per-address'?: string;
  'max-pending-per-address'?: string;
  'max-http-per-address'?: string;
  trusted?: string;
}): AdmissionPolicy {
  const count = (value: string | undefined, name: string, fallback: number) =>
    value !== undefined ? parseInteger(value, name, 1, MAX_CAPACITY) : fallback;
  return {
    maxSessionsPerAddress: count(
      v['max-sessions-per-address'],
      '--max-sessions-per-address',
      DEFAULT_ADMISSION.maxSessionsPerAddress,
    ),
    maxPendingPerAddress: count(
      v['max-pending-per-address'],
      '--max-pending-per-address',
      DEFAULT_ADMISSION.maxPendingPerAddress,
    ),
    maxHttpPerAddress: count(v['max-http-per-address'], '--max-http-per-address', DEFAULT_ADMISSION.maxHttpPerAddress),
    trusted: v.trusted !== undefined ? trustList(v.trusted) : [],
  };
}

function webHostList(value: string | undefined): string[] {
  if (value === undefined) return [];
  const names = value
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n.length > 0);
  const bad = names.find((n) => !/^[A-Za-z0-9.:_-]{1,253}$/.test(n));
  if (bad !== undefined || names.length === 0)
    throw new UsageError(
      `--web-host takes host names or addresses separated by commas (not ${JSON.stringify(bad ?? value)})`,
    );
  return names;
}

export const DEFAULT_MAX_SENDQ = 256 * 1024;
export const DEFAULT_MAX_OUTPUT = 512 * 1024 * 1024;

/** A client's queue must hold two of the largest frames, and the total at least one client's queue. */
function outputLimits(
  sendq: string | undefined,
  output: string | undefined,
  maxFrame: number,
): { maxSendQueue: number; maxOutputBytes: number } {
  const least = 2 * (maxFrame + HEADER_SIZE);
  const maxSendQueue = sendq !== undefined ? parseSize(sendq, '--max-sendq') : Math.max(DEFAULT_MAX_SENDQ, least);
  if (maxSendQueue < least)
    throw new UsageError(
      `--max-sendq must be at least twice --max-frame (${least} bytes), or the largest frames could not be queued`,
    );
  const maxOutputBytes = output !== undefined ? parseSize(output, '--max-output') : DEFAULT_MAX_OUTPUT;
  if (maxOutputBytes < maxSendQueue)
    throw new UsageError(`--max-output must be at least --max-sendq (${maxSendQueue} bytes)`);
  return { maxSendQueue, maxOutputBytes };
}
