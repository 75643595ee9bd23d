/**
 * A resuming post's writer claim across workers (server/files/writer-claim.ts, server/worker/other-workers.ts):
 * two workers' FileServices over one claim table in shared memory, their handoffs wired to each other as the
 * supervisor passes messages. The holder's worker is asked to give way only when it is another worker's LFTP
 * transfer; its answer decides; no answer in time refuses the post. (The e2e test lftp-resume-workers.test.ts
 * runs the same across real processes.)
 */
import { describe, expect, it } from 'vitest';
import { FileService } from '../../server/files/file-service.js';
import { claimWriter, type WriterHandoff } from '../../server/files/writer-claim.js';
import { resumeKey } from '../../server/files/lftp-resume.js';
import { PartialWriters, type GiveWay } from '../../server/shm/partial-writers.js';
import { WorkerHandoffs } from '../../server/worker/other-workers.js';
import type { FromWorker } from '../../server/threads/messages.js';
import { tempDir } from '../helpers/processes.js';

const limits = { maxFileSize: 1 << 30, keepFree: 0, quota: null };
const KEY = resumeKey('up.bin', 'alice');
const ask = { key: KEY, name: 'up.bin', owner: 'alice', address: '127.0.0.1' };

/**
 * Two workers over one table; worker 1's endpoint answers asks with `answer` (its claim given back first when
 * 'ended'); `deliver: false` loses worker 0's asks, as a stalled worker would never answer them.
 */
function twoWorkers(answer: GiveWay, deliver = true, waitMs = 5_000) {
  const table = PartialWriters.create(8);
  const dir = tempDir('writer-claim');
  const files = [0, 1].map((w) => new FileService(dir, limits, null, new PartialWriters(table.buffer, w)));
  const handoffs: WorkerHandoffs[] = [];
  const asked: string[] = [];
  // The supervisor's part (worker-pool.ts): an ask goes to the worker it names, the answer back to the asker.
  const supervisor = (from: number) => (msg: FromWorker) => {
    if (msg.k === 'give-way') {
      asked.push(`${from}->${msg.worker} ${msg.address}`);
      if (deliver)
        handoffs[msg.worker]!.receive({ k: 'give-way', id: msg.id, from, key: msg.key, address: msg.address });
    } else if (msg.k === 'gave-way') handoffs[msg.to]!.receive({ k: 'gave-way', id: msg.id, answer: msg.answer });
  };
  for (const w of [0, 1]) handoffs.push(new WorkerHandoffs(w, supervisor(w), waitMs));
  let release = () => {};
  handoffs[1]!.endpoint = {
    giveWay: async (key) => {
      expect(key).toBe(KEY);
      if (answer === 'ended') release();
      return answer;
    },
    others: handoffs[1],
  };
  const holder = (door: 'lftp' | 'http') => {
    release = files[1]!.claimPartial('up.bin', 'alice', door);
  };
  const local: WriterHandoff = { giveWay: async () => 'none', others: handoffs[0] };
  return { files, local, holder, asked, table };
}

describe("a resuming post's writer claim, across workers", () => {
  it("takes over another worker's LFTP transfer of the same uploader and address once it gave way", async () => {
    const { files, local, holder, asked } = twoWorkers('ended');
    holder('lftp');
    const release = await claimWriter(files[0]!, local, ask);
    expect(asked).toEqual(['0->1 127.0.0.1']);
    expect(() => files[1]!.claimPartial('up.bin', 'alice', 'lftp')).toThrow(/an LFTP post writes its partial/);
    release();
  });

  it('is refused when the holder is another address, and the holder keeps it', async () => {
    const { files, local, holder, table } = twoWorkers('other-address');
    holder('lftp');
    await expect(claimWriter(files[0]!, local, ask)).rejects.toMatchObject({
      code: 'BUSY',
      message: '"up.bin" is being received already (an LFTP post writes its partial); try again once that upload stops',
    });
    expect(table.held(KEY)).toBe(true);
  });

  it('is refused, without asking, when an HTTP upload holds it', async () => {
    const { files, local, holder, asked } = twoWorkers('ended');
    holder('http');
    await expect(claimWriter(files[0]!, local, ask)).rejects.toMatchObject({
      code: 'BUSY',
      message: expect.stringContaining('(an HTTP upload (the web page) writes its partial)'),
    });
    expect(asked).toEqual([]);
  });

  it('is refused when the holding worker does not answer within the bound', async () => {
    const { files, local, holder, asked } = twoWorkers('ended', false, 50);
    holder('lftp');
    await expect(claimWriter(files[0]!, local, ask)).rejects.toMatchObject({
      code: 'BUSY',
      message: '"up.bin" is being received already, and that upload did not stop within 0.05 s; try again',
    });
    expect(asked).toHaveLength(1);
  });

  it('takes a free partial at once, and a partial held on its own worker is not asked about over the supervisor', async () => {
    const { files, local, asked } = twoWorkers('ended');
    const first = await claimWriter(files[0]!, local, ask);
    await expect(claimWriter(files[0]!, local, ask)).rejects.toMatchObject({ code: 'BUSY' });
    expect(asked).toEqual([]);
    first();
  });
});
