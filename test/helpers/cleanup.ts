/**
 * Runs after every test file: kills whatever it started and left running (a failed test, say), then removes the
 * temporary directories it made.
 */
import { afterAll } from 'vitest';
import { removeTempDirs, started } from './processes.js';

afterAll(async () => {
  const left = [...started];
  for (const p of left) {
    p.proc.kill('SIGCONT');
    p.proc.kill('SIGKILL');
  }
  await Promise.all(left.map((p) => p.exited));
  await removeTempDirs();
});
