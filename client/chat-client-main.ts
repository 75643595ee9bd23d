/**
 * chat-client, the chat (cli.ts loads it; `chat-client lftp` does not). The
 * main thread only reads what the user types: on a terminal, keys in raw mode
 * through the line editor (client/terminal/), the input line kept whole at
 * the bottom of the screen; on a pipe, lines from stdin. The listener thread
 * owns the socket and does everything else.
 */
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { ExitCode, ProtocolError, UsageError } from '../common/errors.js';
import { exitUsage, startProgram } from '../common/cli.js';
import { writeLineSync } from '../common/sync-output.js';
import { validateNick } from '../common/text.js';
import { formatDuration } from '../common/units.js';
import { CLIENT_HELP, parseInput, type InputAction } from './input.js';
import { CLIENT_USAGE, parseClientArgs } from './options.js';
import { Control, type FromListener, type ListenerConfig, type ToListener } from './thread-messages.js';
import { TerminalScreen } from '../common/terminal/screen.js';
import { TtyInput } from '../common/terminal/tty-input.js';
import { History, defaultHistoryPath } from '../common/terminal/history.js';
import { wordCompleter } from '../common/terminal/completion.js';
import { TERMINAL_COMMANDS } from './input.js';
import { carriesPassword } from '../common/account-lines.js';
import { PLAIN_PASSWORD_REFUSAL, askPasswords, passwordUsage, type PasswordAsk } from './password-prompts.js';

const options = startProgram('chat-client', CLIENT_USAGE, parseClientArgs);
const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
/** After a SIGTERM or SIGHUP, the longest wait for the server to have the BYE before the client ends anyway. */
const SIGNAL_QUIT_MS = 3_000;
/** /sleep blocks in slices this long; between two, one turn of the event loop lets a signal or Ctrl-C in. */
const SLEEP_SLICE_MS = 100;

const controlBuffer = new SharedArrayBuffer(8);
const control = new Int32Array(controlBuffer);
const screen = interactive ? TerminalScreen.create(process.stdout.columns) : null;
let quitting = false;
let maxText = 32 * 1024;
/** Lines waiting: before the session is ready, and while /sleep blocks (then they go, in order; so does a pipe's end). */
const queued: Array<{ line: string } | { quit: string }> = [];
let ready = false;
let sleeping = false;
/** Set once the listener thread runs: until then a signal just ends the process. */
let toListener: ((msg: ToListener) => void) | null = null;

// A hang-up (the terminal was closed) or a TERM leaves as /quit does: BYE, so the others see "left" and the nick
// is free at once (not held for a resume that will never come); within SIGNAL_QUIT_MS, then the terminal is restored
// (process.exit runs TtyInput's exit handler). Handled from the start: a signal at the nick prompt restores it too.
for (const sig of ['SIGTERM', 'SIGHUP'] as const)
  process.on(sig, () => {
    if (!toListener) process.exit(ExitCode.OK);
    quit('');
    setTimeout(() => process.exit(ExitCode.OK), SIGNAL_QUIT_MS).unref();
  });
/** What tab completes, as the listener learns it. */
const names = { nicks: [] as readonly string[], files: [] as readonly string[] };

const tty = screen
  ? new TtyInput(
      screen,
      { input: process.stdin, output: process.stdout, outputFd: 1 },
      { submit: (line) => typed(line), paste: (lines) => void pasted(lines), quit: () => quit('') },
      new History(defaultHistoryPath(), undefined, carriesPassword),
      wordCompleter({ commands: TERMINAL_COMMANDS, nicks: () => names.nicks, files: () => names.files }),
    )
  : null;

/** Local output (help, local errors): above the input line on a terminal, plain lines otherwise. */
function say(text: string): void {
  if (tty) tty.print(...text.split('\n'));
  else writeLineSync(1, text);
}

const nick = await chooseNick();
tty?.setPrompt(`(connecting) ${nick}> `);
/** The prompt says where a plain line goes and as whom: "[#lobby] alice> ". */
const prompt = { nick, room: '', connected: true };
const showPrompt = () =>
  tty?.setPrompt(
    `${prompt.connected ? '' : '(reconnecting) '}${prompt.room ? `[${prompt.room}] ` : ''}${prompt.nick}> `,
  );

const listenerConfig: ListenerConfig = {
  host: options.host,
  port: options.port,
  servers: options.servers,
  nick,
  verbose: options.verbose,
  control: controlBuffer,
  connectTimeoutMs: options.connectTimeoutMs,
  serverTimeoutMs: options.serverTimeoutMs,
  downloadsDir: options.downloadsDir,
  qlogDir: options.qlogDir,
  lftpVia: options.lftpVia,
  tty: process.stdout.isTTY === true,
  screen: screen?.buffer ?? null,
  color: options.color,
  timestamps: options.timestamps,
  reconnect: options.reconnect,
  tls: options.tls,
  serverPassword: options.serverPassword,
  nickPassword: options.nickPassword,
  allowPlainPasswords: options.allowPlainPasswords,
  askPasswords: tty !== null,
};
const listener = new Worker(new URL('./listener/main.js', import.meta.url), { workerData: listenerConfig });
const post = (msg: ToListener) => listener.postMessage(msg);
toListener = post;

