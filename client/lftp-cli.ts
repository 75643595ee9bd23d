/** `chat-client lftp get|post`: file transfer without the chat. */
import { basename } from 'node:path';
import { ExitCode, UsageError } from '../common/errors.js';
import { exitCodeOf, parseOptions } from '../common/cli.js';
import { parseHostPort } from '../common/lftp/node/address.js';
import { LftpError } from '../common/lftp/engine/errors.js';
import { DEFAULT_MSS, MAX_MSS, MIN_MSS, PROTECTED_MSS } from '../common/lftp/engine/packet.js';
import type { ProgressPrinter } from './progress.js';
import { writeLineSync } from '../common/sync-output.js';
import { formatBytes, formatRate, parseChoice, parseDuration, parseInteger } from '../common/units.js';
import { CONGESTION_CONTROLS, DEFAULT_CONGESTION } from '../common/lftp/engine/congestion.js';
import { withTokenKey } from './lftp-preflight.js';
import type { TransferOptions, TransferResult } from './lftp-transfer-options.js';
import { MASTER_BYTES } from '../common/lftp/protect/keys.js';
import { destinationFor, freeName, postSource } from './local-files.js';
import { stat } from 'node:fs/promises';

export const LFTP_CLIENT_USAGE = `Usage: chat-client lftp get HOST:PORT REMOTE [LOCAL] [options]
       chat-client lftp post HOST:PORT LOCAL [REMOTE] [options]

Reliable file transfer over UDP (LFTP) with a chat-server or a standalone
'chat-server lftp'. get never overwrites LOCAL (default: ./REMOTE); post stores
the file under REMOTE (default: LOCAL's name), which must not exist on the server.
Folders: 'get HOST:PORT DIR/' fetches the folder DIR with everything in it, and
'post HOST:PORT LOCALDIR' sends one; up to 4 files at once, each verified, under
one progress bar; a cut folder transfer continues as a file does.

Options:
  --token SECRET        the server's shared token (standalone servers); it keys the
                        transfer's packet protection and never leaves this machine
  --ticket T --ticket-key K  a chat server's one-time ticket and its key, as a TICKET
                        frame gives them (scripts that speak the chat protocol)
  --mss N               payload bytes per datagram, ${MIN_MSS}-${MAX_MSS} (default ${DEFAULT_MSS}, ${PROTECTED_MSS} when
                        protected: a datagram fits a 1500-byte MTU; bigger ones are probed for where the path takes them)
  --cc NAME             congestion control for post: ${CONGESTION_CONTROLS.join(' or ')} (default ${DEFAULT_CONGESTION});
                        for get the server's --cc decides
  --idle-timeout DUR    give up when the server is silent this long (default 30s)
  --connect-timeout DUR give up when the server does not answer the handshake (default 30s)
  --verbose             handshake, teardown, losses, retransmissions, window changes
  --trace FILE          every datagram as a JSON line (time, flags, seq, ack, window, cwnd, ...)
  --qlog DIR            the transfer as a qlog file (JSON-SEQ) in DIR: chat-client trace report draws it
  --no-resume           start over instead of continuing what a cut transfer left
                        (by default a get continues its partial file, a post what
                        the server holds of it; the whole SHA-256 is checked anyway)
  --quiet               no progress output
  --json                print the result as one JSON line (size, sha256, elapsedMs, retransmissions,
                        resumedFrom)
  -h, --help            this help

Exit codes: 0 the file arrived whole and its SHA-256 matched; 1 transfer failed
(or the file to post cannot be read);
2 bad usage; 3 the server did not answer; 4 the server refused (no such file,
name taken or invalid, authorization, busy).`;

