/** The operator's console: commands parsed from lines of the server's stdin, and run. */
import { createInterface } from 'node:readline';
import { formatBytes, formatDuration, parseDuration } from '../../common/units.js';
import { tickPeriodFor } from '../chat/heartbeat.js';
import { formatTable } from './console-table.js';
import type { OperatorActions } from '../store/operator-actions.js';
import type { SessionInfo, SessionTable } from '../shm/session-table.js';
import { RateMeter, type WorkerStats } from '../shm/worker-stats.js';
import type { Logger } from '../logger.js';
import type { ToWorker } from '../threads/messages.js';
import type { TerminalScreen } from '../../common/terminal/screen.js';
import { TtyInput } from '../../common/terminal/tty-input.js';
import { wordCompleter } from '../../common/terminal/completion.js';
import { History, defaultHistoryPath } from '../../common/terminal/history.js';

export const CONSOLE_COMMANDS = [
  '/help',
  '/kick',
  '/kill-store',
  '/kill-worker',
  '/list',
  '/shutdown',
  '/stall-worker',
  '/stats',
  '/unregister',
];

export type OperatorCommand =
  | { cmd: 'broadcast'; text: string }
  | { cmd: 'list' }
  | { cmd: 'kick'; nick: string; reason: string }
  | { cmd: 'unregister'; nick: string }
  | { cmd: 'stats' }
  | { cmd: 'shutdown' }
  | { cmd: 'help' }
  | { cmd: 'kill-worker'; worker: number; holdLock: boolean }
  | { cmd: 'kill-store' }
  | { cmd: 'stall-worker'; worker: number; ms: number }
  | { cmd: 'none' }
  | { cmd: 'invalid'; message: string };

export const OPERATOR_HELP = `Operator commands:
  <text>                        broadcast <text> to every client as [server] <text>
  /list                         sessions: nick, address, worker, RTT, idle time
  /kick <nick> [reason]         disconnect a user; everyone sees the notice
  /unregister <nick>            end a nick's registration (its password is forgotten)
  /stats                        clients per worker, messages/s, bytes, event-loop lag
  /shutdown                     say goodbye to every client and stop (as SIGINT/SIGTERM)
  /kill-worker <n> [--hold-lock] crash worker n (fault injection: watch the repair and restart)
  /kill-store                   crash the history store thread (fault injection: messages are refused, then it is back)
  /stall-worker <n> <duration>  block worker n's event loop (fault injection: nobody is dropped for it)
  /help                         this list
A line starting with // is broadcast with one slash removed.`;

export function parseOperatorLine(line: string): OperatorCommand {
  const trimmed = line.trim();
  if (trimmed === '') return { cmd: 'none' };
  if (trimmed.startsWith('//')) return { cmd: 'broadcast', text: trimmed.slice(1) };
  if (!trimmed.startsWith('/')) return { cmd: 'broadcast', text: trimmed };
  const [head = '', ...rest] = trimmed.split(/\s+/);
  switch (head.toLowerCase()) {
    case '/list':
      return { cmd: 'list' };
    case '/stats':
      return { cmd: 'stats' };
    case '/shutdown':
      return { cmd: 'shutdown' };
    case '/help':
      return { cmd: 'help' };
    case '/kick': {
      const [nick, ...why] = rest;
      if (!nick) return { cmd: 'invalid', message: 'usage: /kick <nick> [reason]' };
      return { cmd: 'kick', nick, reason: why.join(' ') };
    }
    case '/unregister':
      return rest.length === 1
        ? { cmd: 'unregister', nick: rest[0]! }
        : { cmd: 'invalid', message: 'usage: /unregister <nick>' };
    case '/kill-worker': {
      const n = Number(rest[0]);
      if (rest[0] === undefined || !Number.isInteger(n) || n < 0)
        return { cmd: 'invalid', message: 'usage: /kill-worker <n> [--hold-lock]' };
      return { cmd: 'kill-worker', worker: n, holdLock: rest.includes('--hold-lock') };
    }
    case '/kill-store':
      return { cmd: 'kill-store' };
    case '/stall-worker': {
      const n = Number(rest[0]);
      const ms = /^\d+(ms|s)$/.test(rest[1] ?? '') ? parseDuration(rest[1]!, '/stall-worker') : NaN;
      if (!Number.isInteger(n) || n < 0 || !(ms > 0) || ms > 600_000) {
        return { cmd: 'invalid', message: 'usage: /stall-worker <n> <duration up to 10m, e.g. 3s>' };
      }
      return { cmd: 'stall-worker', worker: n, ms };
    }
    default:
      return {
        cmd: 'invalid',
        message: `unknown command ${head} (try /help; start a broadcast with // to send a leading slash)`,
      };
  }
}

