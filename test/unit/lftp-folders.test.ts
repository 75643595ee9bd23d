/**
 * Folder names and manifests (common/lftp/node/folder-manifest.ts): what a request's name asks for, and a
 * manifest from the peer checked whole, so a hostile one cannot make the receiver write outside the folder.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  MAX_DEPTH,
  decodeManifest,
  encodeManifest,
  parseTreeName,
  removeLeftovers,
  walkFolder,
} from '../../common/lftp/node/folder-manifest.js';
import { tempDir } from '../helpers/processes.js';
import { FolderUploaders, HELD_MS } from '../../server/files/folder-uploaders.js';

const TAG = 'A'.repeat(22);
const file = (path: string, size = 1) => ({ path, size, mtime: 1, tag: TAG });
const manifest = (dirs: unknown[], files: unknown[], name = 'f') =>
  Buffer.from(JSON.stringify({ v: 1, name, dirs, files }));

describe('folder names', () => {
  it('tells a plain name, a folder and a file in one apart', () => {
    expect(parseTreeName('a.txt')).toEqual({ kind: 'plain', name: 'a.txt' });
    expect(parseTreeName('photos/')).toEqual({ kind: 'folder', name: 'photos' });
    expect(parseTreeName('photos/a b/報告.txt')).toEqual({
      kind: 'member',
      name: 'photos/a b/報告.txt',
      folder: 'photos',
      rel: 'a b/報告.txt',
    });
    // NFD is taken as NFC, in every component.
    expect(parseTreeName('cafe\u0301/e\u0301')).toMatchObject({ name: 'café/é' });
  });

  it('refuses every spelling that leaves the folder', () => {
    for (const bad of ['../x', 'a/../b', 'a/./b', 'a//b', '/etc/passwd', 'a/b/', 'a\\..\\b/c', 'a/.hidden', 'a/ b'])
      expect(() => parseTreeName(bad), bad).toThrow(expect.objectContaining({ code: 'BAD_NAME' }));
    const deep = `a/${Array.from({ length: MAX_DEPTH }, () => 'd').join('/')}`;
    expect(() => parseTreeName(deep)).toThrow(/deeper than/);
  });
});

describe('folder manifests', () => {
  it('round-trips', () => {
    const m = { name: 'f', dirs: ['a', 'a/深い', 'empty'], files: [file('a/深い/x y.txt', 5), file('top')] };
    expect(decodeManifest(encodeManifest(m), 'f')).toEqual(m);
  });

  it('refuses paths that leave the folder, folders out of order, twins and malformed entries', () => {
    const cases: Array<[unknown[], unknown[]]> = [
      [[], [file('../etc/passwd')]],
      [['a'], [file('a/../../x')]],
      [[], [file('/abs')]],
      [[], [file('a/b')]], // a file in a folder never listed
      [['a/b', 'a'], []], // a child before its parent
      [['a'], [file('a')]], // a folder and a file of one name
      [[], [file('x'), file('x')]],
      [[], [file('caf\u00e9'), file('cafe\u0301')]], // one name in two normal forms
      [[], [{ path: 'x', size: -1, mtime: 1, tag: TAG }]],
      [[], [{ path: 'x', size: 1, mtime: 1, tag: 'short' }]],
      [[7], []],
    ];
    for (const [dirs, files] of cases)
      expect(() => decodeManifest(manifest(dirs, files), 'f'), JSON.stringify([dirs, files])).toThrow(
        expect.objectContaining({ code: expect.stringMatching(/^(BAD_REQUEST|BAD_NAME)$/) }),
      );
    expect(() => decodeManifest(Buffer.from('nope'), 'f')).toThrow(/not JSON/);
    expect(() => decodeManifest(manifest([], [], 'other'), 'f')).toThrow(/names "other"/);
  });

  it('walks a folder: symlinks to files inside are files; out of the tree, to a folder or dangling are refused', async () => {
    const root = join(tempDir('walk'), 'w');
    mkdirSync(join(root, 'sub', 'empty'), { recursive: true });
    writeFileSync(join(root, 'sub', 'a.txt'), 'abc');
    symlinkSync(join(root, 'sub', 'a.txt'), join(root, 'link'));
    const m = await walkFolder(root, 'w');
    expect(m.dirs).toEqual(['sub', 'sub/empty']);
    expect(m.files.map((f) => [f.path, f.size])).toEqual([
      ['link', 3],
      ['sub/a.txt', 3],
    ]);
    for (const [target, why] of [
      ['/etc/passwd', /leads outside the folder/],
      ['inside', /symlink to a folder/],
      ['nothing', /leads outside the folder/],
    ] as const) {
      const other = join(tempDir('walk'), 'w');
      mkdirSync(join(other, 'inside'), { recursive: true });
      symlinkSync(target.startsWith('/') ? target : join(other, target), join(other, 'bad'));
      await expect(walkFolder(other, 'w')).rejects.toThrow(why);
    }
    const badName = join(tempDir('walk'), 'w');
    mkdirSync(badName);
    writeFileSync(join(badName, 'inv\u043eice'), '');
    await expect(walkFolder(badName, 'w')).rejects.toThrow(/mixes/);
  });

  it('removes what is none of the manifest before a staging folder is put in place: its dot files, in every folder', async () => {
    const stage = tempDir('stage');
    mkdirSync(join(stage, 'a', 'b'), { recursive: true });
    writeFileSync(join(stage, 'a', 'x.bin'), 'x');
    writeFileSync(join(stage, '.lftp-manifest'), '{}');
    writeFileSync(join(stage, 'a', '.resume-0123.lftp-held'), 'x');
    writeFileSync(join(stage, 'a', '.resume-0123.lftp-rec'), '{}');
    writeFileSync(join(stage, 'a', 'b', '.upload-1.lftp-part'), '');
    await removeLeftovers(stage, { name: 'f', dirs: ['a', 'a/b'], files: [file('a/x.bin')] });
    expect(readdirSync(stage, { recursive: true }).sort()).toEqual(['a', 'a/b', 'a/x.bin']);
  });
});

describe('one upload of a folder at a time without users (chat-server lftp)', () => {
  it('another address is refused while the folder is being asked for; the same address goes on; then it is free', () => {
    const u = new FolderUploaders();
    u.claim('trip', '10.0.0.1', 1000);
    expect(() => u.claim('trip', '10.0.0.2', 1000 + HELD_MS - 1)).toThrow(
      expect.objectContaining({
        code: 'BUSY',
        message: expect.stringContaining('trip/ is being uploaded from 10.0.0.1'),
      }),
    );
    u.claim('other', '10.0.0.2', 1000); // another folder: its own
    u.claim('trip', '10.0.0.1', 20_000); // a run again after a cut, or its next file: and the hold goes on
    expect(() => u.claim('trip', '10.0.0.2', 20_000 + HELD_MS - 1)).toThrow(expect.objectContaining({ code: 'BUSY' }));
    u.claim('trip', '10.0.0.2', 20_000 + HELD_MS); // silent for HELD_MS: the first one is gone
    expect(() => u.claim('trip', '10.0.0.1', 20_000 + HELD_MS)).toThrow(expect.objectContaining({ code: 'BUSY' }));
    u.release('trip'); // put in place
    u.claim('trip', '10.0.0.1', 20_000 + HELD_MS);
  });
});
