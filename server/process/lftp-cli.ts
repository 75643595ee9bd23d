/** `chat-server lftp`: the LFTP file server on its own, without the chat (the command line: lftp-options.ts). */
import { mkdirSync } from 'node:fs';
import { sweepPartFiles } from '../../common/lftp/node/file-sink.js';
import { startPartialSweeps } from '../files/partial-sweep.js';
import { ExitCode } from '../../common/errors.js';
import { packageVersion } from '../../common/cli.js';
import { writeLineSync } from '../../common/sync-output.js';
import { openLog } from '../logger.js';
import { LftpServer } from '../files/lftp-server.js';
import { FileService } from '../files/file-service.js';
import { ListenError } from '../listen-error.js';
import { startLftpDashboard } from './lftp-dashboard.js';
import { LFTP_SERVER_USAGE, checkedSettings, endpointOptions, lftpArgs } from './lftp-options.js';
import { webUrls } from './listening-lines.js';
import { datagramPath } from '../../common/lftp/native/load.js';
import type { Logger } from '../logger.js';

export async function runLftpServer(args: string[]): Promise<number> {
  const v = lftpArgs(args);
  if (!v) {
    writeLineSync(1, LFTP_SERVER_USAGE);
    return ExitCode.OK;
  }
  const s = checkedSettings(v);
  const { host, port, filesDir } = s;
  try {
    mkdirSync(filesDir, { recursive: true });
  } catch (err) {
    writeLineSync(2, `chat-server: cannot create the files directory ${filesDir}: ${(err as Error).message}`);
    return ExitCode.FAILURE;
  }
  const log = openLog(v['log-file'] ?? 'logs/lftp.log', s.level, { component: 'lftp' }, s.rotation);
  const stale = sweepPartFiles(filesDir);
  if (stale.length > 0)
    log.logger.info(
      { removed: stale.length, files: stale.slice(0, 20) },
      'removed unfinished uploads left by an earlier run',
    );
  // Partial uploads (resume) are kept across restarts, but not for ever.
  const sweepTimer = startPartialSweeps(filesDir, log.logger);
  const token = v.token;
  const files = new FileService(filesDir, { maxFileSize: s.maxFileSize, keepFree: s.keepFree, quota: null });
  const server = new LftpServer(endpointOptions(v, s, files, log.logger));
  let bound: number;
  try {
    bound = await server.start();
  } catch (err) {
    writeLineSync(2, `chat-server: ${ListenError.from('lftp', host, port, err, '--port').message}`);
    return ExitCode.FAILURE;
  }
  log.logger.info({ host, port: bound, filesDir, open: token === undefined }, 'lftp listening');
  writeLineSync(1, `listening on udp ${host}:${bound}`);
  writeLineSync(1, `serving ${filesDir}${token === undefined ? ' (open: no authorization)' : ''}`);
  writeLineSync(1, `lftp datagrams: ${datagramPath()}`);
  const dashboard = s.web ? await startDashboard(s.web, host, bound, server, files, log.logger) : null;
  if (dashboard === 'failed') {
    await server.close();
    return ExitCode.FAILURE;
  }
  await new Promise<void>((done) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => done());
  });
  writeLineSync(1, 'shutting down');
  clearInterval(sweepTimer);
  await dashboard?.close();
  await server.close();
  log.logger.info('lftp stopped');
  log.flush();
  return ExitCode.OK;
}

/** The dashboard on its port (default: the LFTP port + 1), or 'failed' when it cannot listen (said why). */
async function startDashboard(
  o: { adminToken: string; port: number | null },
  host: string,
  lftpPort: number,
  lftp: LftpServer,
  files: FileService,
  log: Logger,
): Promise<{ close(): Promise<void> } | 'failed'> {
  const adminToken = o.adminToken;
  const port = o.port ?? (lftpPort === 65535 || lftpPort === 0 ? 0 : lftpPort + 1);
  try {
    const d = await startLftpDashboard({
      host,
      port,
      adminToken,
      lftp,
      files,
      serverName: `chat-server lftp/${packageVersion()}`,
      // Not "component" again: the log's base already says component lftp, and pino would write both.
      log: log.child({ part: 'dashboard' }),
    });
    writeLineSync(
      1,
      `dashboard on ${webUrls(host, d.port, false, '/admin').join(', ')} (user: anything, password: the admin token)`,
    );
    return d;
  } catch (err) {
    writeLineSync(2, `chat-server: ${ListenError.from('web', host, port, err, '--http-port').message}`);
    return 'failed';
  }
}