/** What the console acts on: the supervisor's shared tables, its workers, and the operator's actions. */
export interface ConsoleTarget {
  readonly table: SessionTable;
  readonly stats: WorkerStats;
  readonly workers: number;
  readonly heartbeatIntervalMs: number;
  readonly actions: OperatorActions;
  /** Every session: this node's (from its table, with their counters), and a cluster's other nodes' (node set). */
  sessions(): Promise<SessionInfo[]>;
  /** This node's id: a cluster's /list says which node each session is on. */
  readonly node: string;
  /** False while a worker is being restarted. */
  isRunning(worker: number): boolean;
  /** False when there is no such worker. */
  toWorker(worker: number, msg: ToWorker): boolean;
  /** Fault injection: crash the store thread; false when it is not running. */
  crashStore(): boolean;
  shutdown(reason: string, cause: string): Promise<void>;
}

export class OperatorConsole {
  private readonly rates: RateMeter;

  constructor(
    private readonly t: ConsoleTarget,
    private readonly log: Logger,
    private readonly print: (line: string) => void,
  ) {
    this.rates = new RateMeter(t.stats, t.workers, Date.now());
  }

  attach(input: NodeJS.ReadStream, screen: TerminalScreen | null = null): void {
    if (screen) {
      this.attachTerminal(input, screen);
      return;
    }
    const rl = createInterface({ input, terminal: false });
    rl.on('line', (line) => void this.run(line));
    // A server without a console (stdin at EOF, /dev/null, a closed pipe) keeps serving.
    rl.on('close', () => this.log.info('operator console closed (stdin at EOF); still serving'));
    input.on('error', (err) => this.log.warn({ err }, 'stdin error; operator console disabled'));
  }

  /** The client's line editor (the same module): history in console-history, Tab completes commands and nicks. */
  private attachTerminal(input: NodeJS.ReadStream, screen: TerminalScreen): void {
    const tty = new TtyInput(
      screen,
      { input, output: process.stdout, outputFd: 1 },
      {
        submit: (line) => void this.run(line),
        paste: (lines) => lines.forEach((l) => void this.run(l)),
        quit: () => void this.t.shutdown('server shutting down', 'Ctrl-C on the console'),
        eof: () => this.print('* the server keeps running: /shutdown or Ctrl-C twice stops it'),
        quitCommand: '/shutdown',
      },
      new History(defaultHistoryPath('console-history')),
      wordCompleter({
        commands: CONSOLE_COMMANDS,
        nicks: () => this.t.table.snapshot().map((s) => s.nick),
        nicksAtStart: false,
      }),
    );
    tty.setPrompt('console> ');
    tty.start();
  }

