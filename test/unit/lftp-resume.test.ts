/**
 * Resume's receiver side (docs/LFTP.md, "Resume"): the partial file and its record (ranges, the source's
 * identity), the held bytes hashed again so that the whole file's SHA-256 is checked, a restart from zero, the
 * source tag, and the clean-up of stale partials.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileSink } from '../../common/lftp/node/file-sink.js';
import {
  HeldRecord,
  readResume,
  resumePaths,
  sourceTag,
  sweepStaleResume,
  type ResumeRecord,
} from '../../common/lftp/node/resume-record.js';
import { tempDir } from '../helpers/processes.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest();
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function scratch(): string {
  const d = tempDir('lftp-resume-');
  dirs.push(d);
  return d;
}

const MSS = 1000;
const identity = (data: Buffer): Omit<ResumeRecord, 'ranges'> => ({
  name: 'f.bin',
  size: data.length,
  mtimeMs: 1,
  tag: 'tag-1',
});

/** Feeds data[from, to) to the sink in packets. */
function feed(sink: FileSink, data: Buffer, from: number, to: number): void {
  for (let at = from, i = 0; at < to; at += MSS, i++) sink.push(i, data.subarray(at, Math.min(at + MSS, to)));
}

async function resumableSink(dir: string, have: number, data: Buffer): Promise<FileSink> {
  const held = new HeldRecord(dir, 'f.bin');
  held.identity = identity(data);
  return FileSink.resumable(
    join(dir, 'f.bin'),
    held,
    have,
    () => undefined,
    () => undefined,
  );
}

describe('resume: the receiver', () => {
  it('keeps what reached the disk with a record of ranges and identity, never under the final name; a second sink continues and checks the whole SHA-256', async () => {
    const dir = scratch();
    const data = randomBytes(10 * MSS + 123);
    const first = await resumableSink(dir, 0, data);
    first.setExpectedSize(data.length, MSS, 0);
    feed(first, data, 0, 6 * MSS);
    await new Promise<void>((r) => {
      const poll = () => (first.backlogBytes === 0 ? r() : setTimeout(poll, 2));
      poll();
    });
    await first.discard();
    expect(existsSync(join(dir, 'f.bin'))).toBe(false);
    const got = await readResume(dir, 'f.bin');
    expect(got?.held).toBe(6 * MSS);
    expect(got?.record).toEqual({ ...identity(data), ranges: [[0, 6 * MSS]] });
    expect(readFileSync(resumePaths(dir, 'f.bin').held)).toEqual(data.subarray(0, 6 * MSS));

    const second = await resumableSink(dir, got!.held, data);
    second.setExpectedSize(data.length, MSS, got!.held);
    feed(second, data, got!.held, data.length);
    const out = await second.finish({ size: data.length, sha256: sha(data) });
    expect(out.ok).toBe(true);
    expect(readFileSync(join(dir, 'f.bin'))).toEqual(data);
    expect(readdirSync(dir)).toEqual(['f.bin']);
  });

  it('holds no more than the held file has, whatever the record says', async () => {
    const dir = scratch();
    const data = randomBytes(5 * MSS);
    const held = new HeldRecord(dir, 'f.bin');
    held.identity = identity(data);
    await held.wrote(4 * MSS, true);
    writeFileSync(resumePaths(dir, 'f.bin').held, data.subarray(0, 2 * MSS));
    expect((await readResume(dir, 'f.bin'))?.held).toBe(2 * MSS);
  });

  it('a damaged record is no partial', async () => {
    const dir = scratch();
    writeFileSync(resumePaths(dir, 'f.bin').held, 'x');
    writeFileSync(resumePaths(dir, 'f.bin').record, '{"v":1,"name":"f.bin","size":1,"ranges":[[0,9]]}');
    expect(await readResume(dir, 'f.bin')).toBeNull();
  });

  it('starts over from 0 when the sender does (from = 0), and a wrong held prefix fails the SHA-256 and drops the partial', async () => {
    const dir = scratch();
    const data = randomBytes(4 * MSS);
    writeFileSync(resumePaths(dir, 'f.bin').held, randomBytes(2 * MSS));
    const restart = await resumableSink(dir, 2 * MSS, data);
    restart.setExpectedSize(data.length, MSS, 0);
    feed(restart, data, 0, data.length);
    expect((await restart.finish({ size: data.length, sha256: sha(data) })).ok).toBe(true);
    expect(readFileSync(join(dir, 'f.bin'))).toEqual(data);

    writeFileSync(resumePaths(dir, 'f.bin').held, randomBytes(2 * MSS)); // not the source's bytes
    rmSync(join(dir, 'f.bin'));
    const wrong = await resumableSink(dir, 2 * MSS, data);
    wrong.setExpectedSize(data.length, MSS, 2 * MSS);
    feed(wrong, data, 2 * MSS, data.length);
    const out = await wrong.finish({ size: data.length, sha256: sha(data) });
    expect(out).toMatchObject({ ok: false, code: 'SHA256_MISMATCH' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('the source tag changes with the size, the mtime, the first or the last block, and is the same for the same file', async () => {
    const dir = scratch();
    const path = join(dir, 's');
    const data = randomBytes(300 * 1024);
    writeFileSync(path, data);
    const tag = () => sourceTag(path, data.length, 1000);
    const a = await tag();
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(await tag()).toBe(a);
    expect(await sourceTag(path, data.length, 2000)).not.toBe(a);
    data.writeUInt8(data.at(-1)! ^ 1, data.length - 1);
    writeFileSync(path, data);
    expect(await tag()).not.toBe(a);
    data.writeUInt8(data.at(-1)! ^ 1, data.length - 1);
    data.writeUInt8(data[0]! ^ 1, 0);
    writeFileSync(path, data);
    expect(await tag()).not.toBe(a);
  });

  it('sweeps partials older than the age, and only those', () => {
    const dir = scratch();
    const old = resumePaths(dir, 'old');
    const fresh = resumePaths(dir, 'fresh');
    for (const p of [old.held, old.record, fresh.held, fresh.record, join(dir, 'keep.bin')]) writeFileSync(p, 'x');
    const longAgo = (Date.now() - 48 * 3600 * 1000) / 1000;
    utimesSync(old.held, longAgo, longAgo);
    utimesSync(old.record, longAgo, longAgo);
    expect(sweepStaleResume(dir, 24 * 3600 * 1000, Date.now()).length).toBe(2);
    expect(readdirSync(dir).sort()).toEqual(
      [fresh.held, fresh.record, join(dir, 'keep.bin')].map((p) => p.slice(dir.length + 1)).sort(),
    );
  });
});
