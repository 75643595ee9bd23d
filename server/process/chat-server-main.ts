/** chat-server (the chat, not `chat-server lftp`): loaded by cli.ts. */
import { ExitCode } from '../../common/errors.js';
import { exitCodeOf, packageVersion, startProgram } from '../../common/cli.js';
import { writeLineSync } from '../../common/sync-output.js';
import { parseServerArgs } from './options.js';
import { SERVER_USAGE } from './server-usage.js';
import { Supervisor } from './supervisor.js';
import { StartupError } from '../startup-error.js';
import { openFileLimit, planSockets, type SocketPlan } from './fd-plan.js';
import { TerminalScreen } from '../../common/terminal/screen.js';

const parsed = startProgram('chat-server', SERVER_USAGE, parseServerArgs);
let plan: SocketPlan;
try {
  plan = planSockets(openFileLimit(), {
    maxClients: parsed.maxClients,
    workers: parsed.workers,
    web: parsed.httpPort !== null,
  });
} catch (err) {
  writeLineSync(2, `chat-server: ${(err as Error).message}`);
  process.exit(ExitCode.FAILURE);
}
if (plan.warning) writeLineSync(2, `chat-server: warning: ${plan.warning}`);
const options = { ...parsed, maxClients: plan.maxClients };

// On a terminal the operator types into a line editor at the bottom, and everything printed goes above it.
const screen = process.stdin.isTTY && process.stdout.isTTY ? TerminalScreen.create(process.stdout.columns) : null;
const print = screen ? (line: string) => screen.print(line.split('\n')) : (line: string) => writeLineSync(1, line);
const supervisor = new Supervisor(options, packageVersion(), print, plan);
try {
  await supervisor.start();
} catch (err) {
  const msg = err instanceof StartupError ? err.message : (err as Error).message;
  writeLineSync(2, `chat-server: ${msg}`);
  await supervisor.shutdown('startup failed');
  // Each error class says its exit code (a StartupError's and a ClusterError's: 1).
  process.exit(exitCodeOf(err));
}

supervisor.attachConsole(process.stdin, screen);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    void supervisor.shutdown('server shutting down', `received ${signal}`);
  });
}
// Signals and /shutdown both end here.
await supervisor.stopped;
process.exit(ExitCode.OK);
