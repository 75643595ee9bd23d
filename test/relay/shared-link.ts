#!/usr/bin/env node
/**
 * One bottleneck shared by real flows: LFTP gets and kernel TCP streams,
 * started together, through a rate-limited link with a small drop-tail
 * queue, each flow's goodput measured over a window once all are running.
 *
 *   node dist/test/relay/shared-link.js --rate 40mbit --queue 24 --flows lftp,tcp [--cc bbr]
 *                                       [--seconds 12] [--from 4] [--native 0|1]
 *
 * The fault relay (relay.ts) is UDP: a TCP stream cannot cross it as TCP
 * (a user-space relay would end the TCP connection at its socket, and the
 * stream would meet a lossless loopback, not the queue). So the link is the
 * kernel's own: the script runs itself in a new user and network namespace
 * (`unshare -rn`: no root needed where user namespaces are allowed), whose
 * loopback gets an MTU of 1500 and a token-bucket filter (tc tbf) of --rate
 * with a queue of --queue full-size packets. Every packet of every flow, data
 * and ACKs, waits in that one FIFO and is dropped at its tail: the real
 * congestion a TCP (the kernel's CUBIC) and LFTP's controller meet on a
 * router. Nothing outside the namespace is touched.
 *
 * LFTP's goodput is the growth of the file its client writes (what arrived
 * in order); TCP's is what the sink read. Prints one JSON line:
 * {"flows":[{"kind","bytes","mbps"}],"shares":[...],"jain","tcpCc","windowMs"}
 * or {"unavailable": why} when no namespace can be made (exit 3).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, openSync, closeSync, ftruncateSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../../..');
const SERVER_JS = join(ROOT, 'dist/server/cli.js');
const CLIENT_JS = join(ROOT, 'dist/client/cli.js');
const IN_NAMESPACE = 'LFTP_SHARED_LINK_NS';
const FULL_PACKET = 1514;

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '40mbit' },
    queue: { type: 'string', default: '24' },
    flows: { type: 'string', default: 'lftp,tcp' },
    cc: { type: 'string', default: 'bbr' },
    seconds: { type: 'string', default: '12' },
    from: { type: 'string', default: '4' },
    native: { type: 'string' },
    'tcp-cc': { type: 'string', default: 'reno' },
    qlog: { type: 'string' },
    'tcp-source': { type: 'string' },
  },
});

/** The TCP flow's sending side, in a process of its own: writes as fast as the socket takes. */
function tcpSource(port: number): void {
  const chunk = Buffer.alloc(64 * 1024, 7);
  const sock = net.connect(port, '127.0.0.1', () => {
    const pump = () => {
      while (sock.write(chunk));
    };
    sock.on('drain', pump);
    pump();
  });
  sock.on('error', () => process.exit(0));
}

