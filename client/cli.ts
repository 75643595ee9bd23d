#!/usr/bin/env node
/** chat-client: command-line entry point. Loads only the command it runs (see server/cli.ts). */
import { cacheCompiledModules, runSubcommand, secretsHidden } from '../common/cli.js';

process.title = secretsHidden('chat-client');
cacheCompiledModules();

if (process.argv[2] === '--version' || process.argv[2] === '-V') {
  const { versionLines } = await import('../common/lftp/native/load.js');
  process.stdout.write(`${versionLines('chat-client').join('\n')}\n`);
  process.exit(0);
}

if (process.argv[2] === 'lftp') {
  const { runLftpClient } = await import('./lftp-cli.js');
  await runSubcommand('chat-client lftp', runLftpClient, process.argv.slice(3));
}
if (process.argv[2] === 'trace') {
  const { runTrace } = await import('./trace-report/trace-cli.js');
  await runSubcommand('chat-client trace', runTrace, process.argv.slice(3));
}
await import('./chat-client-main.js');
