#!/usr/bin/env node
/**
 * Chat load generator: N clients spread over P processes
 * (chat-load-clients.ts), speaking the project's chat protocol or IRC (for
 * ngircd), heartbeats answered. Connects them, holds them, optionally has S of
 * them send R messages/s each, and prints one JSON line: connect time, drops,
 * deliveries/s, latency percentiles, lost / duplicated / out-of-order counts.
 *
 *   node chat-load.js --proto chat|irc --port P --clients N --hold 60s
 *                     [--senders S --rate R --duration 10s] [--connecting 8] [--procs 1]
 *                     [--connect-max 600s] [--server-pid PID]
 *
 * --connect-max: no client is started after this long connecting; the rest
 * are reported as notAttempted (not as failures). Joining a room of N is
 * O(N) for the server (the join is announced to everyone), so the connect
 * phase grows as N²; this bounds it for a server that slows down further.
 *
 * --server-pid: the server's CPU time (user and system) from the senders'
 * start until the last process has its deliveries, so that CPU per delivery
 * leaves out connecting and joining.
 * The generator's own CPU over the same span is always reported (loadCpuSec),
 * and so is the machine's steal (stealPct: CPU time the hypervisor gave to
 * other guests, in % of all CPU time).
 *
 * --procs 2 for fan-out: one Node thread reading every delivery was the
 * bottleneck past 400,000 deliveries/s, and the figures then measured how fast
 * the generator parses each protocol, not the servers. Holding connections
 * uses one: there the server is the bottleneck (every join is announced to
 * everyone), and on 2 cores a second generator process only takes CPU from it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseOptions, startProgram } from '../../common/cli.js';
import { UsageError } from '../../common/errors.js';
import { parseChoice, parseDuration, parseInteger } from '../../common/units.js';
import type { SliceConfig, SliceReady, SliceResult } from './chat-load-clients.js';
import { LatencyHistogram, monotonicMs } from './stats.js';
import { cpuCounters, procStat, stealSince } from './proc.js';

const PROGRAM = 'chat-load';
const USAGE = `Usage: chat-load --port P [options]

  --proto chat|irc     protocol to speak (default chat; irc for ngircd)
  --host H             server address (default 127.0.0.1)
  --port P[,P...]      server port (required); several: clients go round them (a cluster's nodes)
  --clients N          clients to connect (default 100)
  --hold D             hold them this long once all are in (default 10s)
  --senders S          clients that send, 0 for none (default 0)
  --rate R             messages per second per sender (default 10)
  --duration D         how long the senders send (default 10s)
  --connecting K       clients between connect() and joined at most (default 8)
  --connect-max D      start no client after this long connecting
  --procs P            generator processes sharing the clients (default 1)
  --server-pid PID[,PID...]  report those processes' CPU (summed) while the senders send
  --prefix X           nick prefix (default u)
  --tls                the chat protocol inside TLS
  -h, --help           this text

Prints one JSON line with the results. Durations: 500ms, 10s, 2m.`;

interface LoadOptions {
  proto: 'chat' | 'irc';
  /** The chat protocol inside TLS (the server's certificate is not checked: a benchmark measures, it does not trust). */
  tls: boolean;
  host: string;
  /** Clients go round the ports (the nodes of a cluster), client i to ports[i % ports.length]. */
  ports: number[];
  clients: number;
  holdMs: number;
  senders: number;
  rate: number;
  durationMs: number;
  connecting: number;
  connectMaxMs: number | null;
  procs: number;
  /** The server's processes (a cluster's nodes and its Redis): their CPU is summed. */
  serverPids: number[];
  prefix: string;
}

