/**
 * The shared folder's rules on a real directory: look-alike names refused,
 * listings that hide what could not be asked for or leads outside, the
 * free-space reserve and the per-user quota, and failures that never show
 * the server's paths.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileService, type UploadLimits } from '../../server/files/file-service.js';
import { TicketTable } from '../../server/shm/ticket-table.js';
import { UploadLedger } from '../../server/shm/upload-ledger.js';
import { LedgerQuota } from '../../server/files/upload-quota.js';
import { systemReason } from '../../common/lftp/node/io-failure.js';
import { tempDir } from '../helpers/processes.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function folder(): string {
  const d = tempDir('files-');
  dirs.push(d);
  return d;
}
const limits = (over: Partial<UploadLimits> = {}): UploadLimits => ({
  maxFileSize: 1 << 30,
  keepFree: 0,
  quota: null,
  ...over,
});
const owner = { nick: 'alice', session: 1 };

describe('FileService', () => {
  it('refuses an upload whose name looks like a shared file', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'invoice.pdf'), 'x');
    const files = new FileService(dir, limits());
    for (const twin of ['Invoice.pdf', 'INVOICE.PDF', 'ınvoice.pdf', 'invoıce.pdf']) {
      await expect(files.checkUpload(twin, 1), twin).rejects.toMatchObject({
        code: 'EXISTS',
        message: expect.stringMatching(/looks like "invoice.pdf"/),
      });
    }
    await expect(files.checkUpload('receipt.pdf', 1)).resolves.toMatchObject({ name: 'receipt.pdf' });
  });

  it('lists regular files, links inside the folder and folders (their bytes and files); hides links out, dot files and names the rule refuses', async () => {
    const dir = folder();
    const outside = folder();
    writeFileSync(join(outside, 'secret.txt'), 'secret');
    writeFileSync(join(dir, 'a.txt'), 'a');
    writeFileSync(join(dir, '.upload-1.lftp-part'), 'p');
    writeFileSync(join(dir, 'evil\u202etxt.exe'), 'e');
    writeFileSync(join(dir, 'Zoe\u0308.txt'), 'nfd');
    mkdirSync(join(dir, 'folder', 'inner'), { recursive: true });
    writeFileSync(join(dir, 'folder', 'x'), 'xyz');
    writeFileSync(join(dir, 'folder', 'inner', 'y'), 'yy');
    symlinkSync(outside, join(dir, 'linked-folder'));
    symlinkSync(join(outside, 'secret.txt'), join(dir, 'leak.txt'));
    symlinkSync(join(dir, 'a.txt'), join(dir, 'alias.txt'));
    const listing = await new FileService(dir, limits()).list(1 << 20);
    expect(listing.files.map((f) => f.name)).toEqual(['a.txt', 'alias.txt', 'folder/']);
    expect(listing.files[2]).toMatchObject({ size: 5, files: 2 });
    await expect(new FileService(dir, limits()).checkDownload('leak.txt')).rejects.toMatchObject({ code: 'BAD_NAME' });
  });

  it('keeps the free-space reserve', async () => {
    const dir = folder();
    const files = new FileService(dir, limits({ keepFree: Number.MAX_SAFE_INTEGER / 2 }));
    await expect(files.checkUpload('big.bin', 1)).rejects.toMatchObject({
      code: 'NO_SPACE',
      message: expect.stringMatching(/free for uploads/),
    });
  });

  it('holds each user to the quota, at the ticket and at the upload', async () => {
    const dir = folder();
    const ledger = UploadLedger.create();
    const files = new FileService(dir, limits({ quota: new LedgerQuota(ledger, 1000) }), TicketTable.create(16));
    expect(await files.grantTicket('post', 'one.bin', 800, owner, Date.now())).toMatchObject({ ok: true });
    const release = await files.reserveUpload('alice', 800);
    const refused = await files.grantTicket('post', 'two.bin', 300, { nick: 'ALICE', session: 2 }, Date.now());
    expect(refused).toMatchObject({
      ok: false,
      code: 'NO_SPACE',
      message: expect.stringMatching(/ALICE has uploaded 800 B of the 1000 B/),
    });
    await expect(files.reserveUpload('Alice', 300)).rejects.toThrow(/uploaded 800 B/);
    release(); // that upload was not stored
    await expect(files.reserveUpload('Alice', 300)).resolves.toBeTypeOf('function');
    expect(await files.grantTicket('post', 'bob.bin', 1000, { nick: 'bob', session: 3 }, Date.now())).toMatchObject({
      ok: true,
    });
  });

  it("counts a partial kept for resume against its uploader's quota, and a dropped one no longer", async () => {
    const ledger = UploadLedger.create();
    const files = new FileService(folder(), limits({ quota: new LedgerQuota(ledger, 1000) }));
    // Cut with 300 bytes kept: those stay counted, the rest is given back.
    (await files.reserveResumable('alice', 800, 0, 0))(300);
    expect(ledger.used('alice')).toBe(300);
    // Continued from the 300 held: only the 500 missing are counted again, and all 800 once stored.
    await files.reserveResumable('alice', 800, 300, 0);
    expect(ledger.used('alice')).toBe(800);
    // Another source of the name: the 200 bytes of the partial it drops are given back.
    (await files.reserveResumable('bob', 500, 0, 0))(200);
    await files.reserveResumable('bob', 600, 0, 200);
    expect(ledger.used('bob')).toBe(600);
    // A write failure keeps nothing: everything is given back.
    (await files.reserveResumable('carol', 400, 0, 0))(0);
    expect(ledger.used('carol')).toBe(0);
    await expect(files.reserveResumable('alice', 300, 0, 0)).rejects.toThrow(/uploaded 800 B/);
  });

  it('describes a failed file operation without the path', () => {
    const err = Object.assign(new Error("ENOSPC: no space left on device, write '/srv/secret/files/x'"), {
      code: 'ENOSPC',
      syscall: 'write',
    });
    expect(systemReason(err)).toBe('ENOSPC: no space left on device');
  });
});
