/** chat-server (the chat, not `chat-server lftp`): loaded by cli.ts. */
import { ExitCode } from '../../common/errors.js';
import { packageVersion, startProgram } from '../../common/cli.js';
import { writeLineSync } from '../../common/sync-output.js';
import { SERVER_USAGE, parseServerArgs } from './options.js';
import { StartupError, Supervisor } from './supervisor.js';

const options = startProgram('chat-server', SERVER_USAGE, parseServerArgs);

const supervisor = new Supervisor(options, packageVersion());
try {
  await supervisor.start();
} catch (err) {
  const msg = err instanceof StartupError ? err.message : (err as Error).message;
  writeLineSync(2, `chat-server: ${msg}`);
  await supervisor.shutdown('startup failed');
  process.exit(ExitCode.FAILURE);
}

supervisor.attachConsole(process.stdin);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    void supervisor.shutdown('server shutting down', `received ${signal}`);
  });
}
// Signals and /shutdown both end here.
await supervisor.stopped;
process.exit(ExitCode.OK);