  async run(line: string): Promise<void> {
    const c = parseOperatorLine(line);
    const noWorker = (n: number) => `no worker ${n} (workers are 0-${this.t.workers - 1})`;
    switch (c.cmd) {
      case 'none':
        return;
      case 'invalid':
        this.print(c.message);
        return;
      case 'help':
        this.print(OPERATOR_HELP);
        return;
      case 'broadcast':
        this.t.actions.broadcast(c.text);
        return;
      case 'list':
        this.print(this.formatList(await this.t.sessions()));
        return;
      case 'stats':
        this.print(this.formatStats(await this.t.sessions()));
        return;
      case 'kick':
        if ((await this.t.actions.kick(c.nick, c.reason)) === null) this.print(`no user named ${c.nick}`);
        return;
      case 'unregister':
        this.t.actions.unregister(c.nick);
        return;
      case 'kill-worker':
        if (!this.t.toWorker(c.worker, { k: 'crash', holdLock: c.holdLock })) this.print(noWorker(c.worker));
        return;
      case 'kill-store':
        if (!this.t.crashStore()) this.print('the history store is not running');
        return;
      case 'stall-worker':
        if (!this.t.toWorker(c.worker, { k: 'stall', ms: c.ms })) this.print(noWorker(c.worker));
        else this.print(`worker ${c.worker} stalled for ${formatDuration(c.ms)}`);
        return;
      case 'shutdown':
        await this.t.shutdown('server shutting down', 'operator /shutdown');
        return;
    }
  }

  /** Sessions, by nick; a cluster's other nodes' with their node and no counters (those are kept there). */
  formatList(sessions: SessionInfo[]): string {
    const now = Date.now();
    const rows = [...sessions].sort((a, b) => a.nick.localeCompare(b.nick));
    if (rows.length === 0) return 'no sessions';
    const cluster = rows.some((r) => r.node !== undefined);
    const cells = rows.map((r) => {
      const here = r.node === undefined;
      const rtt = r.rttMs === null || r.away ? '-' : `${r.rttMs.toFixed(1)}ms`;
      const address = r.address.includes(':') ? `[${r.address}]:${r.port}` : `${r.address}:${r.port}`;
      return [
        ...[r.nick, r.transport, address],
        ...(cluster ? [r.node ?? this.t.node] : []),
        r.away ? 'away' : String(r.owner),
        rtt,
        here ? formatDuration(now - r.lastActive) : '-',
        formatDuration(now - r.connectedAt),
        here ? String(r.msgsIn) : '-',
      ];
    });
    const head = ['NICK', 'VIA', 'ADDRESS', ...(cluster ? ['NODE'] : []), 'WORKER', 'RTT', 'IDLE', 'CONNECTED', 'MSGS'];
    return `${formatTable([head, ...cells])}\n${rows.length} session${rows.length === 1 ? '' : 's'}`;
  }

  formatStats(sessions: SessionInfo[]): string {
    const st = this.t.stats;
    const lines: string[] = [];
    for (let w = 0; w < this.t.workers; w++) {
      lines.push(
        `worker ${w}: ${st.get(w, 'CLIENTS')} clients, ${st.get(w, 'MSGS_IN')} msgs in, ${formatBytes(st.get(w, 'BYTES_IN'))} in, ` +
          `${formatBytes(st.get(w, 'BYTES_OUT'))} out, loop lag ${st.get(w, 'LOOP_LAG_MS')}ms, ` +
          `stall credit ${st.get(w, 'LAG_CREDIT_MS')}ms${this.t.isRunning(w) ? '' : ' (restarting)'}`,
      );
    }
    const r = this.rates.sample(Date.now());
    lines.push(
      `total: ${this.t.table.activeCount()} sessions, ${st.totals(this.t.workers).msgs} msgs in; since last /stats ${formatDuration(r.overMs)}: ` +
        `${r.msgsPerSec.toFixed(1)} msgs/s in, ${r.deliveriesPerSec.toFixed(1)} frames/s out (tick ${tickPeriodFor(this.t.heartbeatIntervalMs)}ms)`,
    );
    if (sessions.some((s) => s.node !== undefined)) {
      const perNode = new Map<string, number>();
      for (const s of sessions) perNode.set(s.node ?? this.t.node, (perNode.get(s.node ?? this.t.node) ?? 0) + 1);
      const each = [...perNode].sort(([a], [b]) => a.localeCompare(b)).map(([n, k]) => `${n} ${k}`);
      lines.push(`cluster: ${sessions.length} sessions (${each.join(', ')})`);
    }
    return lines.join('\n');
  }
}
