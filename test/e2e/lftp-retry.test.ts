/**
 * Address validation on a standalone LFTP server with --token (docs/LFTP.md,
 * "Address validation"): a SYN is answered with a stateless RETRY, and only
 * a SYN that comes back with the RETRY's token, from the address and port it
 * was sent to, gets the token's scrypt. Spoofed sources cannot be made on
 * loopback without raw sockets; 200 UDP sockets on 127.10.0.x that send SYNs
 * and never answer are what the server sees of them. The server counts its
 * scrypt runs and logs the count ("lftp: SYN checks"), which is what these
 * tests read once it has stopped.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runLftpClient, startLftpServer, stopAll, tempDir, type ServerHandle } from '../helpers/processes.js';
import { loopbackAddress } from '../helpers/loopback.js';
import { until } from '../helpers/wait.js';
import { floodSyns, lastLogLine, randomSyn, SynSource, synDatagram } from '../helpers/lftp-syn.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const TOKEN = 'retry test token';
const COUNTS = 'lftp: SYN checks';
let files: string;
let work: string;
let server: ServerHandle | undefined;
const sockets: SynSource[] = [];

beforeAll(() => {
  files = tempDir('retry-files');
  work = tempDir('retry-work');
  writeFileSync(join(files, 'big.bin'), randomBytes(2 * 1024 * 1024));
  writeFileSync(join(work, 'up.bin'), randomBytes(1024 * 1024 + 3));
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await stopAll(server);
  server = undefined;
});

/** The server stopped (SIGTERM), and the counts it logged as it went. */
async function stopAndCount(s: ServerHandle): Promise<Record<string, unknown>> {
  s.proc.kill('SIGTERM');
  expect(await s.exit()).toBe(0);
  const counts = lastLogLine(readFileSync(s.logFile, 'utf8'), COUNTS);
  expect(counts, `no "${COUNTS}" line in the log`).not.toBeNull();
  return counts!;
}

async function timed(args: string[]): Promise<{ code: number | null; err: string[]; ms: number }> {
  const t = performance.now();
  const r = await runLftpClient(args);
  return { code: r.code, err: r.err, ms: performance.now() - t };
}

