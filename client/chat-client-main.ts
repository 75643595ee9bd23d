/**
 * chat-client, the chat (cli.ts loads it; `chat-client lftp` does not). The
 * main thread only reads what the user types: readline-sync on a terminal (a
 * blocking read, as in the seed's lab), lines from stdin on a pipe. The
 * listener thread owns the socket and does everything else.
 */
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import readlineSync from 'readline-sync';
import { ExitCode, ProtocolError, UsageError } from '../common/errors.js';
import { exitUsage, startProgram } from '../common/cli.js';
import { writeFullySync, writeLineSync } from '../common/sync-output.js';
import { validateNick } from '../common/text.js';
import { formatDuration } from '../common/units.js';
import { CLIENT_HELP, parseInput, type InputAction } from './input.js';
import { CLIENT_USAGE, parseClientArgs } from './options.js';
import { Control, type FromListener, type ListenerConfig, type ToListener } from './listener-messages.js';

const options = startProgram('chat-client', CLIENT_USAGE, parseClientArgs);

const interactive = process.stdin.isTTY === true;

let nickInput = options.nick;
if (nickInput === undefined) {
  if (!interactive) exitUsage('chat-client', new UsageError('--nick is required when stdin is not a terminal'));
  nickInput = readlineSync.question('nick: ').trim();
}
try {
  validateNick(nickInput);
} catch (err) {
  writeLineSync(2, `chat-client: ${(err as ProtocolError).message}`);
  process.exit(ExitCode.REJECTED);
}

const controlBuffer = new SharedArrayBuffer(8);
const control = new Int32Array(controlBuffer);
const listenerConfig: ListenerConfig = {
  host: options.host,
  port: options.port,
  nick: nickInput,
  verbose: options.verbose,
  control: controlBuffer,
  connectTimeoutMs: options.connectTimeoutMs,
  serverTimeoutMs: options.serverTimeoutMs,
  downloadsDir: options.downloadsDir,
  tty: process.stdout.isTTY === true,
};
const listener = new Worker(new URL('./listener-main.js', import.meta.url), { workerData: listenerConfig });
const toListener = (msg: ToListener) => listener.postMessage(msg);

let maxText = 32 * 1024;
let quitting = false;

const ready = new Promise<void>((resolve) => {
  listener.on('message', (msg: FromListener) => {
    switch (msg.k) {
      case 'ready':
        maxText = msg.maxText;
        resolve();
        return;
      case 'nick':
        return;
      case 'exit':
        process.exit(msg.code);
    }
  });
});
listener.on('error', (err) => {
  writeLineSync(2, `chat-client: internal error in the listener thread: ${err.message}`);
  process.exit(ExitCode.FAILURE);
});
listener.on('exit', () => {
  // The listener always posts 'exit' first; this covers it dying without a word.
  const flagged = Atomics.load(control, Control.EXIT);
  process.exit(flagged > 0 ? flagged - 1 : ExitCode.FAILURE);
});

await ready;
if (interactive) await terminalLoop();
else pipeLoop();

function act(action: InputAction): void {
  switch (action.kind) {
    case 'none':
      return;
    case 'send':
      toListener({ k: 'send', msg: action.msg });
      return;
    case 'get':
      toListener({ k: 'get', name: action.name, dest: action.dest });
      return;
    case 'post':
      toListener({ k: 'post', path: action.path, name: action.name });
      return;
    case 'transfers':
      toListener({ k: 'transfers' });
      return;
    case 'help':
      writeLineSync(1, CLIENT_HELP);
      return;
    case 'local-error':
      writeLineSync(1, `! ${action.text}`);
      return;
    case 'sleep': {
      writeLineSync(1, `* main thread blocked for ${formatDuration(action.ms)}; the listener thread keeps answering heartbeats`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, action.ms);
      writeLineSync(1, '* main thread awake again');
      return;
    }
    case 'quit':
      quit(action.reason);
      return;
  }
}

function quit(reason: string): void {
  if (quitting) return;
  quitting = true;
  toListener({ k: 'quit', reason });
  // The listener answers with 'exit' once the server has closed (or after its bounded wait).
}

function pipeLoop(): void {
  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (line) => {
    if (!quitting) act(parseInput(line, maxText));
  });
  rl.on('close', () => quit(''));
}

async function terminalLoop(): Promise<void> {
  readlineSync.setDefaultOptions({ prompt: '' });
  // By default readline-sync read()s /dev/tty on this thread, and nothing can interrupt that read
  // (libuv installs signal handlers with SA_RESTART). Its external-reader mode waits in
  // execFileSync on a child shell instead, which the listener can end when the connection dies,
  // so the client can exit with its own status and message. The hook is readline-sync's own
  // switch for that mode; the version is pinned in package.json because of it.
  (readlineSync as unknown as { _DBG_set_useExt(on: boolean): void })._DBG_set_useExt(true);
  while (!quitting) {
    Atomics.store(control, Control.BLOCKED_IN_READ, 1);
    let line: string;
    try {
      line = readlineSync.prompt();
    } catch {
      line = '';
    } finally {
      Atomics.store(control, Control.BLOCKED_IN_READ, 0);
    }
    const exit = Atomics.load(control, Control.EXIT);
    if (exit > 0) process.exit(exit - 1);
    const action = parseInput(line, maxText);
    // The server echoes chat back formatted; erase the raw typed line so it shows once.
    if (action.kind === 'send' && action.msg.type === 'CHAT') writeFullySync(1, Buffer.from('\x1b[1A\x1b[2K'));
    act(action);
    // Let the event loop run: messages from the listener thread are handled between reads.
    await new Promise((r) => setImmediate(r));
  }
}
