/**
 * `chat-server lftp`'s command line: its usage (--help), the options as
 * given, and what they are checked into before anything starts: the
 * endpoint's settings, the log's, the dashboard's.
 */
import { resolve } from 'node:path';
import { UsageError } from '../../common/errors.js';
import { parseOptions } from '../../common/cli.js';
import { MAX_MSS, MIN_MSS } from '../../common/lftp/engine/packet.js';
import { parseChoice, parseDuration, parseInteger, parseSize } from '../../common/units.js';
import { CONGESTION_CONTROLS, DEFAULT_CONGESTION } from '../../common/lftp/engine/congestion.js';
import { LFTP_DEFAULTS } from '../../common/lftp/defaults.js';
import { LOG_LEVELS, parseLogLevel, parseLogRotation, type Logger } from '../logger.js';
import { DEFAULT_KEEP_FREE, type FileService } from '../files/file-service.js';
import type { LftpServerOptions } from '../files/lftp-server-api.js';
import { writeLineSync } from '../../common/sync-output.js';

export const LFTP_SERVER_USAGE = `Usage: chat-server lftp --files DIR (--token SECRET | --open) [options]

Serves DIR over LFTP (reliable file transfer over UDP) without the chat.
Clients: chat-client lftp get|post HOST:PORT ...

Options:
  --host ADDR            address to bind (default 0.0.0.0)
  --port N               UDP port, 0 picks a free one (default 9000)
  --files DIR            directory served and written to (default ./files, created if missing)
  --token SECRET         clients must present this token (--token on the client)
  --open                 no authorization at all (anyone who can reach the port)
  --max-transfers N      transfers at once; the rest wait in a queue (default 8)
  --max-queued N         requests that may wait (default 64); beyond that, BUSY
  --max-file-size SIZE   largest upload accepted (default 16GiB)
  --keep-free SIZE       free space uploads must leave on the disk (default 256MiB)
  --mss N                largest payload per datagram accepted (default ${MAX_MSS})
  --cc NAME              congestion control for downloads: ${CONGESTION_CONTROLS.join(' or ')} (default ${DEFAULT_CONGESTION})
  --idle-timeout DUR     drop a transfer whose client is silent this long (default 30s)
  --verbose              print handshakes, teardowns, losses, retransmissions
  --trace FILE           every datagram as a JSON line
  --qlog DIR             each transfer as a qlog file (JSON-SEQ) in DIR
  --admin-token T        the operator dashboard (the transfers, their cwnd and sequence
                         charts) on http://HOST:HTTP-PORT/admin, this token its password
  --http-port N          the dashboard's TCP port (default: --port + 1)
  --log-file PATH        JSON log (default logs/lftp.log)
  --log-level LEVEL      ${LOG_LEVELS.join(', ')} (default info)
  --log-max-size SIZE    rotate the log past this size (default 16MiB)
  --log-keep N           rotated logs kept (default 5)
  -h, --help             this help`;