listener.on('message', (msg: FromListener) => {
  switch (msg.k) {
    case 'ready':
      maxText = msg.maxText;
      ready = true;
      prompt.nick = msg.nick;
      showPrompt();
      flushQueued();
      if (!tty) pipeLoop();
      return;
    case 'nick':
      prompt.nick = msg.nick;
      showPrompt();
      return;
    case 'room':
      prompt.room = msg.room;
      showPrompt();
      return;
    case 'connected':
      prompt.connected = msg.connected;
      showPrompt();
      return;
    case 'names':
      if (msg.nicks) names.nicks = msg.nicks;
      if (msg.files) names.files = msg.files;
      return;
    case 'password':
      // The nick is registered: its password, hidden; the listener logs in again with it ('' gives up).
      void tty
        ?.ask(`password for ${msg.nick}: `, { secret: true })
        .then((password) => post({ k: 'password', password }));
      return;
    case 'exit':
      process.exit(msg.code);
  }
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

/** --nick, or on a terminal asked for until it is one the rules allow. */
async function chooseNick(): Promise<string> {
  if (options.nick !== undefined) {
    try {
      return validateNick(options.nick);
    } catch (err) {
      if (!tty) {
        writeLineSync(2, `chat-client: ${(err as ProtocolError).message}`);
        process.exit(ExitCode.REJECTED);
      }
      say(`! ${(err as ProtocolError).message}`);
    }
  }
  if (!tty) exitUsage('chat-client', new UsageError('--nick is required when stdin is not a terminal'));
  tty.start();
  for (;;) {
    const answer = (await tty.ask('nick: ')).trim();
    try {
      return validateNick(answer);
    } catch (err) {
      say(`! ${(err as ProtocolError).message}`);
    }
  }
}

/** A line typed (or read from the pipe); 'keep': it stays on the input line, to be mended. */
function typed(line: string): 'keep' | undefined {
  if (quitting) return;
  if (!ready || sleeping) {
    queued.push({ line });
    return;
  }
  return act(parseInput(line, maxText));
}

function flushQueued(): void {
  while (queued.length > 0 && ready && !sleeping && !quitting) {
    const q = queued.shift()!;
    if ('line' in q) typed(q.line);
    else quit(q.quit);
  }
}

/** Several lines pasted at once: sent as that many messages only once the user says yes (nothing of them stays typed). */
async function pasted(lines: string[]): Promise<void> {
  if (tty) {
    const answer = await tty.ask(`send ${lines.length} pasted lines as ${lines.length} messages? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) {
      say(`* paste of ${lines.length} lines not sent`);
      return;
    }
  }
  for (const line of lines) typed(line);
}

function act(action: InputAction): 'keep' | undefined {
  switch (action.kind) {
    case 'send':
      post({ k: 'send', msg: action.msg });
      break;
    case 'get':
      post({ k: 'get', name: action.name, dest: action.dest, fresh: action.fresh });
      break;
    case 'post':
      post({ k: 'post', path: action.path, name: action.name, fresh: action.fresh });
      break;
    case 'transfers':
      post({ k: 'transfers' });
      break;
    case 'room':
      post({ k: 'room', command: action.command });
      break;
    case 'help':
      say(CLIENT_HELP);
      break;
    case 'ask-password':
      void accountWithPrompts(action.ask);
      break;
    case 'local-error':
      say(`! ${action.text}`);
      return action.keep ? 'keep' : undefined;
    case 'sleep':
      void sleepMain(action.ms);
      break;
    case 'quit':
      quit(action.reason);
      break;
  }
  return undefined;
}

/**
 * /sleep: the main thread blocked for real (Atomics.wait), so that only the listener thread can answer the
 * server's heartbeats; on the EXIT word, so the listener's notify ends it at once if the connection ends. In
 * slices: between two, one turn of the event loop, for a SIGTERM and for Ctrl-C (which wakes it); other keys and
 * lines wait, as a blocked program's would, and go after it.
 */
async function sleepMain(ms: number): Promise<void> {
  say(
    `* main thread blocked for ${formatDuration(ms)}; the listener thread keeps answering heartbeats${tty ? ' (Ctrl-C wakes it)' : ''}`,
  );
  sleeping = true;
  let woken = false;
  tty?.hold(() => (woken = true));
  const end = Date.now() + ms;
  for (let left = ms; left > 0 && !woken && !quitting; left = end - Date.now()) {
    Atomics.wait(control, Control.EXIT, 0, Math.min(SLEEP_SLICE_MS, left));
    const exit = Atomics.load(control, Control.EXIT);
    if (exit > 0) process.exit(exit - 1);
    await new Promise((resolve) => setImmediate(resolve));
  }
  sleeping = false;
  if (quitting) return;
  say(woken ? '* woken by Ctrl-C: main thread awake again' : '* main thread awake again');
  tty?.release();
  flushQueued();
}

/** /register, /identify nick or /password without the password: asked for on a terminal, hidden. */
async function accountWithPrompts(what: PasswordAsk): Promise<void> {
  if (!tty) return say(`! ${passwordUsage(what)}`);
  if (options.tls === null && !options.allowPlainPasswords) return say(PLAIN_PASSWORD_REFUSAL);
  const r = await askPasswords(what, (question) => tty.ask(question, { secret: true }));
  if ('msg' in r) post({ k: 'send', msg: r.msg });
  else say(`! ${r.error}`);
}

function quit(reason: string): void {
  if (quitting) return;
  quitting = true;
  toListener?.({ k: 'quit', reason });
  // The listener answers with 'exit' once the server has closed (or after its bounded wait).
}

function pipeLoop(): void {
  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (line) => typed(line));
  // After the lines before it, even those waiting out a /sleep.
  rl.on('close', () => (sleeping ? queued.push({ quit: '' }) : quit('')));
}

tty?.start();
