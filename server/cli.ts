#!/usr/bin/env node
/**
 * chat-server: command-line entry point. Loads only the command it runs: the
 * chat server's modules (workers, WebSocket, HTTP) would add some 25 MB of
 * resident memory to a standalone `chat-server lftp` that never uses them.
 */
import { cacheCompiledModules, runSubcommand, secretsHidden } from '../common/cli.js';

process.title = secretsHidden('chat-server');
cacheCompiledModules();

if (process.argv[2] === '--version' || process.argv[2] === '-V') {
  const { versionLines } = await import('../common/lftp/native/load.js');
  process.stdout.write(`${versionLines('chat-server').join('\n')}\n`);
  process.exit(0);
}

if (process.argv[2] === 'lftp') {
  const { runLftpServer } = await import('./process/lftp-cli.js');
  await runSubcommand('chat-server lftp', runLftpServer, process.argv.slice(3));
}
await import('./process/chat-server-main.js');