const SPEC = {
  token: { type: 'string' },
  ticket: { type: 'string' },
  'ticket-key': { type: 'string' },
  mss: { type: 'string' },
  cc: { type: 'string' },
  'idle-timeout': { type: 'string' },
  'connect-timeout': { type: 'string' },
  verbose: { type: 'boolean' },
  trace: { type: 'string' },
  qlog: { type: 'string' },
  quiet: { type: 'boolean' },
  'no-resume': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** --token, or --ticket with --ticket-key, or neither (an --open server). */
function keySource(
  token: string | undefined,
  ticket: string | undefined,
  key: string | undefined,
): Pick<TransferOptions, 'auth' | 'keyFrom'> {
  if (token !== undefined && (ticket !== undefined || key !== undefined))
    throw new UsageError('--token (a standalone server) and --ticket (a chat server) exclude each other');
  if ((ticket === undefined) !== (key === undefined))
    throw new UsageError('--ticket and --ticket-key go together (both come in the TICKET frame)');
  if (token !== undefined) return { keyFrom: { token } };
  if (ticket === undefined) return {};
  const master = Buffer.from(key!, 'base64url');
  if (master.length !== MASTER_BYTES || master.toString('base64url') !== key)
    throw new UsageError(`--ticket-key must be ${MASTER_BYTES} bytes in base64url, as TICKET gives it`);
  return { auth: ticket, keyFrom: { master } };
}

type Values = ReturnType<typeof parseOptions<typeof SPEC>>['values'];

/** What the command line asks for, checked: which way, the names at both ends, and the transfer's settings. */
interface Request {
  op: 'get' | 'post';
  /** The local path asked for (get: may exist already, and is then not the one written). */
  wanted: string;
  /** get: the LOCAL given, if any. */
  local?: string;
  settings: Omit<TransferOptions, 'local'>;
}

function parseRequest(v: Values, positionals: string[]): Request {
  const [op, target, a, b, ...extra] = positionals;
  if (op !== 'get' && op !== 'post')
    throw new UsageError(`expected 'get' or 'post', got ${op === undefined ? 'nothing' : JSON.stringify(op)}`);
  if (!target || !a || extra.length > 0)
    throw new UsageError(
      op === 'get'
        ? 'usage: chat-client lftp get HOST:PORT REMOTE [LOCAL]'
        : 'usage: chat-client lftp post HOST:PORT LOCAL [REMOTE]',
    );
  const { host, port } = parseHostPort(target);
  const mss = v.mss !== undefined ? parseInteger(v.mss, '--mss', MIN_MSS, MAX_MSS) : undefined;
  const idle = v['idle-timeout'] !== undefined ? parseDuration(v['idle-timeout'], '--idle-timeout') : undefined;
  const connect =
    v['connect-timeout'] !== undefined ? parseDuration(v['connect-timeout'], '--connect-timeout') : undefined;
  const congestion = parseChoice(v.cc, '--cc', CONGESTION_CONTROLS, DEFAULT_CONGESTION);
  return {
    op,
    wanted: op === 'get' ? (b ?? basename(a)) : a,
    ...(op === 'get' && b !== undefined ? { local: b } : {}),
    settings: {
      host,
      port,
      op,
      remote: op === 'get' ? a : (b ?? basename(a)),
      ...(mss !== undefined ? { mss } : {}),
      congestion,
      ...(idle !== undefined ? { idleTimeoutMs: idle } : {}),
      ...(connect !== undefined ? { connectTimeoutMs: connect } : {}),
      ...(v.trace !== undefined ? { tracePath: v.trace } : {}),
      ...(v.qlog !== undefined ? { qlogDir: v.qlog } : {}),
      resume: v['no-resume'] === true ? 'restart' : 'auto',
    },
  };
}

/** What the transfer says on the way, on stderr: --verbose lines (ending the bar first), the bar, a queue place. */
function reporting(
  verbose: boolean,
  progress: ProgressPrinter | null,
  shown: string,
): Pick<TransferOptions, 'onVerbose' | 'onProgress' | 'onQueued' | 'onResume'> {
  return {
    ...(verbose
      ? {
          onVerbose: (line: string) => {
            progress?.done();
            writeLineSync(2, `lftp: ${line}`);
          },
        }
      : {}),
    ...(progress
      ? {
          onProgress: (bytes: number, total: number, ms: number, from: number) =>
            progress.update(shown, { bytes, total, elapsedMs: ms, from }),
        }
      : {}),
    onQueued: (position) => writeLineSync(2, `lftp: server busy; you are number ${position} in the queue`),
    onResume: (line) => {
      progress?.done();
      writeLineSync(2, `lftp: ${line}`);
    },
  };
}

/** The line on stdout once the file arrived whole: for people, or (--json) for scripts. */
function resultLine(json: boolean, op: 'get' | 'post', shown: string, r: TransferResult): string {
  // A resumed transfer's rate is of the bytes it moved.
  const resumed = r.resumedFrom > 0 ? `, resumed at ${formatBytes(r.resumedFrom)}` : '';
  const rate = formatRate(r.size - r.resumedFrom, r.elapsedMs);
  if (!json) return `transfer complete: ${shown} (${formatBytes(r.size)}${resumed}, ${rate}, sha256 ok)`;
  return JSON.stringify({
    ok: true,
    op,
    name: shown,
    size: r.size,
    sha256: r.sha256,
    elapsedMs: r.elapsedMs,
    retransmissions: r.retransmissions,
    resumedFrom: r.resumedFrom,
  });
}

export async function runLftpClient(args: string[]): Promise<number> {
  const { values: v, positionals } = parseOptions(args, SPEC, true);
  if (v.help) {
    writeLineSync(1, LFTP_CLIENT_USAGE);
    return ExitCode.OK;
  }
  const request = parseRequest(v, positionals);
  const { op, settings } = request;
  // A token's scrypt (~40 ms, on libuv's pool) starts now and runs while the files are checked and the transfer's
  // modules load; awaited once they have.
  const keysReady = withTokenKey(keySource(v.token, v.ticket, v['ticket-key']));
  keysReady.catch(() => undefined);
  // As the chat's /get: a LOCAL that is a directory, or ends in a slash, receives the file or folder by its name.
  const wanted =
    request.local !== undefined ? await destinationFor('.', basename(settings.remote), request.local) : request.wanted;
  const folder = await asFolder(op, settings.remote, wanted);
  // As in the chat's /get: an existing file is never overwritten, and the server is still asked (a wrong
  // token is then reported as such, not hidden behind "the local file exists").
  // A file to post that is missing or unreadable is this machine's failure (exit 1), not the server's refusal.
  if (op === 'post' && !folder) await postSource(wanted);
  const local = op === 'get' && !folder ? await freeName(wanted) : wanted;
  // Said once the server accepted: a get that fails (no such file, a wrong token) saves nothing, under no name.
  const announce = () => writeLineSync(2, `lftp: ${wanted} exists; saving as ${local}`);
  const shown = folder ? `${folder}/` : op === 'get' ? settings.remote : local;
  // --quiet loads no bar: its text layout's set-up (string-width: ~10 ms) would be a script's start-up for nothing.
  const progress = v.quiet
    ? null
    : new (await import('./progress.js')).ProgressPrinter(2, process.stderr.isTTY === true);
  // Ctrl-C: tell the server, remove the temporary file, then exit (no partial file is left behind).
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => abort.abort(`interrupted (${sig})`);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const report = reporting(v.verbose === true, progress, shown);
  try {
    let line: string;
    if (folder) {
      // Loaded for a folder only: a single file's command starts sooner without it (about 20 ms of modules).
      const { folderResultLine, getFolder, postFolder } = await import('./lftp-folder.js');
      const keyed = { ...(await keysReady), signal: abort.signal };
      const { onProgress, onResume, ...rest } = report;
      const r = await (op === 'get' ? getFolder : postFolder)({
        settings: { ...settings, ...keyed, ...rest },
        remote: folder,
        local: wanted.replace(/\/+$/, '') || wanted,
        ...(onProgress ? { onProgress } : {}),
        ...(onResume ? { onLine: onResume, ...(v.verbose ? { onFileLine: onResume } : {}) } : {}),
      });
      line = folderResultLine(v.json === true, op, shown, r);
    } else {
      const { transfer } = await import('./lftp-client.js');
      const keyed = { ...(await keysReady), signal: abort.signal };
      const r = await transfer({
        ...settings,
        local,
        ...keyed,
        ...report,
        ...(local !== wanted ? { onStarted: announce } : {}),
      });
      line = resultLine(v.json === true, op, shown, r);
    }
    progress?.done();
    writeLineSync(1, line);
    return ExitCode.OK;
  } catch (err) {
    progress?.done();
    if (err instanceof LftpError) {
      writeLineSync(2, `transfer failed: ${shown}: ${err.code}: ${err.message}`);
      return abort.signal.aborted ? 130 : exitCodeOf(err);
    }
    writeLineSync(2, `transfer failed: ${shown}: ${(err as Error).message}`);
    return ExitCode.FAILURE;
  }
}

/** The folder's name when the request is for one (get of `DIR/`, post of a local folder), else null. */
async function asFolder(op: 'get' | 'post', remote: string, local: string): Promise<string | null> {
  if (op === 'get') return remote.endsWith('/') ? remote.replace(/\/+$/, '') : null;
  const st = await stat(local).catch(() => null);
  return st?.isDirectory() ? remote.replace(/\/+$/, '') : null;
}
