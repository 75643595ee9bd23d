/**
 * The file edges of the LFTP engine, on real files: read-ahead in blocks cut
 * into packets on demand, and staging-buffer writes hashed in order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileSource, READ_BYTES } from '../../common/lftp/node/file-source.js';
import { FileSink } from '../../common/lftp/node/file-sink.js';
import { tempDir } from '../helpers/processes.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest();
const closers: Array<() => Promise<void>> = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function scratch(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (cond()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(poll, 2);
    };
    poll();
  });
}

describe('FileSource', () => {
  it('reads ahead in blocks, cuts exact packets in any order, hashes the whole file, and never runs past the window', async () => {
    const mss = 1000;
    const data = randomBytes(3 * READ_BYTES + 12_345); // a partial last block and a short last packet
    const dir = scratch('lftp-src');
    const path = join(dir, 'f');
    writeFileSync(path, data);
    // What was published at each onReady: reads finishing together may be announced once, so the count varies.
    const announced: number[] = [];
    let published = (): number => -1;
    const errors: Error[] = [];
    const window = 1500;
    const src = await FileSource.open(
      path,
      data.length,
      mss,
      window,
      () => announced.push(published()),
      (e) => errors.push(e),
      () => true,
    );
    published = () => src.readAhead;
    closers.push(() => src.close());
    const perRead = Math.floor(READ_BYTES / mss);
    const total = Math.ceil(data.length / mss);
    expect(src.totalPackets).toBe(total);
    const packet = (i: number) => data.subarray(i * mss, Math.min((i + 1) * mss, data.length));

    await until(() => src.readAhead > 0, 'the first read');
    // Nothing is acknowledged: reads stop at the window plus two reads.
    await until(() => src.readAhead >= Math.min(total, window), 'read-ahead to fill the window');
    // Until no read is in flight (all it asked for is published); no new one starts without ready() or
    // release(), so what it has read then is all it will read.
    const requested = () => (src as unknown as { requested: number }).requested;
    await until(() => src.readAhead === requested(), 'the reads in flight to finish');
    expect(src.readAhead).toBeLessThanOrEqual(window + 2 * perRead);
    expect(src.ready(src.readAhead)).toBe(false);
    for (const i of [5, 0, perRead, perRead - 1, 1499]) expect(src.chunk(i)!.equals(packet(i))).toBe(true);

    // Acknowledge packet by packet: blocks are released and the rest is read.
    for (let acked = 0; acked < total; ) {
      await until(() => src.ready(acked), `packet ${acked}`);
      expect(src.chunk(acked)!.equals(packet(acked))).toBe(true);
      acked++;
      if (acked % 97 === 0 || acked === total) src.release(acked);
    }
    expect(src.chunk(0)).toBeNull(); // released
    expect(src.sha256()!.equals(sha(data))).toBe(true);
    expect(src.chunk(total - 1)).toBeNull();
    expect(errors).toEqual([]);
    // Every announcement brought new packets, and the last one brought the end of the file.
    expect(announced.length).toBeGreaterThan(0);
    expect(announced.every((n, i) => n > 0 && (i === 0 || n > announced[i - 1]!))).toBe(true);
    expect(announced.at(-1)).toBe(total);
  });

  it('a file shorter than announced is an error, not a hang', async () => {
    const dir = scratch('lftp-src');
    const path = join(dir, 'short');
    writeFileSync(path, randomBytes(5000));
    const errors: Error[] = [];
    const src = await FileSource.open(
      path,
      9000,
      1000,
      64,
      () => undefined,
      (e) => errors.push(e),
    );
    closers.push(() => src.close());
    await until(() => errors.length > 0, 'the error');
    expect(errors[0]!.message).toMatch(/shrank/);
    expect(src.sha256()).toBeNull();
  });
});

describe('FileSink', () => {
  it('packets, a buffer larger than a staging buffer and odd sizes land byte-identical with the right SHA-256; the backlog drains to 0', async () => {
    const dir = scratch('lftp-sink');
    const finalPath = join(dir, 'out');
    let drains = 0;
    const errors: Error[] = [];
    const sink = await FileSink.create(
      finalPath,
      () => drains++,
      (e) => errors.push(e),
    );
    const mss = 1448;
    const parts: Buffer[] = [];
    for (let i = 0; i < 1500; i++) parts.push(randomBytes(mss));
    parts.push(randomBytes(2 * (1 << 20) + 777)); // crosses two staging buffers at once
    for (let i = 0; i < 700; i++) parts.push(randomBytes(1 + (i % mss)));
    const data = Buffer.concat(parts);
    sink.setExpectedSize(data.length, mss);
    let maxBacklog = 0;
    parts.forEach((p, i) => {
      sink.push(i, p);
      maxBacklog = Math.max(maxBacklog, sink.backlogBytes);
      expect(sink.backlogPackets).toBe(Math.ceil(sink.backlogBytes / mss));
    });
    expect(maxBacklog).toBeGreaterThan(0);
    const out = await sink.finish({ size: data.length, sha256: sha(data) });
    expect(out).toMatchObject({ ok: true, size: data.length, sha256: sha(data).toString('hex') });
    expect(sink.backlogBytes).toBe(0);
    expect(readFileSync(finalPath).equals(data)).toBe(true);
    expect(readdirSync(dir)).toEqual(['out']); // no temporary file left
    expect(drains).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });

  it('staging buffers are reused once written, without touching data not yet on disk', async () => {
    const dir = scratch('lftp-sink');
    const sink = await FileSink.create(
      join(dir, 'reuse'),
      () => undefined,
      () => undefined,
    );
    const data = randomBytes(9 * (1 << 20) + 4321);
    sink.setExpectedSize(data.length, 1448);
    let i = 0;
    for (let at = 0; at < data.length; at += 1448) {
      sink.push(i++, data.subarray(at, at + 1448));
      // Let writes finish now and then, so that later packets land in recycled buffers.
      if (i % 500 === 0) await until(() => sink.backlogBytes < 256 * 1024, 'the writer');
    }
    const out = await sink.finish({ size: data.length, sha256: sha(data) });
    expect(out).toMatchObject({ ok: true, size: data.length });
    expect(readFileSync(join(dir, 'reuse')).equals(data)).toBe(true);
  });

  it('a SHA-256 or size mismatch stores nothing', async () => {
    const dir = scratch('lftp-sink');
    const data = randomBytes(300_000);
    for (const expected of [
      { size: data.length, sha256: sha(Buffer.from('other')) },
      { size: data.length + 1, sha256: sha(data) },
    ]) {
      const sink = await FileSink.create(
        join(dir, 'x'),
        () => undefined,
        () => undefined,
      );
      sink.setExpectedSize(data.length, 1000);
      for (let at = 0; at < data.length; at += 1000) sink.push(at / 1000, data.subarray(at, at + 1000));
      const out = await sink.finish(expected);
      expect(out).toMatchObject({ ok: false, code: 'SHA256_MISMATCH' });
      expect(existsSync(join(dir, 'x'))).toBe(false);
      expect(readdirSync(dir)).toEqual([]);
    }
  });
});
