/**
 * LFTP against an attacker who sees every datagram and can send from either
 * end's address with the right connection id (test/helpers/forging-relay.ts):
 * with the transfer's packets protected (a token keys them), forged ERR, FIN
 * and data, replayed and altered datagrams are dropped and the file arrives
 * whole; an --open server's unprotected transfer is ended by the first forged
 * ERR, as every transfer was before packet protection; a wrong token fails at
 * once, cleanly.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { until } from '../helpers/wait.js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLftpClient, startLftpServer, stopAll, tempDir, type ServerHandle } from '../helpers/processes.js';
import { startForgingRelay } from '../helpers/forging-relay.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const TOKEN = 'forgery test token';
let files: string;
let work: string;
let guarded: ServerHandle;
let open: ServerHandle;

beforeAll(async () => {
  files = tempDir('forgery-files');
  work = tempDir('forgery-work');
  // Big enough for the relay's rounds of attacks when 45 packets go in a datagram (forging-relay.ts).
  writeFileSync(join(files, 'big.bin'), randomBytes(12 * 1024 * 1024));
  guarded = await startLftpServer(files, ['--token', TOKEN]);
  open = await startLftpServer(files, ['--open']);
});
afterAll(async () => {
  await stopAll(guarded, open);
});

describe('LFTP under forgery', () => {
  it('protected: forged ERR/FIN/data, replays and altered datagrams both ways are dropped; get and post complete byte-identical', async () => {
    const original = readFileSync(join(files, 'big.bin'));
    const relay = await startForgingRelay(guarded.port);
    try {
      const get = await runLftpClient([
        'get',
        `127.0.0.1:${relay.port}`,
        'big.bin',
        join(work, 'got.bin'),
        '--token',
        TOKEN,
      ]);
      expect(get.code, get.err.join('\n')).toBe(0);
      expect(sha(readFileSync(join(work, 'got.bin')))).toBe(sha(original));
      expect(relay.down.forged + relay.up.forged).toBeGreaterThanOrEqual(8);
      expect(relay.down.replayed + relay.up.replayed).toBeGreaterThanOrEqual(2);
      expect(relay.down.altered).toBeGreaterThanOrEqual(1);
    } finally {
      await relay.close();
    }
    const upRelay = await startForgingRelay(guarded.port);
    try {
      const data = randomBytes(12 * 1024 * 1024 + 5);
      writeFileSync(join(work, 'up.bin'), data);
      const post = await runLftpClient([
        'post',
        `127.0.0.1:${upRelay.port}`,
        join(work, 'up.bin'),
        'posted.bin',
        '--token',
        TOKEN,
      ]);
      expect(post.code, post.err.join('\n')).toBe(0);
      expect(sha(readFileSync(join(files, 'posted.bin')))).toBe(sha(data));
      expect(upRelay.up.altered).toBeGreaterThanOrEqual(1);
      // The server dropped what it was sent before its connection saw any of it, and says so when the transfer ends.
      await until(
        () => readFileSync(guarded.logFile, 'utf8').includes('"posted.bin"'),
        5000,
        () => 'no log line for the post',
      );
      const done = readFileSync(guarded.logFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes('transfer complete'))
        .map((l) => JSON.parse(l) as { dropped: { forged: number; replayed: number; plain: number } });
      expect(done.at(-1)!.dropped.forged).toBeGreaterThanOrEqual(1);
      expect(done.at(-1)!.dropped.plain).toBeGreaterThanOrEqual(2);
    } finally {
      await upRelay.close();
    }
  }, 120_000);

  it("unprotected (--open): the first forged ERR ends the transfer, with the attacker's words", async () => {
    const relay = await startForgingRelay(open.port);
    try {
      const get = await runLftpClient(['get', `127.0.0.1:${relay.port}`, 'big.bin', join(work, 'lost.bin')]);
      expect(get.code).not.toBe(0);
      expect(get.err.join('\n')).toContain('ABORTED: forged');
    } finally {
      await relay.close();
    }
  }, 60_000);

  it('a wrong token fails at once with AUTH, and nothing is written', async () => {
    const started = Date.now();
    const r = await runLftpClient([
      'get',
      `127.0.0.1:${guarded.port}`,
      'big.bin',
      join(work, 'wrong.bin'),
      '--token',
      'not the token',
    ]);
    expect(r.code).toBe(4);
    expect(r.err.join('\n')).toContain('AUTH: wrong token');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(() => readFileSync(join(work, 'wrong.bin'))).toThrow();
  });
});
