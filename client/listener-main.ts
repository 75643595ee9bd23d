/**
 * Entry point of the client's listener thread: the real socket, stdout and
 * stderr, and the port to the main thread, handed to a Listener (listener.ts).
 * It runs on its own event loop, so none of it waits for the main thread,
 * which may be blocked reading the keyboard.
 */
import net from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { packageVersion } from '../common/cli.js';
import { writeFullySync, writeLineSync } from '../common/sync-output.js';
import { Listener, type ListenerOutput } from './listener.js';
import { Control, type FromListener, type ListenerConfig, type ToListener } from './listener-messages.js';

const config = workerData as ListenerConfig;
const port = parentPort!;
const control = new Int32Array(config.control);

let statusShown = false;
const clearStatus = () => {
  if (!statusShown) return;
  writeFullySync(1, Buffer.from('\r\x1b[2K'));
  statusShown = false;
};
/** Every line goes through here: a progress bar on the last line is cleared first, redrawn on its next tick. */
const output: ListenerOutput = {
  line(text) {
    clearStatus();
    writeLineSync(1, text);
  },
  status(text) {
    if (!config.tty) return;
    if (text === '') return clearStatus();
    writeFullySync(1, Buffer.from(`\r\x1b[2K${text}`));
    statusShown = true;
  },
  final(text, isError) {
    clearStatus();
    writeLineSync(isError ? 2 : 1, text);
  },
};

const socket = net.connect({ host: config.host, port: config.port, noDelay: true });
const listener = new Listener(
  config,
  socket,
  output,
  {
    post: (msg: FromListener) => port.postMessage(msg),
    exit(code) {
      Atomics.store(control, Control.EXIT, code + 1);
      port.postMessage({ k: 'exit', code } satisfies FromListener);
      if (Atomics.load(control, Control.BLOCKED_IN_READ) === 1) interruptTerminalRead();
      port.close();
    },
  },
  Date.now,
  `chat-client/${packageVersion()}`,
);
port.on('message', (msg: ToListener) => listener.command(msg));

/**
 * readline-sync reads the terminal in a child shell while the main thread waits
 * in execFileSync. Ending that child returns control to the main thread, which
 * then sees the EXIT word. Without /proc, the whole process is ended instead.
 */
function interruptTerminalRead(): void {
  try {
    const children: number[] = [];
    for (const task of readdirSync(`/proc/${process.pid}/task`)) {
      const list = readFileSync(`/proc/${process.pid}/task/${task}/children`, 'utf8').trim();
      if (list) children.push(...list.split(/\s+/).map(Number));
    }
    for (const pid of children) process.kill(pid, 'SIGTERM');
    if (children.length > 0) return;
  } catch {
    // fall through
  }
  process.kill(process.pid, 'SIGTERM');
}
