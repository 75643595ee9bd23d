/**
 * What `chat-client lftp` checks and makes before its SYN: the local file (a get must not overwrite one, a
 * post needs a regular file), and the transfer's master key and salt.
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { LftpError } from '../common/lftp/engine/errors.js';
import { SALT_BYTES } from '../common/lftp/engine/payloads.js';
import { tokenMaster } from '../common/lftp/protect/keys.js';
import type { TransferOptions } from './lftp-transfer-options.js';

/** The size of the file to post, or 0 for a get (whose destination must not exist). */
export async function checkLocal(o: TransferOptions): Promise<number> {
  const st = await stat(o.local).catch(() => null);
  if (o.op === 'get') {
    if (st) throw new LftpError('EXISTS', `${o.local} already exists; not overwritten (give another local name)`);
    return 0;
  }
  if (!st) throw new LftpError('NOT_FOUND', `no such file: ${o.local}`);
  if (!st.isFile()) throw new LftpError('BAD_NAME', `${o.local} is not a regular file`);
  return st.size;
}

/** The transfer's master key and salt, made before the SYN (a token's scrypt takes ~40 ms), or null when unprotected. */
export async function transferKeys(o: TransferOptions): Promise<{ master: Buffer; salt: Buffer } | null> {
  const k = (await withTokenKey(o)).keyFrom;
  if (!k || !('master' in k)) return null;
  return { master: k.master, salt: k.salt ?? randomBytes(SALT_BYTES) };
}

/**
 * A token made into its master key now, with a new salt, for the transfers still to come. A folder's files all
 * use the one key (a server remembers a salt it has seen proved: server/files/syn-keys.ts), and `chat-client lftp`
 * starts the scrypt on libuv's pool while the transfer's modules load, so the two overlap.
 */
export async function withTokenKey<T extends Pick<TransferOptions, 'keyFrom'>>(o: T): Promise<T> {
  const k = o.keyFrom;
  if (!k || !('token' in k)) return o;
  const salt = randomBytes(SALT_BYTES);
  return { ...o, keyFrom: { master: await tokenMaster(k.token, salt), salt } };
}
