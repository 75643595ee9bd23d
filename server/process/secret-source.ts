/**
 * Where the secrets the server signs with come from: the key a one-time
 * ticket's LFTP key is derived from (shm/ticket-table.ts) and the key of the
 * dashboard's cookies (web/admin-auth.ts). Every thread of a server, and in a
 * cluster every node, must sign with the same ones, so they come from one
 * SecretSource, asked once at start and handed to the threads; a cluster's
 * implementation reads them from the shared store (a Redis key set once with
 * SET NX, then read by every node).
 *
 * Today: with a data folder, `DataDirSecrets` keeps them in
 * `server.secrets` there (0600), made on first start, so that a restart keeps
 * the dashboard's cookies valid (a cookie's key is an HMAC of this secret and
 * the admin token: the file alone forges nothing, and a new --admin-token
 * ends every cookie). With --no-history there is no folder: `RandomSecrets`,
 * new each run. docs/ARCHITECTURE.md, "Seams for what comes next".
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StartupError } from '../startup-error.js';

/** What is signed: LFTP tickets' keys; the dashboard's cookies. */
export type SecretName = 'ticket' | 'admin-cookie';
export const SECRET_NAMES: readonly SecretName[] = ['ticket', 'admin-cookie'];
/** Every secret is this many random bytes. */
export const SECRET_BYTES = 32;

export interface SecretSource {
  /** The secret by that name: SECRET_BYTES bytes, the same every time it is asked, for every thread and node. */
  secret(name: SecretName): Promise<Buffer>;
}

/** A secret as it is kept (SECRET_BYTES in hex), or null when what is kept is not one. */
export function secretFromHex(hex: unknown): Buffer | null {
  return typeof hex === 'string' && /^[0-9a-f]+$/.test(hex) && hex.length === SECRET_BYTES * 2
    ? Buffer.from(hex, 'hex')
    : null;
}

/** New secrets each run, made on first ask (the same for the rest of the run). */
export class RandomSecrets implements SecretSource {
  private readonly made = new Map<SecretName, Buffer>();

  secret(name: SecretName): Promise<Buffer> {
    let s = this.made.get(name);
    if (!s) this.made.set(name, (s = randomBytes(SECRET_BYTES)));
    return Promise.resolve(Buffer.from(s));
  }
}

/** The secrets kept in the data folder's server.secrets (JSON, hex, 0600); one missing or damaged is made anew. */
export class DataDirSecrets implements SecretSource {
  readonly file: string;
  private kept: Map<SecretName, Buffer> | null = null;

  constructor(private readonly dir: string) {
    this.file = join(dir, 'server.secrets');
  }

  secret(name: SecretName): Promise<Buffer> {
    this.kept ??= this.load();
    return Promise.resolve(Buffer.from(this.kept.get(name)!));
  }

  private load(): Map<SecretName, Buffer> {
    const found = readSecrets(this.file);
    const kept = new Map<SecretName, Buffer>();
    let changed = false;
    for (const name of SECRET_NAMES) {
      const secret = secretFromHex(found[name]);
      kept.set(name, secret ?? randomBytes(SECRET_BYTES));
      changed ||= secret === null;
    }
    if (changed) this.save(kept);
    return kept;
  }

  /** Written aside and renamed into place: a crash leaves the old file or the new one, never half of one. */
  private save(kept: Map<SecretName, Buffer>): void {
    const text = JSON.stringify(Object.fromEntries([...kept].map(([k, v]) => [k, v.toString('hex')])), null, 2);
    const aside = `${this.file}.new`;
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      writeFileSync(aside, `${text}\n`, { mode: 0o600 });
      chmodSync(aside, 0o600);
      renameSync(aside, this.file);
    } catch (err) {
      throw new StartupError('DATA_DIR', `cannot keep the server's secrets in ${this.file}: ${(err as Error).message}`);
    }
  }
}

/** What server.secrets holds, or nothing when it is missing or not JSON; a file that cannot be read stops the start. */
function readSecrets(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new StartupError('DATA_DIR', `cannot read the server's secrets in ${file}: ${(err as Error).message}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The source for these options: the data folder's, or new each run without one (--no-history). */
export function secretSource(dataDir: string | null): SecretSource {
  return dataDir === null ? new RandomSecrets() : new DataDirSecrets(dataDir);
}
