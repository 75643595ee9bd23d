/**
 * Bigger datagrams where the path takes them (DPLPMTUD, RFC 8899; docs/LFTP.md, "Datagram size"), with real
 * processes: on loopback the sender probes and packs 45 packets a datagram; through the relay with a
 * 1500-byte MTU its probes are lost, nothing else is, and it stays at 1472; a peer from before packed
 * datagrams (LFTP_DPLPMTUD=0 leaves them out of its handshake) is never sent one. On the dgram fallback
 * (LFTP_NATIVE=0) a sender cannot set the don't-fragment bit and does not probe: the tests say so and check it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLftpClient, startLftpServer, stopAll, tempDir, type ServerHandle } from '../helpers/processes.js';
import { NO_IMPAIRMENT, startRelay } from '../relay/relay.js';
import { nativeAddon } from '../../common/lftp/native/load.js';
import { readQlog } from '../../client/trace-report/qlog-file.js';
import { udpDropsOf } from '../helpers/server-sockets.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const TOKEN = 'pmtu token';
/** This run's datagram path: only the addon's sockets set the don't-fragment bit, so only they probe. */
const PROBES = nativeAddon() !== null && process.env['LFTP_NATIVE'] !== '0';
/** 45 packets of 1432 bytes (a protected transfer's mss), the 24-byte header and the 16-byte tag: 64,480 bytes on the wire. */
const PACKED = '64480-byte datagrams (45 packets each)';

let server: ServerHandle;
let files: string;
let work: string;
let data: Buffer;

beforeAll(async () => {
  files = tempDir('pmtu-files');
  work = tempDir('pmtu-work');
  data = randomBytes(8 * 1024 * 1024 + 5);
  writeFileSync(join(work, 'up.bin'), data);
  writeFileSync(join(files, 'down.bin'), data);
  server = await startLftpServer(files, ['--token', TOKEN, '--qlog', join(work, 'server-qlog')]);
});
afterAll(async () => {
  await stopAll(server);
});

const post = (port: number, name: string, extra: string[] = [], env: Record<string, string> = {}, local?: string) =>
  runLftpClient(
    ['post', `127.0.0.1:${port}`, local ?? join(work, 'up.bin'), name, '--token', TOKEN, '--verbose', ...extra],
    { env },
  );

