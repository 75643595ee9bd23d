/**
 * docs/LFTP.md lets a server answer the SYN with a smaller mss than the client asked for ("mss ≤ the
 * requested one"). The real client (client/lftp-client.ts) posts a file to a minimal server made of the
 * engine and the real file sink, on a UDP socket, that answers every SYN with a quarter of the asked mss:
 * the upload must complete byte for byte, its data packets cut at the negotiated mss.
 */
import { afterEach, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { transfer } from '../../client/lftp-client.js';
import { ConnectionDriver } from '../../common/lftp/node/driver.js';
import { Flag, HEADER_BYTES, MAX_MSS, decodePacket } from '../../common/lftp/engine/packet.js';
import { decodeSynRequest } from '../../common/lftp/engine/payloads.js';
import { tempDir } from '../helpers/processes.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A one-transfer, unprotected post server that takes what is asked with mss = asked / 4. */
async function smallMssServer(dir: string): Promise<{ port: number; dataLengths: Set<number>; failures: string[] }> {
  const socket = dgram.createSocket('udp4');
  const dataLengths = new Set<number>();
  const failures: string[] = [];
  let driver: ConnectionDriver | null = null;
  cleanups.push(
    () => driver?.stop(),
    () => new Promise<void>((r) => socket.close(() => r())),
  );
  socket.on('message', (buf, rinfo) => {
    const p = decodePacket(buf);
    if (typeof p === 'string') return;
    if (p.flags & Flag.DAT) dataLengths.add(p.payload.length);
    if (driver) return driver.input(p);
    if (!(p.flags & Flag.SYN && p.flags & Flag.POST)) return;
    const req = decodeSynRequest(p.payload, MAX_MSS);
    const mss = Math.floor(req.mss / 4);
    const size = req.size as number;
    const d = new ConnectionDriver(
      {
        side: 'server',
        conn: p.conn,
        isn: 12345,
        request: { op: 'post', name: req.name, mss, size },
        receiveCapacity: 256,
        maxWindow: 256,
        idleTimeoutMs: 5000,
        handshakeTries: 8,
        closeTries: 8,
      },
      {
        sendRaw: (parts) => socket.send(parts, rinfo.port, rinfo.address),
        event: (e) => {
          if (e.type === 'error') failures.push(`${e.code}: ${e.message}`);
        },
      },
    );
    driver = d;
    void d
      .createSink(join(dir, req.name), req.name)
      .then(() => d.apply((c, now) => c.accept(now, p.seq, size, mss, HEADER_BYTES + p.payload.length)));
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { port: socket.address().port, dataLengths, failures };
}

describe('a server that answers with a smaller mss', () => {
  it('gets the whole upload, in packets of the mss it answered', async () => {
    const dir = tempDir('lftp-mss');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const local = join(dir, 'up.bin');
    const data = randomBytes(300_000 + 17);
    writeFileSync(local, data);
    const server = await smallMssServer(dir);
    const result = await transfer({
      host: '127.0.0.1',
      port: server.port,
      op: 'post',
      remote: 'stored.bin',
      local,
      mss: 1200,
      idleTimeoutMs: 5000,
      connectTimeoutMs: 5000,
    });
    expect(server.failures).toEqual([]);
    expect(result.size).toBe(data.length);
    expect(readFileSync(join(dir, 'stored.bin')).equals(data)).toBe(true);
    // Every data packet is the negotiated 300 bytes but the last (300,017 = 1000 × 300 + 17).
    expect([...server.dataLengths].sort((a, b) => a - b)).toEqual([17, 300]);
  });
});
