#!/usr/bin/env node
/**
 * npm run relay -- --listen 127.0.0.1:7001 --to 127.0.0.1:7000 --loss 5% --delay 2ms --seed 1
 * Impairments apply to both directions; --up-X / --down-X set one direction
 * (up = client to server). Prints what it did every few seconds and on exit.
 */
import { parseOptions } from '../../common/cli.js';
import { parseDuration } from '../../common/units.js';
import { NO_IMPAIRMENT, describeStats, startRelay, type Impairment } from './relay.js';

const KNOBS = [
  'loss',
  'dup',
  'reorder',
  'reorder-delay',
  'corrupt',
  'delay',
  'jitter',
  'rate',
  'queue',
  'mtu',
] as const;
type Knob = (typeof KNOBS)[number];

const USAGE = `Usage: npm run relay -- --listen HOST:PORT --to HOST:PORT [impairments] [--seed N]

Impairments (both directions; prefix with up- or down- for one direction):
  --loss P           drop probability (5% or 0.05)
  --dup P            duplicate probability
  --reorder P        probability a datagram is held back by --reorder-delay (default 10ms)
  --corrupt P        probability one bit is flipped
  --delay DUR        one-way delay (2ms; durations are whole ms, s, m)
  --jitter DUR       extra uniform random delay up to DUR
  --rate RATE        link rate: 100mbit, 10mbps, 5MB (bytes/s); 0 = unlimited
  --queue N          datagrams that may wait for the link; more are dropped (0 = no limit)
  --mtu N            drop a datagram whose IPv4 packet (bytes + 28) is over N, as a link of that MTU
                     drops one with the don't-fragment bit (0 = none)
  --seed N           random seed (default 1)
  --report DUR       print counters this often (default 5s)`;

function fail(msg: string): never {
  process.stderr.write(`relay: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function prob(v: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)(%)?$/.exec(v);
  if (!m) fail(`--${name}: ${v} is not a probability`);
  const p = Number(m[1]) / (m[2] ? 100 : 1);
  if (p < 0 || p > 1) fail(`--${name}: ${v} is out of range`);
  return p;
}

/** The project's durations (whole milliseconds: timers have no finer grain), and 0 for "none". */
function ms(v: string, name: string): number {
  if (/^0+(\.0+)?(ms|s|m|h)?$/.test(v)) return 0;
  try {
    return parseDuration(v, `--${name}`);
  } catch (err) {
    fail((err as Error).message);
  }
}

function whole(v: string, name: string): number {
  if (!/^\d+$/.test(v)) fail(`--${name}: ${v} is not a whole number`);
  return Number(v);
}

function rate(v: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)(kbit|mbit|gbit|kbps|mbps|gbps|b|kb|mb|gb)?$/i.exec(v);
  if (!m) fail(`--${name}: ${v} is not a rate`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 'b').toLowerCase();
  const bits: Record<string, number> = { kbit: 1e3, mbit: 1e6, gbit: 1e9, kbps: 1e3, mbps: 1e6, gbps: 1e9 };
  const bytes: Record<string, number> = { b: 1, kb: 1024, mb: 1 << 20, gb: 1 << 30 };
  return unit in bits ? (n * bits[unit]!) / 8 : n * bytes[unit]!;
}

function hostPort(v: string | undefined, name: string): { host: string; port: number } {
  const m = v ? (/^\[([^\]]+)\]:(\d+)$/.exec(v) ?? /^([^:]+):(\d+)$/.exec(v)) : null;
  if (!m) fail(`--${name} must be HOST:PORT`);
  const port = Number(m[2]);
  if (port > 65535) fail(`--${name}: port ${port} is out of range (0-65535)`);
  return { host: m[1]!, port };
}

const options: Record<string, { type: 'string' }> = {
  listen: { type: 'string' },
  to: { type: 'string' },
  seed: { type: 'string' },
  report: { type: 'string' },
};
for (const k of KNOBS) for (const p of ['', 'up-', 'down-']) options[p + k] = { type: 'string' };
let values: Record<string, string | boolean | undefined>;
try {
  ({ values } = parseOptions(process.argv.slice(2), { ...options, help: { type: 'boolean', short: 'h' } }));
} catch (err) {
  fail((err as Error).message);
}
if (values['help']) {
  process.stdout.write(USAGE + '\n');
  process.exit(0);
}

function impairment(prefix: '' | 'up-' | 'down-'): Impairment {
  const imp = { ...NO_IMPAIRMENT };
  const apply = (k: Knob, v: string) => {
    switch (k) {
      case 'loss':
        imp.loss = prob(v, k);
        break;
      case 'dup':
        imp.duplicate = prob(v, k);
        break;
      case 'reorder':
        imp.reorder = prob(v, k);
        break;
      case 'reorder-delay':
        imp.reorderDelayMs = ms(v, k);
        break;
      case 'corrupt':
        imp.corrupt = prob(v, k);
        break;
      case 'delay':
        imp.delayMs = ms(v, k);
        break;
      case 'jitter':
        imp.jitterMs = ms(v, k);
        break;
      case 'rate':
        imp.rateBps = rate(v, k);
        break;
      case 'queue':
        imp.queueLimit = whole(v, k);
        break;
      case 'mtu':
        imp.mtu = whole(v, k);
        break;
    }
  };
  for (const k of KNOBS) {
    const both = values[k];
    if (typeof both === 'string') apply(k, both);
    const own = prefix ? values[prefix + k] : undefined;
    if (typeof own === 'string') apply(k, own);
  }
  return imp;
}

const listen = hostPort(values['listen'] as string | undefined, 'listen');
const reportMs = values['report'] ? ms(values['report'] as string, 'report') : 5000;
if (reportMs < 10) fail('--report must be at least 10ms');
const up = impairment('up-');
const down = impairment('down-');
const to = hostPort(values['to'] as string | undefined, 'to');
const relay = await startRelay({
  listenHost: listen.host,
  listenPort: listen.port,
  targetHost: to.host,
  targetPort: to.port,
  seed: values['seed'] ? whole(values['seed'] as string, 'seed') : 1,
  up,
  down,
});
process.stdout.write(`relay listening on udp ${listen.host}:${relay.port} → ${to.host}:${to.port}\n`);
const report = () => {
  const s = relay.stats;
  process.stdout.write(`${describeStats('up  ', s.up)}\n${describeStats('down', s.down)}\n`);
};
setInterval(report, reportMs).unref();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    report();
    void relay.close().then(() => process.exit(0));
  });
}
