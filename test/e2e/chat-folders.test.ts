/**
 * Folders inside the chat (docs/LFTP.md, "Folders"): /post DIR and /get DIR/ with one ticket for the folder, the
 * folder announced once, /files showing it with its total size and file count, a symlink out of it refused
 * before any ticket, and a folder ticket that opens nothing outside its folder.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineProcess, CLIENT_JS, startServer, stopAll, tempDir } from '../helpers/processes.js';
import { tree } from '../helpers/file-tree.js';

let procs: Array<LineProcess | undefined> = [];
afterEach(async () => {
  await stopAll(...procs);
  procs = [];
});

async function client(port: number, nick: string, cwd: string): Promise<LineProcess> {
  const c = new LineProcess(
    `client ${nick}`,
    [CLIENT_JS, '--host', '127.0.0.1', '--port', String(port), '--nick', nick],
    {
      cwd,
    },
  );
  procs.push(c);
  await c.waitFor(/^\* connected to /);
  return c;
}

describe('folders inside the chat', () => {
  it('/post DIR, announced once; /files shows it; /get DIR/ brings the tree back', async () => {
    const files = tempDir('chat-folders');
    const server = await startServer(['--workers', '2', '--files', files]);
    procs.push(server);
    const aliceDir = tempDir('alice');
    const bobDir = tempDir('bob');
    const src = join(aliceDir, 'trip');
    mkdirSync(join(src, 'day 1', '写真'), { recursive: true });
    mkdirSync(join(src, 'empty'));
    writeFileSync(join(src, 'day 1', 'notes.txt'), 'day one\n');
    writeFileSync(join(src, 'day 1', '写真', 'a.bin'), randomBytes(1_500_000));
    writeFileSync(join(src, 'b.bin'), randomBytes(600_000));
    const alice = await client(server.port, 'alice', aliceDir);
    const bob = await client(server.port, 'bob', bobDir);

    alice.send('/post trip');
    await alice.waitFor(
      /^transfer complete: trip\/ \(3 files, 3 folders, 2\.00 MiB, .*sha256 ok for each file\)$/,
      60_000,
    );
    await bob.waitFor(/^\* alice shared trip\/ \(2\.00 MiB\)$/);
    expect(tree(join(files, 'trip'))).toEqual(tree(src));
    expect(readdirSync(files).filter((n) => n.startsWith('.'))).toEqual([]);

    bob.send('/files');
    await bob.waitFor(/^\*\s+trip\/\s+2\.00 MiB in 3 files$/);
    bob.send('/get trip/');
    await bob.waitFor(/^transfer complete: trip\/ \(3 files, 3 folders, 2\.00 MiB/, 60_000);
    await bob.waitFor(/^\* saved .*downloads\/trip$/);
    expect(tree(join(bobDir, 'downloads', 'trip'))).toEqual(tree(src));
    // Said once, for the whole folder: a later line is the marker that no other announcement came.
    alice.send('done');
    await bob.waitFor('<alice> done');
    expect(bob.lines.filter((l) => l.includes('shared'))).toEqual(['* alice shared trip/ (2.00 MiB)']);

    // A symlink out of the folder: refused before any ticket, nothing made on the server.
    symlinkSync('/etc/passwd', join(src, 'day 1', 'pw'));
    alice.send('/post trip trip2');
    await alice.waitFor(
      /^! cannot send the folder trip: "trip2\/day 1\/pw" is a symlink that leads outside the folder$/,
    );
    expect(readdirSync(files).sort()).toEqual(['trip']);
    // Traversal in the name asked for.
    bob.send('/get ../trip/');
    await bob.waitFor(/^! file name "\.\.\/trip" contains a path separator/);
  });
});
