/**
 * The batched datagram addon (common/lftp/native/lftp_batch.c) against the fallback it must equal: a datagram
 * the addon seals opens with node:crypto and the other way round (random keys, headers, lengths, prefixes),
 * and its socket exchanges batches with a dgram socket in order, trains (GSO/GRO) cut back into the datagrams
 * they were. Where this machine has a C compiler the addon must have been built; under LFTP_NATIVE=0 the
 * comparisons are skipped (the fallback's own tests run instead).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { addonPath, nativeAddon, datagramPath } from '../../common/lftp/native/load.js';
import { NativeSocket, type Peer } from '../../common/lftp/node/native-socket.js';
import { open, seal, sealedHeader } from '../../common/lftp/protect/sealed-packet.js';
import { cipherKeys, openPacket, sealNow } from '../../common/lftp/protect/packet-cipher.js';
import { Flag, type Packet } from '../../common/lftp/engine/packet.js';

const addon = nativeAddon();
const forcedOff = process.env.LFTP_NATIVE === '0';
const hasCompiler = spawnSync(process.env.CC || 'cc', ['--version']).status === 0;

function randomPacket(): Packet {
  return {
    flags: [Flag.ACK, Flag.DAT | Flag.ACK, Flag.SYN | Flag.ACK, Flag.FIN | Flag.ACK][randomInt(4)]!,
    conn: randomInt(1, 2 ** 32 - 1),
    seq: randomInt(0, 2 ** 32 - 1),
    ack: randomInt(0, 2 ** 32 - 1),
    window: randomInt(0, 2 ** 24),
    payload: randomBytes([0, 1, 15, 16, 17, 1448, randomInt(0, 9000)][randomInt(7)]!),
  };
}

const sockets: Array<{ close(): void }> = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

describe('the batched datagram addon', () => {
  it('is built and loaded wherever a C compiler exists (unless LFTP_NATIVE=0), and says which path is used', () => {
    if (forcedOff) expect(datagramPath()).toBe('dgram + node:crypto, one datagram per call (LFTP_NATIVE=0)');
    else if (process.platform === 'linux' && hasCompiler) {
      expect(addon).not.toBeNull();
      expect(datagramPath()).toMatch(/^native batch \(sendmmsg\/recvmmsg, /);
    }
  });

  it.skipIf(!addon)('seals what node:crypto opens and opens what node:crypto seals, on random datagrams', () => {
    for (let i = 0; i < 400; i++) {
      const keys = { key: randomBytes(16), iv: randomBytes(12) };
      const native = cipherKeys(keys);
      const p = randomPacket();
      const pn = randomInt(0, 2 ** 32 - 1);
      const prefix = i % 5 === 0 ? randomBytes(16) : null;
      const prefixBytes = prefix?.length ?? 0;
      const byAddon = Buffer.concat(sealNow(native, pn, p, prefix));
      const byNode = Buffer.concat(seal(keys, pn, p, prefix));
      expect(byAddon.equals(byNode)).toBe(true);
      expect(open(keys, byAddon, prefixBytes)).toEqual(p);
      expect(openPacket(native, Buffer.from(byNode), prefixBytes)).toEqual(p);
      // One flipped bit anywhere (header, prefix, ciphertext, tag) and neither opens it.
      const bad = Buffer.from(byNode);
      bad[randomInt(bad.length)]! ^= 1 << randomInt(8);
      expect(open(keys, bad, prefixBytes)).toBeNull();
      expect(openPacket(native, Buffer.from(bad), prefixBytes)).toBeNull();
    }
    expect(sealedHeader(7, randomPacket(), 0).readUInt32BE(20)).toBe(7);
  });

  it.skipIf(!addon)('sends a batch (sealed in it) to a dgram socket in order, and reads what dgram sends', async () => {
    const plain = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    sockets.push(plain);
    await new Promise<void>((r) => plain.bind(0, '127.0.0.1', r));
    const got: Buffer[] = [];
    plain.on('message', (m) => got.push(m));
    const heard: Array<{ buf: Buffer; from: Peer }> = [];
    const errors: string[] = [];
    const sock = new NativeSocket(
      addon!,
      false,
      1 << 20,
      (buf, from) => heard.push({ buf: Buffer.from(buf), from }),
      (e) => errors.push(String(e.code)),
    );
    sockets.push(sock);
    sock.open('bind', '127.0.0.1', 0);
    const to = { address: '127.0.0.1', port: plain.address().port };
    const keys = { key: randomBytes(16), iv: randomBytes(12) };
    const native = cipherKeys(keys);
    // Trains of equal sizes (one GSO message each), a shorter one closing a train, mixed sizes, sealed and clear.
    const sizes = [...Array<number>(100).fill(1448), 700, ...Array<number>(30).fill(1448), 3, 0, 9000, 1448, 1448];
    const packets = sizes.map((n, i) => ({ ...randomPacket(), seq: i, payload: randomBytes(n) }));
    packets.forEach((p, i) => {
      const h = sealedHeader(i, p, 0);
      if (i % 3 === 2) sock.send({ parts: [h, p.payload], to });
      else sock.send({ parts: [h, p.payload], to, key: native.native! });
    });
    expect(sock.sendQueueEmpty).toBe(false); // queued until this turn ends
    await until(() => got.length === packets.length);
    expect(sock.sendQueueEmpty).toBe(true);
    got.forEach((d, i) => {
      if (i % 3 === 2) expect(d.subarray(24).equals(packets[i]!.payload)).toBe(true);
      else expect(open(keys, d, 0)).toEqual(packets[i]);
    });
    // The other way: datagrams of many sizes from one dgram socket arrive whole, in order, from it.
    const back = sizes.map((n) => randomBytes(n + 24));
    for (const b of back) plain.send(b, sock.port, '127.0.0.1');
    await until(() => heard.length === back.length);
    expect(heard.map((h) => h.buf.toString('hex'))).toEqual(back.map((b) => b.toString('hex')));
    expect(heard.every((h) => h.from.address === '127.0.0.1' && h.from.port === to.port)).toBe(true);
    expect(errors).toEqual([]);
  });

  it.skipIf(!addon)('a connected socket whose peer is gone reports ECONNREFUSED as dgram does', async () => {
    const gone = dgram.createSocket('udp4');
    await new Promise<void>((r) => gone.bind(0, '127.0.0.1', r));
    const port = gone.address().port;
    await new Promise<void>((r) => gone.close(() => r()));
    const errors: string[] = [];
    const sock = new NativeSocket(
      addon!,
      false,
      1 << 20,
      () => undefined,
      (e) => errors.push(String(e.code)),
    );
    sockets.push(sock);
    sock.open('connect', '127.0.0.1', port);
    sock.send({ parts: [randomBytes(40)] });
    await until(() => errors.length > 0);
    expect(errors[0]).toBe('ECONNREFUSED');
    // Reading goes on after the error (libuv stops a poll handle on POLLERR; the addon starts it again).
    const again = dgram.createSocket('udp4');
    sockets.push(again);
    await new Promise<void>((r) => again.bind(port, '127.0.0.1', r));
    again.on('message', (_m, from) => again.send(Buffer.from('back'), from.port, from.address));
    const heard: number[] = [];
    const sock2 = new NativeSocket(
      addon!,
      false,
      1 << 20,
      (b) => heard.push(b.length),
      () => undefined,
    );
    sockets.push(sock2);
    sock2.open('connect', '127.0.0.1', port);
    sock2.send({ parts: [randomBytes(10)] });
    await until(() => heard.length === 1);
  });

  it.skipIf(!addon)('a bind that cannot be made fails as dgram would (EADDRINUSE), with the address', () => {
    const a = new NativeSocket(
      addon!,
      false,
      1 << 20,
      () => undefined,
      () => undefined,
    );
    sockets.push(a);
    a.open('bind', '127.0.0.1', 0);
    const b = new NativeSocket(
      addon!,
      false,
      1 << 20,
      () => undefined,
      () => undefined,
    );
    expect(() => b.open('bind', '127.0.0.1', a.port)).toThrow(
      expect.objectContaining({ code: 'EADDRINUSE', syscall: 'bind' }),
    );
  });

  it.skipIf(!addon)('worker threads terminated while their sockets read a flood: no crash, nothing left open', () => {
    // Node aborts a worker whose loop still holds a handle it does not know (the addon closes its own), and a
    // termination can land inside the addon's call into JS: the next N-API call then fails, and must be heeded.
    // In a child process, so that a crash fails this test instead of ending the test runner.
    const script = `
      const { Worker } = require('node:worker_threads');
      const dgram = require('node:dgram');
      const code = \`
        const { createRequire } = require('node:module');
        const { parentPort, workerData } = require('node:worker_threads');
        const a = createRequire(workerData)(workerData);
        const s = a.socketOpen(1 << 20, false, () => { for (let i = 0; i < 2000; i++) Math.sqrt(i); }, () => {});
        a.socketBind(s, '127.0.0.1', 0);
        parentPort.postMessage(a.socketPort(s));
      \`;
      (async () => {
        const tx = dgram.createSocket('udp4');
        for (let i = 0; i < 40; i++) {
          const w = new Worker(code, { eval: true, workerData: process.argv[1] });
          const port = await new Promise((r) => w.once('message', r));
          let on = true;
          const flood = () => {
            if (!on) return;
            for (let k = 0; k < 50; k++) tx.send(Buffer.alloc(1400), port, '127.0.0.1');
            setImmediate(flood);
          };
          flood();
          await new Promise((r) => setTimeout(r, Math.random() * 30));
          await w.terminate();
          on = false;
        }
        tx.close();
        console.log('done');
      })();
    `;
    const r = spawnSync(process.execPath, ['-e', script, addonPath()], { encoding: 'utf8', timeout: 60_000 });
    expect({ status: r.status, signal: r.signal, out: r.stdout.trim() }).toEqual({
      status: 0,
      signal: null,
      out: 'done',
    });
  });
});

/** Waits for a condition, a macrotask at a time (datagrams arrive in their own turns). */
async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 1));
  }
}
