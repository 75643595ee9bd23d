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
import { until } from '../helpers/wait.js';

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

  it('two uploads of one folder: the second is refused while the first runs, and a client that died blocks no one', async () => {
    const files = tempDir('chat-folders-two');
    const server = await startServer(['--workers', '2', '--files', files]);
    procs.push(server);
    const aliceDir = tempDir('alice2');
    const bobDir = tempDir('bob2');
    const carolDir = tempDir('carol2');
    const make = (dir: string, bytes: number) => {
      mkdirSync(join(dir, 'share', 'sub'), { recursive: true });
      writeFileSync(join(dir, 'share', 'a.bin'), randomBytes(bytes));
      writeFileSync(join(dir, 'share', 'sub', 'b.bin'), randomBytes(bytes));
      return join(dir, 'share');
    };
    const aliceSrc = make(aliceDir, 24 * 2 ** 20);
    make(bobDir, 1000);
    const carolSrc = make(carolDir, 2000);
    const alice = await client(server.port, 'alice', aliceDir);
    const bob = await client(server.port, 'bob', bobDir);
    const staging = () => readdirSync(files).filter((n) => n.startsWith('.folder-'));

    // Alice's upload is under way (its staging folder is there), held still so that it cannot finish meanwhile.
    alice.send('/post share');
    await until(
      () => staging().length > 0,
      30_000,
      () => 'alice’s upload never started',
    );
    alice.kill('SIGSTOP');
    bob.send('/post share');
    await bob.waitFor('transfer failed: share/: BUSY: share/ is being uploaded by alice; try again once that is done');
    alice.kill('SIGCONT');
    await alice.waitFor(/^transfer complete: share\/ \(2 files, 1 folder, 48\.0 MiB/, 90_000);
    expect(tree(join(files, 'share'))).toEqual(tree(aliceSrc));
    // Now the name is taken: refused as any upload of a name already shared.
    bob.send('/post share');
    await bob.waitFor('transfer failed: share/: EXISTS: "share" already exists; not overwritten');

    // A client killed mid-upload gives its ticket back with its session: the next uploader goes ahead at once, and
    // what it finds of the dead one's staging is not mixed into its folder.
    const carol = await client(server.port, 'carol', carolDir);
    alice.send('/post share share2');
    await until(
      () => staging().length > 0,
      30_000,
      () => 'alice’s second upload never started',
    );
    alice.kill('SIGKILL');
    await carol.waitFor('* alice lost connection');
    carol.send('/post share share2');
    await carol.waitFor(/^transfer complete: share2\/ \(2 files, 1 folder/, 60_000);
    expect(tree(join(files, 'share2'))).toEqual(tree(carolSrc));
    expect(readdirSync(files).filter((n) => n.startsWith('.'))).toEqual([]);
  }, 180_000);
});
