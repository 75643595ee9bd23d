import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DataDirSecrets,
  RandomSecrets,
  SECRET_BYTES,
  SECRET_NAMES,
  secretSource,
} from '../../server/process/secret-source.js';
import { TicketTable } from '../../server/shm/ticket-table.js';
import { secretSourceContract } from './secret-source-contract.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'secrets-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('SecretSource', () => {
  secretSourceContract('RandomSecrets', () => new RandomSecrets());
  secretSourceContract('DataDirSecrets', () => new DataDirSecrets(join(tempDir(), 'data')));

  it('RandomSecrets: new each run', async () => {
    const [a, b] = [new RandomSecrets(), new RandomSecrets()];
    expect((await a.secret('admin-cookie')).equals(await b.secret('admin-cookie'))).toBe(false);
  });

  it('DataDirSecrets: made on first start (0600), the same after a restart, so cookies stay valid', async () => {
    const dir = join(tempDir(), 'data');
    const first = new DataDirSecrets(dir);
    const cookie = await first.secret('admin-cookie');
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    const again = new DataDirSecrets(dir);
    expect((await again.secret('admin-cookie')).equals(cookie)).toBe(true);
    expect((await again.secret('ticket')).equals(await first.secret('ticket'))).toBe(true);
  });

  it('DataDirSecrets: a damaged file, or one without a secret, gets new ones for what is missing', async () => {
    const dir = tempDir();
    const file = join(dir, 'server.secrets');
    writeFileSync(file, 'not json');
    const made = await new DataDirSecrets(dir).secret('ticket');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ ticket: made.toString('hex') });
    writeFileSync(file, JSON.stringify({ ticket: made.toString('hex'), 'admin-cookie': 'short' }));
    const source = new DataDirSecrets(dir);
    expect((await source.secret('ticket')).equals(made)).toBe(true);
    expect((await source.secret('admin-cookie')).length).toBe(SECRET_BYTES);
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8'))).sort()).toEqual([...SECRET_NAMES].sort());
  });

  it('the server: the data folder when it has one, else new each run (--no-history)', () => {
    expect(secretSource(null)).toBeInstanceOf(RandomSecrets);
    expect(secretSource(tempDir())).toBeInstanceOf(DataDirSecrets);
  });

  it("the ticket table signs with the source's ticket secret, in every view of it", async () => {
    const secret = await new RandomSecrets().secret('ticket');
    const table = TicketTable.create(4);
    table.useSecret(secret);
    expect(new TicketTable(table.buffer, 0).keySecret().equals(secret)).toBe(true);
    expect(() => table.useSecret(Buffer.alloc(8))).toThrow(RangeError);
  });
});
