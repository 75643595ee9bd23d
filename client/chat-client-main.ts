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
import { CHAT_COMMANDS } from './input.js';
import { carriesPassword } from '../common/account-lines.js';
import { PLAIN_PASSWORD_REFUSAL, askPasswords, passwordUsage, type PasswordAsk } from './password-prompts.js';

const options = startProgram('chat-client', CLIENT_USAGE, parseClientArgs);
const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
/** A paste of more lines than this is sent only after the user says yes. */
const PASTE_CONFIRM_LINES = 3;

const controlBuffer = new SharedArrayBuffer(8);
const control = new Int32Array(controlBuffer);
const screen = interactive ? TerminalScreen.create(process.stdout.columns) : null;
let quitting = false;
let maxText = 32 * 1024;
const queued: string[] = [];
let ready = false;
/** What tab completes, as the listener learns it. */
const names = { nicks: [] as readonly string[], files: [] as readonly string[] };

const tty = screen
  ? new TtyInput(
      screen,
      { input: process.stdin, output: process.stdout, outputFd: 1 },
      { submit: (line) => typed(line), paste: (lines) => void pasted(lines), quit: () => quit('') },
      new History(defaultHistoryPath(), undefined, carriesPassword),
      wordCompleter({ commands: CHAT_COMMANDS, nicks: () => names.nicks, files: () => names.files }),
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
const toListener = (msg: ToListener) => listener.postMessage(msg);

listener.on('message', (msg: FromListener) => {
  switch (msg.k) {
    case 'ready':
      maxText = msg.maxText;
      ready = true;
      prompt.nick = msg.nick;
      showPrompt();
      for (const line of queued.splice(0)) typed(line);
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
        .then((password) => toListener({ k: 'password', password }));
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

function typed(line: string): void {
  if (quitting) return;
  if (!ready) {
    queued.push(line);
    return;
  }
  act(parseInput(line, maxText));
}

async function pasted(lines: string[]): Promise<void> {
  if (lines.length > PASTE_CONFIRM_LINES && tty) {
    const answer = await tty.ask(`send ${lines.length} pasted lines as ${lines.length} messages? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) {
      say(`* paste of ${lines.length} lines not sent`);
      return;
    }
  }
  for (const line of lines) typed(line);
}

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
    case 'room':
      toListener({ k: 'room', command: action.command });
      return;
    case 'help':
      say(CLIENT_HELP);
      return;
    case 'ask-password':
      void accountWithPrompts(action.ask);
      return;
    case 'local-error':
      say(`! ${action.text}`);
      return;
    case 'sleep':
      say(`* main thread blocked for ${formatDuration(action.ms)}; the listener thread keeps answering heartbeats`);
      // On the EXIT word: the listener's notify ends the wait at once if the connection ends meanwhile.
      Atomics.wait(control, Control.EXIT, 0, action.ms);
      if (Atomics.load(control, Control.EXIT) > 0) process.exit(Atomics.load(control, Control.EXIT) - 1);
      say('* main thread awake again');
      return;
    case 'quit':
      quit(action.reason);
      return;
  }
}

/** /register, /identify nick or /password without the password: asked for on a terminal, hidden. */
async function accountWithPrompts(what: PasswordAsk): Promise<void> {
  if (!tty) return say(`! ${passwordUsage(what)}`);
  if (options.tls === null && !options.allowPlainPasswords) return say(PLAIN_PASSWORD_REFUSAL);
  const r = await askPasswords(what, (question) => tty.ask(question, { secret: true }));
  if ('msg' in r) toListener({ k: 'send', msg: r.msg });
  else say(`! ${r.error}`);
}

function quit(reason: string): void {
  if (quitting) return;
  quitting = true;
  toListener({ k: 'quit', reason });
  // The listener answers with 'exit' once the server has closed (or after its bounded wait).
}

function pipeLoop(): void {
  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (line) => typed(line));
  rl.on('close', () => quit(''));
}

if (tty) {
  // Through process.exit, so that the terminal is restored.
  for (const sig of ['SIGTERM', 'SIGHUP'] as const) process.once(sig, () => process.exit(ExitCode.CONNECTION_LOST));
  tty.start();
}
