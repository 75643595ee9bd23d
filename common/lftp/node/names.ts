/**
 * File names in transfer requests. A name is one path component inside the
 * served directory: no separators, no "..", no NUL or control characters, no
 * leading dot (temporary files start with one), at most 255 bytes. Reads also
 * refuse symlinks that lead out of the directory.
 */
import { lstat, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { LftpError } from '../engine/errors.js';

export const MAX_NAME_BYTES = 255;

export function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw new LftpError('BAD_NAME', 'a file name is required');
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw new LftpError('BAD_NAME', `file name longer than ${MAX_NAME_BYTES} bytes`);
  if (name.includes('\0')) throw new LftpError('BAD_NAME', 'file name contains a NUL byte');
  if (name.includes('/') || name.includes('\\')) throw new LftpError('BAD_NAME', `file name ${JSON.stringify(name)} contains a path separator: names are plain file names`);
  if (name === '.' || name === '..' || name.startsWith('.')) throw new LftpError('BAD_NAME', `file name ${JSON.stringify(name)} may not start with a dot`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) throw new LftpError('BAD_NAME', 'file name contains control characters');
  return name;
}

/** A file to send: must exist, be a regular file, and really be inside dir. */
export async function resolveForRead(dir: string, rawName: unknown): Promise<{ path: string; size: number; name: string }> {
  const name = checkName(rawName);
  const path = join(dir, name);
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw new LftpError('NOT_FOUND', `no file named ${JSON.stringify(name)}`);
  }
  const root = await realpath(dir);
  if (!real.startsWith(root + sep)) throw new LftpError('BAD_NAME', `${JSON.stringify(name)} leads outside the files directory`);
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
    throw new LftpError('IO_ERROR', `cannot check ${JSON.stringify(name)}: ${(err as Error).message}`);
  }
  throw new LftpError('EXISTS', `${JSON.stringify(name)} already exists; not overwritten`);
}