describe('LFTP address validation (RETRY) before the token is checked', () => {
  it('a SYN flood from 200 addresses that never answer a RETRY costs no scrypt; an honest get and post complete byte-identical, in time near a baseline', async () => {
    const s = (server = await startLftpServer(files, ['--token', TOKEN]));
    const target = `127.0.0.1:${s.port}`;
    const round = async (tag: string) => {
      const get = await timed(['get', target, 'big.bin', join(work, `${tag}.bin`), '--token', TOKEN]);
      expect(get.code, get.err.join('\n')).toBe(0);
      const post = await timed(['post', target, join(work, 'up.bin'), `${tag}-up.bin`, '--token', TOKEN]);
      expect(post.code, post.err.join('\n')).toBe(0);
      expect(sha(readFileSync(join(work, `${tag}.bin`)))).toBe(sha(readFileSync(join(files, 'big.bin'))));
      expect(sha(readFileSync(join(files, `${tag}-up.bin`)))).toBe(sha(readFileSync(join(work, 'up.bin'))));
      return get.ms + post.ms;
    };
    const baseline = await round('baseline');

    sockets.push(...(await Promise.all(Array.from({ length: 200 }, (_, i) => SynSource.bind(loopbackAddress(i))))));
    const answered = () => sockets.reduce((n, x) => n + x.answers.length, 0);
    const sent = () => sockets.reduce((n, x) => n + x.sent, 0);
    const flood = floodSyns(sockets, s.port, 200, 'big.bin');
    let during: number;
    try {
      await until(
        () => answered() >= 20,
        10_000,
        () => `the flood is not answered: ${answered()} of ${sent()}`,
      );
      during = await round('flood');
    } finally {
      flood.stop();
    }
    // Every flood SYN is answered (loopback loses next to nothing): with a RETRY, never with a token's verdict.
    await until(
      () => answered() >= sent() * 0.95,
      15_000,
      () => `${answered()} of ${sent()} flood SYNs answered`,
    );
    const answers = sockets.flatMap((x) => x.answers);
    const notRetry = answers.filter((a) => a.kind !== 'retry');
    expect(notRetry.slice(0, 3), `${notRetry.length} of ${answers.length} answers were not RETRY`).toEqual([]);
    const synBytes = synDatagram(randomSyn('big.bin')).length;
    expect(Math.max(...answers.map((a) => a.bytes))).toBeLessThanOrEqual(synBytes);
    // Generous: the flood may cost the honest transfers something, not their completion.
    expect(during).toBeLessThan(3 * baseline + 3000);

    const counts = await stopAndCount(s);
    // The four honest transfers, and nothing for 200 sources that never came back with a token.
    expect(counts['scryptChecks']).toBe(4);
    expect(counts['retries']).toBeGreaterThanOrEqual(answers.length + 4);
  }, 120_000);

  it('a token forged, for another address or port, or for another SYN is refused (AUTH) without scrypt; a SYN without "retry" is told to update; the right token gets the scrypt', async () => {
    const s = (server = await startLftpServer(files, ['--token', TOKEN]));
    const [a, b] = [await SynSource.bind('127.0.0.2'), await SynSource.bind('127.0.0.3')];
    const a2 = await SynSource.bind('127.0.0.2'); // same address, another port
    sockets.push(a, b, a2);
    const syn = randomSyn('big.bin');
    const first = synDatagram(syn);
    const retry = await a.exchange(first, syn.conn, s.port);
    if (retry.kind !== 'retry') throw new Error(`expected RETRY, got ${JSON.stringify(retry)}`);
    expect(retry.ack).toBe((syn.isn + 1) >>> 0);
    expect(retry.bytes).toBeLessThanOrEqual(first.length);
    const token = retry.token;

    const refused = async (from: SynSource, what: typeof syn) => {
      const answer = await from.exchange(synDatagram(what), what.conn, s.port);
      expect(answer).toMatchObject({ kind: 'err', code: 'AUTH', ack: (what.isn + 1) >>> 0 });
      return answer.kind === 'err' ? answer.message : '';
    };
    const forged = Buffer.from(token);
    forged[forged.length - 1]! ^= 1;
    expect(await refused(a, { ...syn, retry: forged })).toMatch(/address validation/);
    expect(await refused(a, { ...syn, retry: token.subarray(1) })).toMatch(/address validation/);
    expect(await refused(b, { ...syn, retry: token })).toMatch(/address validation/);
    expect(await refused(a2, { ...syn, retry: token })).toMatch(/address validation/);
    expect(await refused(a, { ...syn, conn: (syn.conn + 1) >>> 0, retry: token })).toMatch(/address validation/);
    expect(await refused(a, { ...syn, name: 'other.bin', retry: token })).toMatch(/address validation/);
    expect(await refused(a, { ...syn, proof: randomBytes(16), retry: token })).toMatch(/address validation/);

    const old = randomSyn('big.bin', null);
    const tooOld = await a.exchange(synDatagram(old), old.conn, s.port);
    expect(tooOld).toMatchObject({ kind: 'err', code: 'BAD_REQUEST' });
    expect(tooOld.kind === 'err' && tooOld.message).toMatch(/RETRY.*update/);

    // The token, from where it was sent, with the SYN it was made for: now the proof is checked (and is wrong).
    expect(await refused(a, { ...syn, retry: token })).toBe('wrong token');
    // The same SYN again (its ERR lost, or crossed by a resend): the same answer, not a second check of the token.
    expect(await refused(a, { ...syn, retry: token })).toBe('wrong token');

    const counts = await stopAndCount(s);
    expect(counts['scryptChecks']).toBe(1);
    expect(counts['retryTokensRefused']).toBe(7);
    expect(counts['oldClients']).toBe(1);
  }, 60_000);
});
