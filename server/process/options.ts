/** chat-server command-line options (the --help text: server-usage.ts). */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { historyOptions, roomOptions, type HistoryOptions, type RoomOptions } from './room-options.js';
import { tlsOptions, type TlsOptions } from './tls-options.js';
import { secretOptions, type SecretOptions } from './secret-options.js';
import { advertiseOption, clusterOptions } from './cluster-options.js';
import type { RedisTarget } from '../cluster/redis-url.js';
import { admissionPolicy, floodPolicy, outputLimits } from './limit-options.js';
import { UsageError } from '../../common/errors.js';
import { parseOptions } from '../../common/cli.js';
import { DEFAULT_MAX_FRAME, MAX_MAX_FRAME, MIN_MAX_FRAME } from '../../common/frame.js';
import { parseChoice, parseDuration, parseInteger, parseSize } from '../../common/units.js';
import { CONGESTION_CONTROLS, DEFAULT_CONGESTION, type CongestionName } from '../../common/lftp/engine/congestion.js';
import { parseLogLevel, parseLogRotation, type LogLevel, type LogRotation } from '../logger.js';
import { MAX_CAPACITY } from '../shm/session-table.js';
import { MAX_WORKERS } from '../shm/worker-stats.js';
import { MAX_ADMIN_TOKEN_LENGTH, MIN_ADMIN_TOKEN_LENGTH } from '../web/admin-auth.js';
import { WEB_HEADER_TIMEOUT_MS } from '../web/web-server.js';
import type { InboundPolicy } from '../chat/inbound-gate.js';
import type { NickMode } from '../irc/nick-map.js';
import type { AdmissionPolicy } from '../chat/admission.js';
import { DEFAULT_KEEP_FREE, DEFAULT_MAX_UPLOAD_PER_USER } from '../files/file-service.js';

export interface ServerOptions {
  history: HistoryOptions;
  tls: TlsOptions;
  secrets: SecretOptions;
  rooms: RoomOptions;
  /** --node-id: this node's id in every session address (server/bus/node-id.ts; default the constant n1). */
  nodeId: string;
  /** --redis (or CHAT_REDIS_URL): this node is one of a cluster sharing that Redis; null: a single node. */
  redis: RedisTarget | null;
  /** --node-lease: how long a cluster's node that stops renewing its lease is still thought alive. */
  nodeLeaseMs: number;
  /** --advertise: the address other machines reach this node at (its files' tickets point there); a cluster's only. */
  advertise: string | null;
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
  /** The IRC door (--irc-port): undefined, IRC's own port (6697 with TLS, 6667 without); null: none (--no-irc). */
  ircPort: number | null | undefined;
  /** --irc-nicks: how the IRC door shows chat nicks (utf8: as they are; ascii: RFC 2812 ones, the rest as xn--). */
  ircNicks: NickMode;
  adminToken: string | null;
  /** Names the web side answers to besides its addresses, localhost and the host name. */
  webHosts: string[];
  /** --web-header-timeout: the time a web connection has to send a request's headers. */
  webHeaderTimeoutMs: number;
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

const SPEC = {
  host: { type: 'string' },
  'node-id': { type: 'string' },
  redis: { type: 'string' },
  'node-lease': { type: 'string' },
  advertise: { type: 'string' },
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
  'irc-port': { type: 'string' },
  'no-irc': { type: 'boolean' },
  'irc-nicks': { type: 'string' },
  'web-host': { type: 'string' },
  'web-header-timeout': { type: 'string' },
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
  'tls-handshake-timeout': { type: 'string' },
  'server-password': { type: 'string' },
  'allow-plain-passwords': { type: 'boolean' },
  'max-rooms': { type: 'string' },
  'max-rooms-per-user': { type: 'string' },
  'max-room-members': { type: 'string' },
  'max-rooms-per-prefix': { type: 'string' },
  'max-rooms-per-account': { type: 'string' },
  'room-grace': { type: 'string' },
  'max-registrations-per-prefix': { type: 'string' },
  'max-inbox-conversations': { type: 'string' },
  'max-inbox-size': { type: 'string' },
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
      ...ircOptions(v['no-irc'], v['irc-port'], v['irc-nicks']),
      adminToken: adminToken ?? null,
      webHosts: webHostList(v['web-host']),
      webHeaderTimeoutMs: webHeaderTimeout(v['web-header-timeout'], v['no-web']),
      congestion: parseChoice(v.cc, '--cc', CONGESTION_CONTROLS, DEFAULT_CONGESTION),
      ...outputLimits(v['max-sendq'], v['max-output'], maxFrame),
      flood: floodPolicy(v['flood-burst'], v['flood-rate'], v['flood-backlog'], maxFrame),
      admission: admissionPolicy(v),
      history: historyOptions(v),
      tls: tlsOptions(v),
      secrets: secretOptions(v, env),
      rooms: roomOptions(v),
      ...clusterOptions(v['redis'] ?? (env.CHAT_REDIS_URL || undefined), v['node-id'], v['node-lease']),
      advertise: advertiseOption(v.advertise, v.host ?? '0.0.0.0', v['redis'] ?? (env.CHAT_REDIS_URL || undefined)),
    },
  };
}

/** The IRC door: its port (undefined: IRC's own, supervisor.ts), or none; how it shows nicks. */
function ircOptions(
  off: boolean | undefined,
  port: string | undefined,
  nicks: string | undefined,
): Pick<ServerOptions, 'ircPort' | 'ircNicks'> {
  if (off && (port !== undefined || nicks !== undefined))
    throw new UsageError('--no-irc turns the IRC door off: --irc-port and --irc-nicks do not apply');
  return {
    ircPort: off ? null : port !== undefined ? parseInteger(port, '--irc-port', 0, 65535) : undefined,
    ircNicks: parseChoice(nicks, '--irc-nicks', ['utf8', 'ascii'] as const, 'utf8'),
  };
}

/**
 * The port the IRC door listens on: the one asked for, or none; by default a free one beside a free chat port
 * (--port 0: several servers at once must not all ask for one port), else IRC's own, 6697 with TLS and 6667
 * without (IRC clients expect TLS on 6697 and plain on 6667).
 */
export function ircListenPort(o: Pick<ServerOptions, 'ircPort' | 'port' | 'tls'>): number | null {
  if (o.ircPort !== undefined) return o.ircPort;
  if (o.port === 0) return 0;
  return o.tls.choice.mode === 'off' ? 6667 : 6697;
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

/** --web-header-timeout: 1 s to 10 min (default 10 s, as long as a HELLO waits on the chat port). */
function webHeaderTimeout(value: string | undefined, noWeb: boolean | undefined): number {
  if (value === undefined) return WEB_HEADER_TIMEOUT_MS;
  if (noWeb) throw new UsageError('--no-web has no web side: --web-header-timeout does not apply');
  const ms = parseDuration(value, '--web-header-timeout');
  if (ms < 1000 || ms > 600_000) throw new UsageError('--web-header-timeout must be between 1s and 10m');
  return ms;
}
