/**
 * File names in transfer requests, against the served directory: the rule
 * itself is common/unicode/file-name-rule.ts. Reads also refuse symlinks that
 * lead out of the directory; writes refuse a name that exists in any form.
 */
import { lstat, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { LftpError } from '../engine/errors.js';
import { ioFailure } from './io-failure.js';
import { checkFileName } from '../../unicode/file-name-rule.js';

/** The name in NFC, or BAD_NAME saying why it cannot be a file name. */
export function checkName(name: unknown): string {
  const check = checkFileName(name);
  if (!check.ok) throw new LftpError('BAD_NAME', check.reason);
  return check.name;
}

/** Whether a resolved path is inside the (resolved) directory root. */
export function isInside(root: string, real: string): boolean {
  return real.startsWith(root + sep);
}

/** A file to send: must exist, be a regular file, and really be inside dir. */
export async function resolveForRead(
  dir: string,
  rawName: unknown,
): Promise<{ path: string; size: number; name: string }> {
  const name = checkName(rawName);
  const path = join(dir, name);
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw new LftpError('NOT_FOUND', `no file named ${JSON.stringify(name)}`);
  }
  const root = await realpath(dir);
  if (!isInside(root, real))
    throw new LftpError('BAD_NAME', `${JSON.stringify(name)} leads outside the files directory`);
  const st = await stat(real);
  if (!st.isFile()) throw new LftpError('NOT_FOUND', `${JSON.stringify(name)} is not a regular file`);
  return { path: real, size: st.size, name };
}

/** A file to receive: the name must be free (nothing, not even a dangling symlink). */
export async function resolveForWrite(dir: string, rawName: unknown): Promise<{ path: string; name: string }> {
  const name = checkName(rawName);
  const path = join(dir, name);
  try {
    await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { path, name };
    throw ioFailure(`cannot check ${JSON.stringify(name)}`, err);
  }
  throw new LftpError('EXISTS', `${JSON.stringify(name)} already exists; not overwritten`);
}
