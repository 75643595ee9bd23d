#!/usr/bin/env node
/**
 * Reference transports for the benchmarks, one role per process:
 *   udp-recv PORT EXPECT_BYTES      count datagrams until EXPECT_BYTES arrived or 1 s of silence
 *   udp-send HOST PORT SIZE BYTES   send BYTES in SIZE-byte datagrams as fast as Node can
 *   timer-lateness MS               how late a 1 ms timer fires, for MS: the machine's scheduling noise
 *   tcp-recv PORT OUTFILE           accept one stream, write it to OUTFILE, hash it
 *   tcp-send HOST PORT FILE         stream FILE
 * Each prints one JSON line: what it moved and how long it took.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { LatencyHistogram } from './stats.js';

const [role, ...a] = process.argv.slice(2);
const out = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');

if (role === 'udp-recv') {
  const port = Number(a[0]);
  const expect = Number(a[1]);
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
  let bytes = 0;
  let datagrams = 0;
  let first = 0;
  let last = 0;
  let idle: NodeJS.Timeout | null = null;
  const finish = () => {
    out({ bytes, datagrams, ms: last - first });
    process.exit(0);
  };
  s.on('message', (m) => {
    const now = performance.now();
    if (datagrams === 0) first = now;
    last = now;
    bytes += m.length;
    datagrams++;
    if (bytes >= expect) finish();
    if (idle) idle.refresh();
    else idle = setTimeout(finish, 1000);
  });
  s.bind(port, '127.0.0.1', () => out({ ready: true, port: s.address().port }));
} else if (role === 'udp-send') {
  const [host, port, size, total] = [a[0]!, Number(a[1]), Number(a[2]), Number(a[3])];
  const s = dgram.createSocket({ type: 'udp4', sendBufferSize: 8 << 20 });
  const payload = Buffer.alloc(size, 0x5a);
  let sent = 0;
  let inFlight = 0;
  const t0 = performance.now();
  s.connect(port, host, () => {
    const pump = () => {
      // Keep a bounded number of sends queued in libuv: as fast as it drains, no faster.
      while (inFlight < 256 && sent < total) {
        inFlight++;
        sent += size;
        s.send(payload, () => {
          inFlight--;
          if (sent >= total && inFlight === 0) {
            out({ sent, ms: performance.now() - t0 });
            s.close();
          } else if (inFlight < 128) setImmediate(pump);
        });
      }
    };
    pump();
  });
} else if (role === 'tcp-recv') {
  const [port, file] = [Number(a[0]), a[1]!];
  const server = net.createServer((sock) => {
    const hash = createHash('sha256');
    const w = createWriteStream(file);
    let bytes = 0;
    const t0 = performance.now();
    sock.on('data', (d: Buffer) => {
      bytes += d.length;
      hash.update(d);
    });
    sock.pipe(w);
    w.on('finish', () => {
      out({ bytes, ms: performance.now() - t0, sha256: hash.digest('hex') });
      process.exit(0);
    });
  });
  server.listen(port, '127.0.0.1', () => out({ ready: true, port: (server.address() as net.AddressInfo).port }));
} else if (role === 'tcp-send') {
  const [host, port, file] = [a[0]!, Number(a[1]), a[2]!];
  const sock = net.connect({ host, port }, () => {
    const t0 = performance.now();
    createReadStream(file, { highWaterMark: 1 << 20 }).pipe(sock);
    sock.on('finish', () => out({ ms: performance.now() - t0 }));
  });
} else if (role === 'timer-lateness') {
  // What an otherwise idle Node process sees of the machine: on a VM whose CPU the hypervisor
  // takes away now and then, this is the floor under every latency a benchmark measures.
  const until = performance.now() + Number(a[0]);
  const late = new LatencyHistogram();
  let due = performance.now() + 1;
  const tick = () => {
    const t = performance.now();
    late.add(Math.max(0, t - due));
    if (t >= until) {
      out({ samples: late.count, p50: late.percentile(50), p99: late.percentile(99), max: late.max });
      return;
    }
    due = performance.now() + 1;
    setTimeout(tick, 1);
  };
  setTimeout(tick, 1);
} else {
  process.stderr.write('usage: stream-tools udp-recv|udp-send|tcp-recv|tcp-send|timer-lateness ...\n');
  process.exit(2);
}
