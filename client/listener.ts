/**
 * The client's listener thread. It owns the socket: it decodes frames, answers
 * heartbeats and prints what arrives, all on its own event loop, so none of it
 * waits for the main thread (which may be blocked reading the keyboard).
 */
import net from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { DEFAULT_MAX_FRAME, FrameDecoder, MAX_MAX_FRAME } from '../common/frame.js';
import { ExitCode, ProtocolError } from '../common/errors.js';
import { PROTOCOL_VERSION, decodeServerMessage, encodeMessage, isKnownFrameType, type ClientMessage, type ServerMessage } from '../common/protocol.js';
import { neutralizeControls as safe } from '../common/text.js';
import { formatDuration } from '../common/units.js';
import { writeFullySync, writeLineSync } from '../common/sync-output.js';
import { ChatTransfers } from './chat-transfers.js';
import { packageVersion } from '../common/cli.js';
import { renderServerMessage } from './render.js';
import { Control, type FromListener, type ListenerConfig, type ToListener } from './listener-messages.js';

const config = workerData as ListenerConfig;
const port = parentPort!;
const control = new Int32Array(config.control);
const QUIT_WAIT_MS = 5_000;
/** Before WELCOME says otherwise, the server is presumed dead after this much silence. */
const DEFAULT_SILENCE_MS = 30_000;

let statusShown = false;
/** Every line goes through here: a progress bar on the last line is cleared first, redrawn on its next tick. */
const print = (line: string) => {
  if (statusShown) {
    writeFullySync(1, Buffer.from('\r\x1b[2K'));
    statusShown = false;
  }
  writeLineSync(1, line);
};
const status = (line: string) => {
  if (!config.tty) return;
  writeFullySync(1, Buffer.from(`\r\x1b[2K${line}`));
  statusShown = line !== '';
};
const post = (msg: FromListener) => port.postMessage(msg);

let nick = config.nick;
let phase: 'connecting' | 'hello' | 'active' | 'quitting' | 'done' = 'connecting';
let silenceLimitMs = config.serverTimeoutMs ?? DEFAULT_SILENCE_MS;
let lastHeard = Date.now();
let quitTimer: NodeJS.Timeout | null = null;
const transfers = new ChatTransfers({
  host: config.host,
  downloadsDir: config.downloadsDir,
  tty: config.tty,
  print,
  status,
  send: (msg) => send(msg),
  verbose: config.verbose,
});

const decoder = new FrameDecoder({ maxFrame: MAX_MAX_FRAME, isKnownType: isKnownFrameType });
// Bounded by the server's advertised limit once WELCOME arrives; until then by the default.
let maxFrame = DEFAULT_MAX_FRAME;

const socket = net.connect({ host: config.host, port: config.port, noDelay: true });
socket.setTimeout(config.connectTimeoutMs);
socket.on('timeout', () => {
  if (phase === 'connecting' || phase === 'hello') finish(ExitCode.FAILURE, `chat-client: no answer from ${config.host}:${config.port} within ${formatDuration(config.connectTimeoutMs)}`);
});
socket.on('connect', () => {
  phase = 'hello';
  lastHeard = Date.now();
  send({ type: 'HELLO', version: PROTOCOL_VERSION, nick, client: `chat-client/${packageVersion()}` });
});
socket.on('data', (chunk: Buffer) => {
  lastHeard = Date.now();
  let frames;
  try {
    frames = decoder.push(chunk);
    for (const f of frames) {
      if (f.body.length > maxFrame) throw new ProtocolError('FRAME_TOO_LARGE', `server sent a ${f.body.length}-byte frame, over its own limit`);
      handle(decodeServerMessage(f));
      if (phase === 'done') return;
    }
  } catch (err) {
    const e = err as ProtocolError;
    finish(ExitCode.CONNECTION_LOST, `chat-client: protocol error from the server (${e.code ?? 'ERROR'}: ${e.message}); disconnecting`);
  }
});
socket.on('end', () => {
  if (phase === 'quitting') finish(ExitCode.OK);
  else finish(ExitCode.CONNECTION_LOST, 'connection closed by the server');
});
socket.on('error', (err: NodeJS.ErrnoException) => {
  if (phase === 'connecting') {
    const why = err.code === 'ECONNREFUSED' ? 'connection refused (is chat-server running?)' : err.code === 'ENOTFOUND' ? 'unknown host' : err.message;
    finish(ExitCode.FAILURE, `chat-client: cannot connect to ${config.host}:${config.port}: ${why}`);
  } else if (phase === 'quitting') {
    finish(ExitCode.OK);
  } else {
    finish(ExitCode.CONNECTION_LOST, `connection to the server lost (${err.code ?? err.message})`);
  }
});
socket.on('close', () => {
  if (phase === 'quitting') finish(ExitCode.OK);
  else finish(ExitCode.CONNECTION_LOST, 'connection to the server lost');
});

