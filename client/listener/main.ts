/**
 * Entry point of the client's listener thread: the real socket, stdout and
 * stderr, and the port to the main thread, handed to a Listener (listener.ts).
 * It runs on its own event loop, so none of it waits for the main thread,
 * which may be blocked (/sleep).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { packageVersion } from '../../common/cli.js';
import { writeFullySync, writeLineSync } from '../../common/sync-output.js';
import { Listener } from './listener.js';
import type { ListenerOutput } from './io.js';
import { connectChat } from '../secure-connect.js';
import { TerminalScreen } from '../../common/terminal/screen.js';
import { decorate, type DecorateOptions } from '../terminal/decorate.js';
import { Control, type FromListener, type ListenerConfig, type ToListener } from '../thread-messages.js';

const config = workerData as ListenerConfig;
const port = parentPort!;
const control = new Int32Array(config.control);

const output: ListenerOutput = config.screen
  ? screenOutput(new TerminalScreen(config.screen), config)
  : plainOutput(config.tty);

/**
 * The first server, then the next one each time the listener dials again (after a lost connection): a node that
 * dropped us is likely down, and another of the same chat may take the session over (docs/ARCHITECTURE.md, "Several
 * nodes as one chat"). With one server, always that one.
 */
let dialled = 0;
const dial = () => {
  const server = config.servers[dialled++ % config.servers.length]!;
  config.host = server.host;
  config.port = server.port;
  return connectChat(server.host, server.port, config.tls, (line) => output.line(line));
};

const listener = new Listener(
  config,
  dial,
  output,
  {
    post: (msg: FromListener) => port.postMessage(msg),
    exit(code) {
      Atomics.store(control, Control.EXIT, code + 1);
      Atomics.notify(control, Control.EXIT);
      port.postMessage({ k: 'exit', code } satisfies FromListener);
      port.close();
    },
  },
  Date.now,
  `chat-client/${packageVersion()}`,
);
port.on('message', (msg: ToListener) => listener.command(msg));

/** On a terminal: everything through the screen the main thread shares, so the input line stays whole. */
function screenOutput(screen: TerminalScreen, looks: DecorateOptions): ListenerOutput {
  return {
    line: (text) => screen.print([text]),
    message(msg, lines, me) {
      const d = decorate(msg, lines, me, looks);
      screen.print(d.lines);
      if (d.bell) screen.bell();
    },
    status: (text) => screen.setStatus(text),
    final: (text, isError) => screen.close(text, isError ? 2 : 1),
    columns: () => screen.width,
  };
}

/** On a pipe (or stdout redirected): plain lines; a progress bar only if stdout alone is a terminal. */
function plainOutput(tty: boolean): ListenerOutput {
  let statusShown = false;
  const clearStatus = () => {
    if (!statusShown) return;
    writeFullySync(1, Buffer.from('\r\x1b[2K'));
    statusShown = false;
  };
  const line = (text: string) => {
    clearStatus();
    writeLineSync(1, text);
  };
  return {
    line,
    message: (_msg, lines) => lines.forEach(line),
    status(text) {
      if (!tty) return;
      if (text === '') return clearStatus();
      writeFullySync(1, Buffer.from(`\r\x1b[2K${text}`));
      statusShown = true;
    },
    final(text, isError) {
      clearStatus();
      writeLineSync(isError ? 2 : 1, text);
    },
  };
}
