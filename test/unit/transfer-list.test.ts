/** /transfers (client/progress.ts transferList): a header, and on a terminal lines that fit its width. */
import { describe, expect, it } from 'vitest';
import { transferList } from '../../client/progress.js';
import { columns } from '../../common/terminal/layout.js';

const running = (what: string) => ({
  what,
  state: 'running' as const,
  position: 0,
  sample: { bytes: 1 << 20, total: 4 << 20, elapsedMs: 2000 },
});

describe('/transfers', () => {
  it('a header, then a line each; without a terminal the plain progress line', () => {
    expect(transferList([running('get big.bin'), { ...running('post a.txt'), state: 'asking' }], null)).toEqual([
      '* 2 transfers:',
      '*   get big.bin: 25.0% of 4.00 MiB, 512.0 KiB/s, ETA 6.0s',
      '*   post a.txt: asking the server for a ticket',
    ]);
  });

  it('on a terminal a bar that fits: narrower, then without sizes and rate, never past the edge', () => {
    expect(transferList([running('get big.bin')], 100)[1]).toBe(
      '*   get big.bin [#####---------------]  25% 1.00 MiB/4.00 MiB 512.0 KiB/s ETA 6.0s',
    );
    expect(transferList([running('get big.bin')], 60)[1]).toBe(
      '*   get big.bin [####-----------]  25% 512.0 KiB/s ETA 6.0s',
    );
    for (const width of [30, 40, 50, 60, 80]) {
      const line = transferList([running(`get ${'long name '.repeat(6)}.bin`)], width)[1]!;
      expect(columns(line)).toBeLessThan(width);
    }
  });
});