// The server sends heartbeats; their absence means it is gone even if TCP has not noticed.
const watchdog = setInterval(() => {
  if (phase !== 'active') return;
  const silent = Date.now() - lastHeard;
  if (silent > silenceLimitMs) {
    finish(ExitCode.CONNECTION_LOST, `connection lost: nothing from the server for ${formatDuration(silent)} (limit ${formatDuration(silenceLimitMs)})`);
  }
}, 250);

function send(msg: ClientMessage): void {
  if (!socket.destroyed && socket.writable) socket.write(encodeMessage(msg));
}

function handle(msg: ServerMessage): void {
  switch (msg.type) {
    case 'HEARTBEAT':
      // Answered here, at once: this is the thread's reason to exist.
      send({ type: 'HEARTBEAT_ACK', seq: msg.seq, ts: msg.ts });
      break;
    case 'WELCOME':
      phase = 'active';
      socket.setTimeout(0);
      nick = msg.nick;
      maxFrame = Math.min(MAX_MAX_FRAME, Math.max(DEFAULT_MAX_FRAME, msg.maxFrame));
      silenceLimitMs = config.serverTimeoutMs ?? msg.heartbeatTimeoutMs;
      print(
        `* connected to ${config.host}:${config.port} as ${safe(msg.nick)} (${msg.users} online; ` +
          `heartbeat every ${formatDuration(msg.heartbeatIntervalMs)}, timeout ${formatDuration(msg.heartbeatTimeoutMs)}); /help for commands`,
      );
      post({ k: 'ready', nick: msg.nick, maxText: msg.maxText, heartbeatIntervalMs: msg.heartbeatIntervalMs, heartbeatTimeoutMs: msg.heartbeatTimeoutMs });
      return;
    case 'ERROR':
      if (phase === 'hello') {
        finish(ExitCode.REJECTED, `chat-client: ${rejectionText(msg.code, msg.message)}`);
        return;
      }
      if (msg.fatal) {
        finish(ExitCode.CONNECTION_LOST, `disconnected by the server: ${safe(msg.code)}: ${safe(msg.message)}`);
        return;
      }
      break;
    case 'BYE':
      if (phase === 'quitting') return; // the server's answer to our BYE; its FIN follows
      finish(ExitCode.CONNECTION_LOST, `server closed the connection: ${safe(msg.reason) || 'no reason given'}`);
      return;
    case 'TICKET':
      transfers.onTicket(msg);
      return;
    case 'NOTICE':
      if (msg.event === 'nick' && msg.nick === nick && msg.newNick) {
        nick = msg.newNick;
        post({ k: 'nick', nick });
      }
      break;
    default:
      break;
  }
  for (const line of renderServerMessage(msg, { me: nick, verbose: config.verbose })) print(line);
}

function rejectionText(code: string, message: string): string {
  switch (code) {
    case 'NICK_TAKEN':
      return `nick ${nick} is already taken; choose another with --nick`;
    case 'NICK_INVALID':
      return safe(message);
    case 'SERVER_FULL':
      return 'the server is full; try again later';
    default:
      return `the server refused the connection: ${safe(code)}: ${safe(message)}`;
  }
}

port.on('message', (msg: ToListener) => {
  if (phase === 'done') return;
  switch (msg.k) {
    case 'send':
      send(msg.msg);
      return;
    case 'get':
      if (phase === 'active') void transfers.requestGet(msg.name, msg.dest);
      return;
    case 'post':
      if (phase === 'active') void transfers.requestPost(msg.path, msg.name);
      return;
    case 'transfers':
      for (const line of transfers.list()) print(line);
      return;
    case 'quit':
      if (transfers.active > 0) {
        print(`* ${transfers.active} transfer${transfers.active === 1 ? '' : 's'} aborted: quitting`);
        transfers.abortAll('the user quit');
      }
      if (phase !== 'active') {
        finish(ExitCode.OK);
        return;
      }
      phase = 'quitting';
      // BYE, then half-close: everything written before it still reaches the server, in order.
      send({ type: 'BYE', reason: msg.reason });
      socket.end();
      quitTimer = setTimeout(() => finish(ExitCode.OK), QUIT_WAIT_MS);
      return;
  }
});

/** Prints the last line, tells the main thread, and wakes it if it is stuck reading the terminal. */
function finish(code: number, line?: string): void {
  if (phase === 'done') return;
  phase = 'done';
  transfers.abortAll('connection closed');
  if (statusShown) writeFullySync(1, Buffer.from('\r\x1b[2K'));
  if (line) writeLineSync(code === ExitCode.OK ? 1 : 2, line);
  clearInterval(watchdog);
  if (quitTimer) clearTimeout(quitTimer);
  socket.destroy();
  Atomics.store(control, Control.EXIT, code + 1);
  post({ k: 'exit', code });
  if (Atomics.load(control, Control.BLOCKED_IN_READ) === 1) interruptTerminalRead();
  port.close();
}

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
