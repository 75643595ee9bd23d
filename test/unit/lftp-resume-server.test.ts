/**
 * The server's resume answers (server/files/lftp-resume.ts, docs/LFTP.md "Resume"): a get continues only for
 * the source the client saw; a post continues what the server holds of the same source, drops another's, and
 * starts over when asked; a SYN without the fields (an older client) gets the old answer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { planResume } from '../../server/files/lftp-resume.js';
import { HeldRecord, resumePaths, sourceTag } from '../../common/lftp/node/resume-record.js';
import { tempDir } from '../helpers/processes.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const TAG = 'AAAAAAAAAAAAAAAAAAAAAA';
const OTHER = 'BBBBBBBBBBBBBBBBBBBBBB';

async function partial(dir: string, name: string, size: number, tag: string, held: number): Promise<void> {
  const h = new HeldRecord(dir, name);
  h.identity = { name, size, mtimeMs: 5, tag };
  writeFileSync(resumePaths(dir, name).held, randomBytes(held));
  await h.wrote(held, true);
}

describe('resume: the server', () => {
  it('get: from = have only for the same tag and mtime; the answer names the source', async () => {
    const dir = tempDir('resume-srv');
    dirs.push(dir);
    const path = join(dir, 'f.bin');
    writeFileSync(path, randomBytes(5000));
    const mtime = Math.floor(statSync(path).mtimeMs);
    const tag = await sourceTag(path, 5000, mtime);
    const file = { path, name: 'f.bin', size: 5000 };
    const none = undefined;
    expect((await planResume('get', { have: 3000, tag, mtime }, file, none))?.answer).toEqual({
      from: 3000,
      tag,
      mtime,
    });
    expect((await planResume('get', { have: 3000, tag: OTHER, mtime }, file, none))?.answer.from).toBe(0);
    expect((await planResume('get', { have: 3000, tag, mtime: mtime + 1 }, file, none))?.answer.from).toBe(0);
    expect((await planResume('get', { have: 6000, tag, mtime }, file, none))?.answer.from).toBe(0);
    expect((await planResume('get', { have: 0 }, file, none))?.answer).toEqual({ from: 0, tag, mtime });
    expect(await planResume('get', undefined, file, none)).toBeUndefined();
  });

  it('post: continues the same source, drops another, starts over when asked, needs the writer claim', async () => {
    const dir = tempDir('resume-srv');
    dirs.push(dir);
    const file = { path: join(dir, 'u.bin'), name: 'u.bin', size: 9000 };
    const none = undefined;
    const claim = () => undefined;
    await partial(dir, 'u.bin', 9000, TAG, 4000);
    const same = await planResume('post', { tag: TAG, mtime: 5 }, file, none, claim);
    expect(same?.answer).toEqual({ from: 4000 });
    expect(same?.sink?.have).toBe(4000);
    expect(same?.sink?.held.identity).toEqual({ name: 'u.bin', size: 9000, mtimeMs: 5, tag: TAG });
    expect((await planResume('post', { tag: OTHER, mtime: 5 }, file, none, claim))?.answer).toEqual({
      from: 0,
      dropped: 4000,
    });
    expect((await planResume('post', { tag: TAG, mtime: 6 }, file, none, claim))?.answer).toEqual({
      from: 0,
      dropped: 4000,
    });
    expect((await planResume('post', { tag: TAG, mtime: 5, have: 0 }, file, none, claim))?.answer).toEqual({ from: 0 });
    expect(await planResume('post', { tag: TAG, mtime: 5 }, file, none)).toBeUndefined();
    expect(await planResume('post', undefined, file, none)).toBeUndefined();
  });
});