function outside(): void {
  const probe = spawnSync('unshare', ['-rn', 'true'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    const why = probe.error ? probe.error.message : probe.stderr.trim() || `exit ${probe.status}`;
    process.stdout.write(JSON.stringify({ unavailable: `no network namespace: unshare -rn: ${why}` }) + '\n');
    process.exit(3);
  }
  const args = process.argv.slice(2);
  const r = spawnSync('unshare', ['-rn', process.execPath, fileURLToPath(import.meta.url), ...args], {
    stdio: 'inherit',
    env: { ...process.env, [IN_NAMESPACE]: '1' },
  });
  process.exit(r.status ?? 1);
}

function sh(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** The link: loopback at 1500 bytes, a token bucket of `rate` and a queue of `queue` full packets. */
function makeLink(rate: string, queue: number): void {
  sh('ip', ['link', 'set', 'lo', 'mtu', '1500', 'up']);
  // burst: two packets, so that the link sends at its rate and not in token bursts.
  sh('tc', [
    'qdisc',
    'add',
    'dev',
    'lo',
    'root',
    'tbf',
    'rate',
    rate,
    'burst',
    String(2 * FULL_PACKET),
    'limit',
    String(queue * FULL_PACKET),
  ]);
}

function waitLine(child: ChildProcess, re: RegExp, ms: number): Promise<string> {
  return new Promise((resolveLine, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms: ${buf}`)), ms);
    const onData = (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n').find((l) => re.test(l));
      if (line) {
        clearTimeout(timer);
        resolveLine(line);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  });
}

/** Bytes in the largest file under `dir` (the LFTP client's partial file grows as data arrives in order). */
function written(dir: string): number {
  let most = 0;
  for (const n of readdirSync(dir)) {
    try {
      most = Math.max(most, statSync(join(dir, n)).size);
    } catch {
      // renamed or removed meanwhile
    }
  }
  return most;
}

async function inside(): Promise<void> {
  const kinds = values.flows!.split(',');
  const seconds = Number(values.seconds);
  const from = Number(values.from);
  const env = { ...process.env, ...(values.native !== undefined ? { LFTP_NATIVE: values.native } : {}) };
  try {
    makeLink(values.rate!, Number(values.queue));
    // The namespace's own TCP default: a process without CAP_NET_ADMIN may pick among the allowed ones.
    sh('sysctl', ['-w', `net.ipv4.tcp_congestion_control=${values['tcp-cc']}`]);
  } catch (err) {
    const why = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    process.stdout.write(JSON.stringify({ unavailable: `cannot make the link in the namespace (${why})` }) + '\n');
    process.exit(3);
  }
  const work = mkdtempSync(join(tmpdir(), 'shared-link-'));
  const children: ChildProcess[] = [];
  try {
    const files = join(work, 'files');
    execFileSync('mkdir', ['-p', files]);
    // A sparse file far larger than the window can move: reads are cheap, the transfer never ends first.
    const fd = openSync(join(files, 'big.bin'), 'w');
    ftruncateSync(fd, 4 * 2 ** 30);
    closeSync(fd);
    writeFileSync(join(work, 'ready'), '');
    const server = spawn(
      process.execPath,
      [
        SERVER_JS,
        'lftp',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--files',
        files,
        '--open',
        '--cc',
        values.cc!,
        ...(values.qlog ? ['--qlog', values.qlog] : []),
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(server);
    const port = Number(/:(\d+)\s*$/.exec(await waitLine(server, /^listening on udp /, 15_000))![1]);
    const tcpBytes: number[] = [];
    const sink = net.createServer((s) => {
      const k = tcpBytes.length;
      tcpBytes.push(0);
      s.on('data', (d) => (tcpBytes[k]! += d.length));
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
    const sinkPort = (sink.address() as net.AddressInfo).port;
    const measures: Array<() => number> = [];
    let tcpIndex = 0;
    for (const [k, kind] of kinds.entries()) {
      if (kind === 'lftp') {
        const out = join(work, `out-${k}`);
        execFileSync('mkdir', ['-p', out]);
        children.push(
          spawn(
            process.execPath,
            [CLIENT_JS, 'lftp', 'get', `127.0.0.1:${port}`, 'big.bin', join(out, 'big.bin'), '--quiet'],
            { env, stdio: 'ignore' },
          ),
        );
        measures.push(() => written(out));
      } else {
        const i = tcpIndex++;
        children.push(
          spawn(process.execPath, [fileURLToPath(import.meta.url), '--tcp-source', String(sinkPort)], {
            stdio: 'ignore',
          }),
        );
        measures.push(() => tcpBytes[i] ?? 0);
      }
    }
    const t0 = performance.now();
    const at = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, t0 + ms - performance.now())));
    // Every flow's bytes each 500 ms, for a look at how the shares move (in the output as "series").
    const series: number[][] = [];
    const sampler = setInterval(() => series.push(measures.map((m) => m())), 500);
    await at(from * 1000);
    const start = measures.map((m) => m());
    const startAt = performance.now();
    await at(seconds * 1000);
    const bytes = measures.map((m, k) => m() - start[k]!);
    clearInterval(sampler);
    const windowMs = performance.now() - startAt;
    const total = bytes.reduce((a, b) => a + b, 0);
    const shares = bytes.map((b) => (total > 0 ? b / total : 0));
    const sq = bytes.reduce((a, b) => a + b * b, 0);
    const jain = sq > 0 ? (total * total) / (bytes.length * sq) : 1;
    const tcpCc = execFileSync('sysctl', ['-n', 'net.ipv4.tcp_congestion_control'], { encoding: 'utf8' }).trim();
    process.stdout.write(
      JSON.stringify({
        flows: kinds.map((kind, k) => ({ kind, bytes: bytes[k], mbps: (bytes[k]! * 8) / 1e6 / (windowMs / 1000) })),
        shares,
        jain,
        tcpCc,
        windowMs: Math.round(windowMs),
        rate: values.rate,
        queue: Number(values.queue),
        series: series.map((row, i) => row.map((v, k) => v - (series[i - 1]?.[k] ?? 0))),
      }) + '\n',
    );
    sink.close();
  } finally {
    for (const c of children) c.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  }
}

if (values['tcp-source']) tcpSource(Number(values['tcp-source']));
else if (process.env[IN_NAMESPACE] !== '1') outside();
else
  inside().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`shared-link: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
