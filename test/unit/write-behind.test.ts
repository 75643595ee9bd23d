/**
 * A received file is flushed to disk as it grows (common/lftp/node/write-behind.ts), one datasync at a time, so
 * that the fsync at its end finds little left; on a real file.
 */
import { describe, expect, it } from 'vitest';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WRITE_BEHIND_BYTES, WriteBehind } from '../../common/lftp/node/write-behind.js';
import { tempDir } from '../helpers/processes.js';

describe('write-behind', () => {
  it('flushes every WRITE_BEHIND_BYTES written, never two at once, from 0 again after a cut; then syncs and closes', async () => {
    const path = join(tempDir('write-behind'), 'f.bin');
    const fh = await open(path, 'w');
    let flushes = 0;
    const datasync = fh.datasync.bind(fh);
    fh.datasync = () => (flushes++, datasync());
    const errors: Error[] = [];
    const behind = new WriteBehind(fh, (e) => errors.push(e));
    await fh.write(Buffer.from('held'), 0, 4, 0);
    behind.wrote(WRITE_BEHIND_BYTES - 1);
    expect(flushes).toBe(0);
    behind.wrote(WRITE_BEHIND_BYTES);
    behind.wrote(2 * WRITE_BEHIND_BYTES); // one is under way: no second
    expect(flushes).toBe(1);
    await new Promise((r) => setImmediate(r));
    await behind.close().catch(() => undefined); // waits for it (a fresh handle below)
    const fh2 = await open(path, 'r+');
    const flushes2: number[] = [];
    const behind2 = new WriteBehind(fh2, (e) => errors.push(e));
    const sync2 = fh2.datasync.bind(fh2);
    fh2.datasync = () => (flushes2.push(1), sync2());
    behind2.wrote(WRITE_BEHIND_BYTES);
    await (behind2 as unknown as { running: Promise<void> }).running;
    behind2.wrote(WRITE_BEHIND_BYTES + 10); // 10 more since the last flush: none
    behind2.wrote(5); // cut: counts from 0 again
    behind2.wrote(WRITE_BEHIND_BYTES);
    expect(flushes2).toHaveLength(2);
    await behind2.syncAndClose();
    expect(errors).toEqual([]);
    expect((await readFile(path)).toString()).toBe('held');
    await expect(fh2.stat()).rejects.toThrow(); // closed
  });
});
