import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { LineProcess, ROOT, stopAll } from '../helpers/processes.js';

const BENCH_JS = join(ROOT, 'dist/test/bench/run.js');

let procs: LineProcess[] = [];
afterEach(async () => {
  await stopAll(...procs);
  procs = [];
});

function bench(args: string[]): LineProcess {
  const p = new LineProcess('bench', [BENCH_JS, ...args]);
  procs.push(p);
  p.endInput();
  return p;
}

// Options are checked before the run makes its work directory or looks for peers, so each of these ends at once.
describe('npm run bench command line', () => {
  it.each([
    [['--suite', 'transfer,nope'], /--suite: unknown suite nope/],
    [['--suite', ','], /--suite names no suite/],
    [['--repeat', '0'], /--repeat: 0 is out of range \(1-100\)/],
    [['--repeat', 'three'], /--repeat: "three" is not a whole number/],
    [['--size', '256XB'], /--size: "256XB" is not a size/],
    [['--rss-size', '0'], /--rss-size must be at least 1 byte/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('%j → one-line error, usage hint, exit 2', async (args, message) => {
    const p = bench(args);
    expect(await p.exit()).toBe(2);
    expect(p.errLines[0]).toMatch(message);
    expect(p.errLines[1]).toBe("Try 'npm run bench -- --help' for more information.");
    expect(p.errLines.length).toBe(2);
  });

  it('--help names every suite and the run-count defaults', async () => {
    const p = bench(['--help']);
    expect(await p.exit()).toBe(0);
    const text = p.lines.join('\n');
    expect(text).toContain('engine,transfer,protect,relay,fairness,rss,chat,fanout,heartbeat,workers');
    expect(text).toContain('default 3, and 5 for fan-out');
  });
});