describe('DPLPMTUD', () => {
  it('on loopback: the sender probes 64,480-byte datagrams, the probe is answered, the data goes packed (qlog and --verbose say so)', async () => {
    const qlog = join(work, 'client-qlog');
    const r = await post(server.port, 'loop.bin', ['--qlog', qlog]);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(sha(readFileSync(join(files, 'loop.bin')))).toBe(sha(data));
    const err = r.err.join('\n');
    const trace = await readQlog(join(qlog, readdirSync(qlog)[0]!));
    const mtu = trace.events.filter((e) => e.name.includes('mtu'));
    if (!PROBES) {
      // dgram cannot set the don't-fragment bit: a probe could pass as IP fragments, so there is none.
      expect(err).not.toContain('path MTU');
      expect(mtu).toEqual([]);
      return;
    }
    expect(err).toContain(`lftp: path MTU: probing ${PACKED}, try 1`);
    expect(err).toContain('lftp: path MTU: the peer got the 64480-byte probe');
    expect(err).toContain(`lftp: path MTU: search done, sending ${PACKED}`);
    expect(mtu.map((e) => e.name)).toEqual(['lftp:mtu_probe_sent', 'lftp:mtu_probe_acked', 'transport:mtu_updated']);
    expect(mtu[2]!.data).toMatchObject({ new: 64_480, packets: 45, done: true });
    // Data datagrams of 45 packets went out after that.
    const packed = trace.events.filter(
      (e) =>
        e.name === 'transport:packet_sent' &&
        (e.data['raw'] as { payload_length: number }).payload_length === 45 * 1432,
    );
    expect(packed.length).toBeGreaterThan(10);
  });

  it('a get: the server probes and packs in the same way (its qlog), to a client on either datagram path', async () => {
    for (const env of [{}, { LFTP_NATIVE: '0' }] as Array<Record<string, string>>) {
      const dest = join(work, `down-${Object.keys(env).length}.bin`);
      const r = await runLftpClient(['get', `127.0.0.1:${server.port}`, 'down.bin', dest, '--token', TOKEN], { env });
      expect(r.code, r.err.join('\n')).toBe(0);
      expect(sha(readFileSync(dest))).toBe(sha(data));
    }
    const dir = join(work, 'server-qlog');
    const traces = await Promise.all(readdirSync(dir).map((f) => readQlog(join(dir, f))));
    const gets = traces.filter((t) => t.title.includes('get down.bin'));
    expect(gets.length).toBe(2);
    // A dgram client takes the 64 KB datagrams as the addon's does: the server packs for both.
    for (const get of gets) {
      const updated = get.events.filter((e) => e.name === 'transport:mtu_updated');
      expect(updated.map((e) => e.data['new'])).toEqual(PROBES ? [64_480] : []);
    }
  });

  it('over IPv6 (::1): a get and a post byte-identical, the sender probing and packing as over IPv4 (where it can)', async () => {
    const v6 = await startLftpServer(files, ['--token', TOKEN, '--host', '::1']);
    try {
      expect(v6.lines.join('\n')).toMatch(/listening on udp \[?::1\]?:\d+/);
      const at = `[::1]:${v6.port}`;
      const up = await runLftpClient(['post', at, join(work, 'up.bin'), 'six.bin', '--token', TOKEN, '--verbose']);
      expect(up.code, up.err.join('\n')).toBe(0);
      expect(sha(readFileSync(join(files, 'six.bin')))).toBe(sha(data));
      const dest = join(work, 'six-down.bin');
      const down = await runLftpClient(['get', at, 'down.bin', dest, '--token', TOKEN]);
      expect(down.code, down.err.join('\n')).toBe(0);
      expect(sha(readFileSync(dest))).toBe(sha(data));
      const err = up.err.join('\n');
      if (PROBES) expect(err).toContain(`lftp: path MTU: search done, sending ${PACKED}`);
      else expect(err).not.toContain('path MTU');
    } finally {
      await stopAll(v6);
    }
  });

  it('through a 1500-byte link (the relay drops what does not fit): the probes are lost, the data is not, and it stays at 1472', async () => {
    const link = { ...NO_IMPAIRMENT, delayMs: 1, mtu: 1500 };
    const relay = await startRelay({
      listenHost: '127.0.0.1',
      listenPort: 0,
      targetHost: '127.0.0.1',
      targetPort: server.port,
      seed: 3,
      up: link,
      down: link,
    });
    try {
      // 48 MiB: long enough for six probe timers (50 ms or 3 RTTs each) before the data runs out.
      const big = randomBytes(48 * 1024 * 1024);
      writeFileSync(join(work, 'narrow.bin'), big);
      // The relay's sockets (this process) and the server's: what a loaded machine's kernel drops there is real
      // loss, repaired by resending; only that may be resent.
      const dropped = () => udpDropsOf([process.pid, server.proc.pid!]);
      const droppedBefore = dropped();
      const r = await post(relay.port, 'narrow.bin', ['--json'], {}, join(work, 'narrow.bin'));
      const kernelDrops = dropped() - droppedBefore;
      expect(r.code, r.err.join('\n')).toBe(0);
      expect(sha(readFileSync(join(files, 'narrow.bin')))).toBe(sha(big));
      const err = r.err.join('\n');
      const result = JSON.parse(r.out.findLast((l) => l.startsWith('{'))!) as { retransmissions: number };
      // Nothing but the probes was lost: no data packet was found lost by the ACKs (three later ones acknowledged)
      // but for what the kernel dropped, and nothing was resent but that and what the timers gave up on (a loaded
      // machine starves the relay: a late packet is then resent by time, rightly).
      const lines = err.split('\n');
      const counted = (re: RegExp) => lines.map((l) => re.exec(l)).reduce((n, m) => n + (m ? Number(m[1] ?? 1) : 0), 0);
      const byAcks = counted(/loss detected: (?:(\d+) packets|packet \d+).*\(fast retransmit\)/);
      const byTime =
        counted(/loss detected by time: (?:(\d+) packets|packet \d+)/) +
        counted(/retransmission timeout: (\d+) packets to resend/);
      const why = lines.filter((l) => /loss|timeout|path MTU/.test(l)).slice(0, 40);
      expect(byAcks, why.join('\n')).toBeLessThanOrEqual(kernelDrops);
      expect(result.retransmissions, why.join('\n')).toBeLessThanOrEqual(kernelDrops + byTime);
      if (!PROBES) {
        expect(relay.stats.up.tooBig).toBe(0);
        return;
      }
      expect(err).toContain('lftp: path MTU: no 64480-byte probe got through in 3 tries: too big for this path');
      expect(err).toContain('lftp: path MTU: no 8632-byte probe got through in 3 tries: too big for this path');
      expect(err).toContain('lftp: path MTU: search done, sending 1472-byte datagrams (1 packet each)');
      // Six probes (three of each size) reached the relay and went no further; the data (1472 bytes sealed) went on.
      expect(relay.stats.up.tooBig).toBe(6);
    } finally {
      await relay.close();
    }
  });

  it('a peer from before packed datagrams (LFTP_DPLPMTUD=0): no dgram in the handshake, no probe, one packet a datagram', async () => {
    const oldFiles = tempDir('pmtu-old');
    writeFileSync(join(oldFiles, 'down.bin'), data);
    const old = await startLftpServer(oldFiles, ['--token', TOKEN], { LFTP_DPLPMTUD: '0' });
    try {
      // A new client posting to an old server: the SYN-ACK has no dgram, so the client does not probe.
      const p = await post(old.port, 'to-old.bin');
      expect(p.code, p.err.join('\n')).toBe(0);
      expect(sha(readFileSync(join(oldFiles, 'to-old.bin')))).toBe(sha(data));
      expect(p.err.join('\n')).not.toContain('path MTU');
      // An old client posting to a new server: its SYN has no dgram.
      const q = await post(server.port, 'from-old.bin', [], { LFTP_DPLPMTUD: '0' });
      expect(q.code, q.err.join('\n')).toBe(0);
      expect(sha(readFileSync(join(files, 'from-old.bin')))).toBe(sha(data));
      expect(q.err.join('\n')).not.toContain('path MTU');
      // And an old client's get from a new server: the server does not probe it either.
      const g = await runLftpClient(
        ['get', `127.0.0.1:${server.port}`, 'down.bin', join(work, 'old-down.bin'), '--token', TOKEN],
        { env: { LFTP_DPLPMTUD: '0' } },
      );
      expect(g.code, g.err.join('\n')).toBe(0);
      expect(sha(readFileSync(join(work, 'old-down.bin')))).toBe(sha(data));
    } finally {
      await stopAll(old);
    }
    const dir = join(work, 'server-qlog');
    const traces = await Promise.all(readdirSync(dir).map((f) => readQlog(join(dir, f))));
    const oldGet = traces.find(
      (t) =>
        t.title.includes('get down.bin') &&
        t.events.some((e) => e.name === 'lftp:transfer_done') &&
        !t.events.some((e) => e.name.includes('mtu')),
    );
    expect(oldGet ?? null, 'the old client get was traced without any mtu event').not.toBeNull();
  });
});