const SPEC = {
  host: { type: 'string' },
  port: { type: 'string' },
  files: { type: 'string' },
  token: { type: 'string' },
  open: { type: 'boolean' },
  'max-transfers': { type: 'string' },
  'max-queued': { type: 'string' },
  'max-file-size': { type: 'string' },
  'keep-free': { type: 'string' },
  mss: { type: 'string' },
  cc: { type: 'string' },
  'idle-timeout': { type: 'string' },
  verbose: { type: 'boolean' },
  trace: { type: 'string' },
  qlog: { type: 'string' },
  'admin-token': { type: 'string' },
  'http-port': { type: 'string' },
  'log-file': { type: 'string' },
  'log-level': { type: 'string' },
  'log-max-size': { type: 'string' },
  'log-keep': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type LftpArgs = ReturnType<typeof parseOptions<typeof SPEC>>['values'];

/** The options as given; null for --help. */
export function lftpArgs(args: string[]): LftpArgs | null {
  const { values: v } = parseOptions(args, SPEC);
  return v.help ? null : v;
}

/** Everything that is checked before anything starts (a folder is made or a log opened); throws UsageError. */
export function checkedSettings(v: LftpArgs) {
  if (v.token === undefined && !v.open)
    throw new UsageError('give --token SECRET, or --open to serve without authorization');
  if (v.token !== undefined && v.open) throw new UsageError('--token and --open exclude each other');
  if (v.token !== undefined && v.token.length === 0) throw new UsageError('--token must not be empty');
  const web = dashboardOptions(v['admin-token'], v['http-port']);
  const level = parseLogLevel(v['log-level']);
  const rotation = parseLogRotation(v['log-max-size'], v['log-keep']);
  const host = v.host ?? '0.0.0.0';
  const port = v.port !== undefined ? parseInteger(v.port, '--port', 0, 65535) : 9000;
  const filesDir = resolve(v.files ?? 'files');
  const maxMss = v.mss !== undefined ? parseInteger(v.mss, '--mss', MIN_MSS, MAX_MSS) : MAX_MSS;
  const queue = {
    maxTransfers:
      v['max-transfers'] !== undefined
        ? parseInteger(v['max-transfers'], '--max-transfers', 1, 1024)
        : LFTP_DEFAULTS.standaloneMaxTransfers,
    maxQueued:
      v['max-queued'] !== undefined
        ? parseInteger(v['max-queued'], '--max-queued', 0, 100_000)
        : LFTP_DEFAULTS.maxQueued,
    idleTimeoutMs:
      v['idle-timeout'] !== undefined
        ? parseDuration(v['idle-timeout'], '--idle-timeout')
        : LFTP_DEFAULTS.idleTimeoutMs,
  };
  const maxFileSize =
    v['max-file-size'] !== undefined ? parseSize(v['max-file-size'], '--max-file-size') : LFTP_DEFAULTS.maxFileSize;
  const keepFree = v['keep-free'] !== undefined ? parseSize(v['keep-free'], '--keep-free') : DEFAULT_KEEP_FREE;
  return { web, level, rotation, host, port, filesDir, maxMss, queue, maxFileSize, keepFree };
}

export type LftpSettings = ReturnType<typeof checkedSettings>;

/** --admin-token [--http-port N]: the dashboard's settings, checked before anything starts; null: no dashboard. */
function dashboardOptions(
  adminToken: string | undefined,
  httpPort: string | undefined,
): { adminToken: string; port: number | null } | null {
  if (adminToken === undefined) {
    if (httpPort !== undefined) throw new UsageError('--http-port is for the dashboard: give --admin-token too');
    return null;
  }
  if (adminToken.length < 8) throw new UsageError('--admin-token must be at least 8 characters');
  return { adminToken, port: httpPort !== undefined ? parseInteger(httpPort, '--http-port', 0, 65535) : null };
}

/** What the endpoint is started with: the settings, and the options read as it is made (--cc among them). */
export function endpointOptions(v: LftpArgs, s: LftpSettings, files: FileService, log: Logger): LftpServerOptions {
  const token = v.token;
  return {
    host: s.host,
    port: s.port,
    files,
    ...s.queue,
    maxMss: s.maxMss,
    receiveCapacity: LFTP_DEFAULTS.receiveCapacity,
    maxWindow: LFTP_DEFAULTS.maxWindow,
    congestion: parseChoice(v.cc, '--cc', CONGESTION_CONTROLS, DEFAULT_CONGESTION),
    reusePort: false,
    // The token is the key: a SYN that proves it is authorised (syn-keys.ts, which also slows wrong tries).
    keying: token === undefined ? { kind: 'open' } : { kind: 'token', token },
    authorize: () => ({ allow: true }),
    print: (line) => writeLineSync(1, line),
    log,
    verbose: v.verbose ?? false,
    // Cut transfers continue (docs/LFTP.md, "Resume"); no quota here for partial uploads to count against.
    resume: true,
    ...(v.trace !== undefined ? { tracePath: v.trace } : {}),
    ...(v.qlog !== undefined ? { qlogDir: v.qlog } : {}),
  };
}
