/**
 * chat-client lftp and this machine's files (issue 33 minors): a post of a
 * file that is not there fails here, before anything is sent, with a clear
 * message and exit 1 (not 4, "the server refused"); a get whose local name
 * is taken says which name it saves as only once the server has accepted, so
 * a refused get announces no name.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runLftpClient, startLftpServer, stopAll, tempDir, type ServerHandle } from '../helpers/processes.js';

let server: ServerHandle | undefined;
afterAll(async () => {
  await stopAll(server);
});

describe('chat-client lftp and local files', () => {
  it('post of a missing file: a local failure (exit 1, "cannot read ...: no such file"), not a refusal (4)', async () => {
    const files = tempDir('lftp-local-files');
    server = await startLftpServer(files, ['--token', 'local token']);
    const work = tempDir('lftp-local-work');
    const missing = join(work, 'missing.bin');
    const r = await runLftpClient(['post', `127.0.0.1:${server.port}`, missing, '--token', 'local token'], {
      cwd: work,
    });
    expect(r.err.join('\n')).toBe(`chat-client lftp: cannot read ${missing}: no such file`);
    expect(r.code).toBe(1);
    // Nor is a device; a folder goes as a folder (docs/LFTP.md, "Folders"), this one empty.
    const dev = await runLftpClient([
      'post',
      `127.0.0.1:${server.port}`,
      '/dev/null',
      'x.bin',
      '--token',
      'local token',
    ]);
    expect(dev.err.join('\n')).toBe('chat-client lftp: cannot send /dev/null: not a regular file');
    expect(dev.code).toBe(1);
    const dir = await runLftpClient(['post', `127.0.0.1:${server.port}`, work, 'x', '--token', 'local token']);
    expect(dir.out.join('\n')).toMatch(/^transfer complete: x\/ \(0 files, 0 folders, 0 B, /);
    expect(dir.code).toBe(0);
  });

  it('a get whose local name is taken: a refused one announces no name; an accepted one says where it saves', async () => {
    const files = tempDir('lftp-local-files');
    writeFileSync(join(files, 'there.bin'), randomBytes(20_000));
    await stopAll(server);
    server = await startLftpServer(files, ['--token', 'local token']);
    const work = tempDir('lftp-local-work');
    writeFileSync(join(work, 'report.bin'), 'mine');
    writeFileSync(join(work, 'there.bin'), 'mine too');
    const target = `127.0.0.1:${server.port}`;

    const refused = await runLftpClient(['get', target, 'report.bin', '--token', 'local token'], { cwd: work });
    expect(refused.code).toBe(4);
    expect(refused.err.join('\n')).toContain('NOT_FOUND');
    expect(refused.err.join('\n')).not.toContain('saving as');
    const wrongToken = await runLftpClient(['get', target, 'there.bin', '--token', 'not the token'], { cwd: work });
    expect(wrongToken.code).toBe(4);
    expect(wrongToken.err.join('\n')).not.toContain('saving as');
    expect(existsSync(join(work, 'report (1).bin')) || existsSync(join(work, 'there (1).bin'))).toBe(false);

    const accepted = await runLftpClient(['get', target, 'there.bin', '--token', 'local token'], { cwd: work });
    expect(accepted.code, accepted.err.join('\n')).toBe(0);
    expect(accepted.err).toContain('lftp: there.bin exists; saving as there (1).bin');
    expect(readFileSync(join(work, 'there (1).bin')).length).toBe(20_000);
    expect(readFileSync(join(work, 'there.bin'), 'utf8')).toBe('mine too');
  });

  it('a get into a directory (existing, or named with a trailing slash) saves the file or folder under its name', async () => {
    const files = tempDir('lftp-local-files');
    writeFileSync(join(files, 'doc.bin'), randomBytes(30_000));
    mkdirSync(join(files, 'album', 'inner'), { recursive: true });
    writeFileSync(join(files, 'album', 'inner', 'p.bin'), randomBytes(5_000));
    await stopAll(server);
    server = await startLftpServer(files, ['--token', 'local token']);
    const target = `127.0.0.1:${server.port}`;
    const work = tempDir('lftp-local-work');
    mkdirSync(join(work, 'inbox'));
    const get = (remote: string, local: string) =>
      runLftpClient(['get', target, remote, local, '--token', 'local token'], { cwd: work });

    for (const [remote, local, saved] of [
      ['doc.bin', 'inbox', 'inbox/doc.bin'],
      ['doc.bin', 'inbox/', 'inbox/doc (1).bin'],
      ['doc.bin', 'new/', 'new/doc.bin'],
      ['album/', 'inbox', 'inbox/album/inner/p.bin'],
      ['album/', 'other/', 'other/album/inner/p.bin'],
      ['doc.bin', 'renamed.bin', 'renamed.bin'],
    ] as const) {
      const r = await get(remote, local);
      expect(r.code, `${remote} into ${local}: ${r.err.join('\n')}`).toBe(0);
      const source = remote === 'album/' ? join(files, 'album', 'inner', 'p.bin') : join(files, 'doc.bin');
      expect(readFileSync(join(work, saved)).equals(readFileSync(source)), saved).toBe(true);
    }
  });
});
