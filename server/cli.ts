#!/usr/bin/env node
/** chat-server: command-line entry point. */
import { ExitCode, UsageError } from '../common/errors.js';
import { exitUsage, packageVersion, requireNode } from '../common/cli.js';
import { writeLineSync } from '../common/sync-output.js';
import { SERVER_USAGE, parseServerArgs } from './options.js';
import { StartupError, Supervisor } from './supervisor.js';

requireNode([22, 12], 'chat-server');

let parsed;
try {
  parsed = parseServerArgs(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError) exitUsage('chat-server', err);
  throw err;
}
if ('help' in parsed) {
  writeLineSync(1, SERVER_USAGE);
  process.exit(ExitCode.OK);
}
if ('version' in parsed) {
  writeLineSync(1, `chat-server ${packageVersion()}`);
  process.exit(ExitCode.OK);
}

const supervisor = new Supervisor(parsed.options, packageVersion());
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
