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
  if (!o.keyFrom) return null;
  if ('master' in o.keyFrom) return { master: o.keyFrom.master, salt: o.keyFrom.salt ?? randomBytes(SALT_BYTES) };
  const salt = randomBytes(SALT_BYTES);
  return { master: await tokenMaster(o.keyFrom.token, salt), salt };
}
