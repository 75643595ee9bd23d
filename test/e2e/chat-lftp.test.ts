import { afterEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { NO_IMPAIRMENT, startRelay } from '../relay/relay.js';
import { join } from 'node:path';
import { LineProcess, CLIENT_JS, runLftpClient, startServer, stopAll, tempDir } from '../helpers/processes.js';
import { RawClient } from '../helpers/raw-client.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let procs: Array<LineProcess | undefined> = [];
afterEach(async () => {
  await stopAll(...procs);
  procs = [];
});

async function client(port: number, nick: string, cwd: string, extra: string[] = []): Promise<LineProcess> {
  const c = new LineProcess(
    `client ${nick}`,
    [CLIENT_JS, '--host', '127.0.0.1', '--port', String(port), '--nick', nick, ...extra],
    { cwd },
  );
  procs.push(c);
  await c.waitFor(/^\* connected to /);
  return c;
}

describe('file sharing inside the chat', () => {
  it('/post then /get by another client, while chat and heartbeats go on', async () => {
    const files = tempDir('chat-share');
    const server = await startServer([
      '--workers',
      '2',
      '--files',
      files,
      '--heartbeat-interval',
      '300ms',
      '--heartbeat-timeout',
      '1500ms',
    ]);
    procs.push(server);
    const aliceDir = tempDir('alice');
    const bobDir = tempDir('bob');
    const data = randomBytes(6 * 1024 * 1024 + 123);
    writeFileSync(join(aliceDir, 'holiday.mp4'), data);
    const alice = await client(server.port, 'alice', aliceDir);
    const bob = await client(server.port, 'bob', bobDir);
    const carol = await client(server.port, 'carol', bobDir);

    alice.send('/post holiday.mp4');
    // Chat keeps flowing during the upload.
    for (let i = 0; i < 20; i++) carol.send(`chatter ${i}`);
    await alice.waitFor(/^transfer complete: holiday\.mp4 \(6\.00 MiB, .+, sha256 ok\)$/, 60_000);
    for (const c of [alice, bob, carol]) await c.waitFor('* alice shared holiday.mp4 (6.00 MiB)');
    expect(sha(readFileSync(join(files, 'holiday.mp4')))).toBe(sha(data));

    bob.send('/files');
    await bob.waitFor(/^\*\s+holiday\.mp4\s+6\.00 MiB$/);
    bob.send('/get holiday.mp4');
    for (let i = 20; i < 40; i++) carol.send(`chatter ${i}`);
    await bob.waitFor(/^transfer complete: holiday\.mp4 /, 60_000);
    expect(sha(readFileSync(join(bobDir, 'downloads', 'holiday.mp4')))).toBe(sha(data));
    await bob.waitFor('<carol> chatter 39');
    // Heartbeats were answered throughout: nobody was dropped (since resume, a drop shows as a lost connection).
    // A line said once both transfers are over is the marker: a drop during them would have been told in the
    // room, and seen by the dropped one itself, before each client prints it.
    carol.send('both transfers done');
    for (const c of [alice, bob, carol]) await c.waitFor('<carol> both transfers done');
    expect([...alice.lines, ...bob.lines, ...carol.lines, ...server.lines].join('\n')).not.toMatch(
      /timed out|lost connection|connection lost|reconnect/,
    );

    // A second /get of the same name does not overwrite: it picks a new name and says so.
    bob.send('/get holiday.mp4');
    await bob.waitFor(/saving as .*holiday \(1\)\.mp4/);
    await bob.waitFor(/^\* saved .*holiday \(1\)\.mp4$/, 60_000);

    // Refusals come back as clear lines.
    bob.send('/get missing.bin');
    await bob.waitFor('transfer failed: missing.bin: NOT_FOUND: no file named "missing.bin"');
    alice.send('/post holiday.mp4');
    await alice.waitFor(/^transfer failed: holiday\.mp4: EXISTS: /);
    alice.send('/transfers');
    await alice.waitFor('* no transfers');
  });

  it('--lftp-via sends a /get through a fault relay at 5% loss, and --qlog traces it: loss is visible inside the chat', async () => {
    const files = tempDir('chat-via');
    const server = await startServer(['--workers', '1', '--files', files]);
    procs.push(server);
    const data = randomBytes(1024 * 1024);
    writeFileSync(join(files, 'lecture.pdf'), data);
    const lossy = { ...NO_IMPAIRMENT, loss: 0.05, delayMs: 2 };
    // The server's LFTP port is its chat port's number (the default).
    const relay = await startRelay({
      listenHost: '127.0.0.1',
      listenPort: 0,
      targetHost: '127.0.0.1',
      targetPort: server.port,
      seed: 4,
      up: lossy,
      down: lossy,
    });
    try {
      const dir = tempDir('via-client');
      const qlog = join(dir, 'qlog');
      const dana = await client(server.port, 'dana', dir, ['--lftp-via', `127.0.0.1:${relay.port}`, '--qlog', qlog]);
      dana.send('/get lecture.pdf');
      await dana.waitFor(/^transfer complete: lecture\.pdf /, 60_000);
      expect(sha(readFileSync(join(dir, 'downloads', 'lecture.pdf')))).toBe(sha(data));
      expect(relay.stats.up.received).toBeGreaterThan(10);
      expect(relay.stats.down.dropped).toBeGreaterThan(0);
      const traces = readdirSync(qlog);
      expect(traces).toHaveLength(1);
      expect(traces[0]).toMatch(/-client-[0-9a-f]{8}\.sqlog$/);
    } finally {
      await relay.close();
    }
  }, 90_000);

  it('the LFTP port refuses a handshake without a valid ticket, and a ticket works once', async () => {
    const files = tempDir('chat-tickets');
    writeFileSync(join(files, 'doc.txt'), 'hello tickets');
    const server = await startServer(['--workers', '2', '--files', files]);
    procs.push(server);
    const work = tempDir('tickets-work');
    const none = await runLftpClient(['get', `127.0.0.1:${server.port}`, 'doc.txt', join(work, 'a.txt')]);
    expect(none.code).toBe(4);
    expect(none.err.join('\n')).toContain('AUTH: a ticket is required');

    const raw = await RawClient.connect(server.port);
    raw.send({ type: 'HELLO', version: 1, nick: 'scripter' });
    await raw.waitFor((m) => m.type === 'WELCOME');
    raw.send({ type: 'TICKET_REQUEST', id: 7, op: 'get', name: 'doc.txt' });
    const t = await raw.waitFor((m) => m.type === 'TICKET');
    if (t.type !== 'TICKET' || !t.ok) throw new Error('no ticket');
    expect(t.port).toBe(server.port);
    // The ticket alone is not enough: the request must be signed with its key (which came over the chat session only).
    const unsigned = await runLftpClient([
      'get',
      `127.0.0.1:${t.port}`,
      'doc.txt',
      join(work, 'u.txt'),
      '--token',
      t.ticket,
    ]);
    expect(unsigned.code).toBe(4);
    expect(unsigned.err.join('\n')).toContain('AUTH: a ticket is required');
    const first = await runLftpClient([
      'get',
      `127.0.0.1:${t.port}`,
      'doc.txt',
      join(work, 'b.txt'),
      '--ticket',
      t.ticket,
      '--ticket-key',
      t.key,
    ]);
    expect(first.code).toBe(0);
    expect(readFileSync(join(work, 'b.txt'), 'utf8')).toBe('hello tickets');
    const again = await runLftpClient([
      'get',
      `127.0.0.1:${t.port}`,
      'doc.txt',
      join(work, 'c.txt'),
      '--ticket',
      t.ticket,
      '--ticket-key',
      t.key,
    ]);
    expect(again.code).toBe(4);
    expect(again.err.join('\n')).toMatch(/AUTH: .*(used|unknown)/);
    raw.destroy();
  });
});