function parseLoadArgs(args: string[]): LoadOptions | null {
  const { values: v } = parseOptions(args, {
    proto: { type: 'string' },
    tls: { type: 'boolean' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    clients: { type: 'string', default: '100' },
    hold: { type: 'string', default: '10s' },
    senders: { type: 'string', default: '0' },
    rate: { type: 'string', default: '10' },
    duration: { type: 'string', default: '10s' },
    connecting: { type: 'string', default: '8' },
    'connect-max': { type: 'string' },
    prefix: { type: 'string', default: 'u' },
    procs: { type: 'string', default: '1' },
    'server-pid': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) return null;
  if (v.port === undefined) throw new UsageError('--port is required');
  const clients = parseInteger(v.clients, '--clients', 1, 1_000_000);
  return {
    proto: parseChoice(v.proto, '--proto', ['chat', 'irc'] as const, 'chat'),
    tls: v.tls ?? false,
    host: v.host,
    ports: v.port.split(',').map((p) => parseInteger(p, '--port', 1, 65_535)),
    clients,
    holdMs: parseDuration(v.hold, '--hold'),
    senders: Math.min(parseInteger(v.senders, '--senders', 0, 1_000_000), clients),
    rate: parseInteger(v.rate, '--rate', 1, 100_000),
    durationMs: parseDuration(v.duration, '--duration'),
    connecting: parseInteger(v.connecting, '--connecting', 1, 10_000),
    connectMaxMs: v['connect-max'] === undefined ? null : parseDuration(v['connect-max'], '--connect-max'),
    procs: Math.min(parseInteger(v.procs, '--procs', 1, 64), clients),
    serverPids:
      v['server-pid'] === undefined
        ? []
        : v['server-pid'].split(',').map((p) => parseInteger(p, '--server-pid', 1, 2 ** 31 - 1)),
    prefix: v.prefix,
  };
}

const o = startProgram<LoadOptions>(PROGRAM, USAGE, (args) => {
  const parsed = parseLoadArgs(args);
  return parsed === null ? { help: true } : { options: parsed };
});
const N = o.clients;
const S = o.senders;
const PROCS = o.procs;
const HOLD = o.holdMs;
const SERVER_PIDS = o.serverPids;
/** The server's processes' CPU together (null: none given). */
const serverStat = () => {
  if (SERVER_PIDS.length === 0) return null;
  const all = SERVER_PIDS.map(procStat);
  const sum = (k: 'userSec' | 'sysSec' | 'cpuSec' | 'rssKb') => all.reduce((a, p) => a + p[k], 0);
  return { userSec: sum('userSec'), sysSec: sum('sysSec'), cpuSec: sum('cpuSec'), rssKb: sum('rssKb') };
};

const SLICE = fileURLToPath(new URL('./chat-load-clients.js', import.meta.url));

interface Slice {
  proc: ChildProcess;
  lines: string[];
  wake: (() => void) | null;
}

function startSlice(index: number): Slice {
  const cfg: SliceConfig = {
    index,
    procs: PROCS,
    proto: o.proto,
    tls: o.tls,
    host: o.host,
    ports: o.ports,
    clients: N,
    senders: S,
    rate: o.rate,
    durationMs: o.durationMs,
    connecting: Math.max(1, Math.ceil(o.connecting / PROCS)),
    connectMaxMs: o.connectMaxMs,
    prefix: o.prefix,
  };
  const proc = spawn(process.execPath, [SLICE, JSON.stringify(cfg)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const s: Slice = { proc, lines: [], wake: null };
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    s.lines.push(l);
    s.wake?.();
  });
  proc.on('exit', (code) => {
    if (code !== 0 && code !== null)
      s.lines.push(JSON.stringify({ failed: `generator process ${index} exited with code ${code}` }));
    s.wake?.();
  });
  return s;
}

async function nextLine<T>(s: Slice): Promise<T> {
  while (s.lines.length === 0) {
    if (s.proc.exitCode !== null) throw new Error('chat-load: a generator process exited early');
    await new Promise<void>((r) => (s.wake = r));
  }
  const o = JSON.parse(s.lines.shift()!) as T & { failed?: string };
  if (o.failed) throw new Error(`chat-load: ${o.failed}`);
  return o;
}

const slices = Array.from({ length: PROCS }, (_, k) => startSlice(k));
try {
  const ready = await Promise.all(slices.map((s) => nextLine<SliceReady>(s)));
  const connected = ready.reduce((a, r) => a + r.connected, 0);
  const connectMs = Math.max(...ready.map((r) => r.connectMs));
  // Every process starts its senders at the same instant of the shared clock.
  const start = monotonicMs() + Math.max(HOLD, 50);
  for (const s of slices) s.proc.stdin!.write(`go ${start.toFixed(3)}\n`);
  // CPU while sending, of the server and of the generator's own processes (is the generator the bottleneck?).
  const cpuNow = () => ({
    server: serverStat(),
    load: slices.map((s) => procStat(s.proc.pid!)),
    machine: cpuCounters(),
  });
  const cpuAtStart = new Promise<ReturnType<typeof cpuNow>>((r) =>
    setTimeout(() => r(cpuNow()), Math.max(0, start - monotonicMs())),
  );
  const results = await Promise.all(slices.map((s) => nextLine<SliceResult>(s)));
  const cpu1 = cpuNow();
  const cpu0 = await cpuAtStart;
  // The hypervisor's share over the same span: a run's latency is read against it.
  const stealPct = stealSince(cpu0.machine);
  const loadCpuSec = cpu1.load.reduce((a, p, k) => a + p.cpuSec - cpu0.load[k]!.cpuSec, 0);
  for (const s of slices) s.proc.stdin!.end('exit\n');

  const sum = (f: (r: SliceResult) => number) => results.reduce((a, r) => a + f(r), 0);
  let fanout: Record<string, number> | null = null;
  if (S > 0) {
    const latencies = new LatencyHistogram();
    for (const r of results) latencies.merge(r.latency);
    const sent = sum((r) => r.sent);
    const delivered = sum((r) => r.delivered);
    const expected = sent * (sum((r) => r.live) - 1);
    const secs = (Math.max(...results.map((r) => r.endAt)) - start) / 1000;
    fanout = {
      senders: S,
      ratePerSender: o.rate,
      sent,
      expected,
      delivered,
      deliveriesPerSec: delivered / secs,
      lost: Math.max(0, expected - delivered),
      duplicates: sum((r) => r.duplicates),
      outOfOrder: sum((r) => r.outOfOrder),
      unexpected: sum((r) => r.unexpected),
      p50: latencies.percentile(50),
      p99: latencies.percentile(99),
      max: latencies.max,
      loadCpuSec,
      stealPct,
      ...(cpu0.server && cpu1.server
        ? {
            serverUserSec: cpu1.server.userSec - cpu0.server.userSec,
            serverSysSec: cpu1.server.sysSec - cpu0.server.sysSec,
          }
        : {}),
    };
  }
  process.stdout.write(
    JSON.stringify({
      proto: o.proto,
      clients: N,
      procs: PROCS,
      connected,
      failedToConnect: ready.reduce((a, r) => a + r.failedToConnect, 0),
      notAttempted: ready.reduce((a, r) => a + r.notAttempted, 0),
      connectMs,
      connectPerSec: connected / (connectMs / 1000),
      holdMs: HOLD,
      falseDrops: sum((r) => r.drops),
      dropSamples: results.flatMap((r) => r.dropSamples).slice(0, 5),
      fanout,
    }) + '\n',
  );
  await Promise.all(slices.filter((s) => s.proc.exitCode === null).map((s) => once(s.proc, 'exit')));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  for (const s of slices) s.proc.kill('SIGKILL');
  process.exit(1);
}
