/**
 * Files across the nodes of a cluster (server/cluster/cluster-files.ts) on a real redis-server: /files on one node
 * lists another node's files with the node that holds each; a ticket issued on node A for node B's file is fetched
 * from B over LFTP, byte-identical, and works once; a dead node's files leave the listing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LineProcess, CLIENT_JS, startServer, stopAll, tempDir, type ServerHandle } from '../helpers/processes.js';
import { startRedis, type RedisUnderTest } from '../helpers/redis-server.js';
import { rawSession, closeRawSessions } from '../helpers/raw-session.js';
import { runLftpClient } from '../helpers/processes.js';

let redis: RedisUnderTest;
let procs: LineProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  closeRawSessions();
  await stopAll(...procs);
  procs = [];
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function node(id: string, files: string): Promise<ServerHandle> {
  const s = await startServer([
    ...['--redis', redis.url, '--node-id', id, '--workers', '2', '--no-web', '--files', files],
    ...['--node-lease', '2s'],
  ]);
  procs.push(s);
  return s;
}

/**
 * Asks /files every 250 ms (what the client's listing shows changes on the server's own schedule) until the
 * header is `header`, within timeoutMs; the index after that header's line.
 */
async function filesUntil(c: LineProcess, header: string, from: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let seen = from;
  for (;;) {
    c.send('/files');
    const line = await c.waitFor(/^\* (\d+ files? on the server:|no files on the server)/, 10_000, seen);
    seen = c.lines.indexOf(line, seen) + 1;
    if (line === header) return seen;
    if (Date.now() > deadline) throw new Error(`/files never said "${header}" (last: "${line}")`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('files across the nodes of a cluster', () => {
  it("/files lists another node's files; a ticket issued on n1 for n2's file is fetched from n2, once; a dead node's files go", async () => {
    const [files1, files2] = [tempDir('n1-files'), tempDir('n2-files')];
    writeFileSync(join(files1, 'notes.txt'), 'on n1');
    const data = randomBytes(3 * 1024 * 1024 + 7);
    writeFileSync(join(files2, 'report.bin'), data);
    const n1 = await node('n1', files1);
    const n2 = await node('n2', files2);
    const home = tempDir('alice-home');
    const alice = new LineProcess(
      'client alice',
      [CLIENT_JS, '--host', '127.0.0.1', '--port', String(n1.port), '--nick', 'alice'],
      { cwd: home },
    );
    procs.push(alice);
    await alice.waitFor(/^\* connected to /);
    // n2 says what it holds as it starts; n1 lists it beside its own.
    let seen = await filesUntil(alice, '* 2 files on the server:', 0, 20_000);
    await alice.waitFor(/^\*\s+notes\.txt\s+5 B$/, 10_000, seen);
    await alice.waitFor(/^\*\s+report\.bin\s+3\.00 MiB\s+\(on node n2\)$/, 10_000, seen);
    alice.send('/get report.bin');
    await alice.waitFor(/^transfer complete: report\.bin /, 60_000);
    expect(sha(readFileSync(join(home, 'downloads', 'report.bin')))).toBe(sha(data));

    // The ticket itself: issued by n1, for n2's LFTP port, spent there once.
    const raw = await rawSession(n1.port, 'scripter');
    raw.send({ type: 'TICKET_REQUEST', id: 1, op: 'get', name: 'report.bin' });
    const t = await raw.next('TICKET');
    if (t.type !== 'TICKET' || !t.ok) throw new Error(`no ticket: ${JSON.stringify(t)}`);
    expect([t.host, t.port]).toEqual(['127.0.0.1', n2.port]);
    const work = tempDir('scripter');
    const args = (to: string) => [
      'get',
      `127.0.0.1:${t.port}`,
      'report.bin',
      join(work, to),
      `--ticket=${t.ticket}`,
      `--ticket-key=${t.key}`,
    ];
    const first = await runLftpClient(args('a.bin'));
    expect(first.code, first.err.join('\n')).toBe(0);
    expect(sha(readFileSync(join(work, 'a.bin')))).toBe(sha(data));
    const again = await runLftpClient(args('b.bin'));
    expect(again.code).toBe(4);
    expect(again.err.join('\n')).toMatch(/AUTH: .*(used|unknown)/);
    // n1 does not take a ticket it issued for n2's file: it is n2's to spend.
    raw.send({ type: 'TICKET_REQUEST', id: 2, op: 'get', name: 'report.bin' });
    const t2 = await raw.next('TICKET', (m) => m.type === 'TICKET' && m.id === 2);
    if (t2.type !== 'TICKET' || !t2.ok) throw new Error('no second ticket');
    const wrong = await runLftpClient([
      'get',
      `127.0.0.1:${n1.port}`,
      'report.bin',
      join(work, 'c.bin'),
      `--ticket=${t2.ticket}`,
      `--ticket-key=${t2.key}`,
    ]);
    expect(wrong.code).toBe(4);
    expect(wrong.err.join('\n')).toContain('AUTH: ticket is for node n2');

    // n2 dies: its files leave n1's listing once its last listing expires (FILES_TTL_MS, 15 s).
    n2.kill('SIGKILL');
    seen = await filesUntil(alice, '* 1 file on the server:', seen, 40_000);
    alice.send('/get report.bin');
    await alice.waitFor(/NOT_FOUND/, 10_000, seen);
  }, 120_000);
});
