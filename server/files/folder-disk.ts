/**
 * Folders on disk as the server sees them apart from a transfer (docs/LFTP.md, "Folders"): where a served folder
 * really is, what /files says of one, and the sweep of staging folders an upload left.
 */
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LftpError } from '../../common/lftp/engine/errors.js';
import { isInside } from '../../common/lftp/node/names.js';
import { MAX_FOLDER_ENTRIES, walkFolder, type FolderManifest } from '../../common/lftp/node/folder-manifest.js';

export const STAGING_PREFIX = '.folder-';
export const STAGING_SUFFIX = '.lftp-tree';

/** The real path of the folder `name` in the files directory `dir`: NOT_FOUND, or BAD_NAME when it leads outside. */
export async function servedFolder(dir: string, name: string): Promise<string> {
  const root = await realpath(dir);
  const real = await realpath(join(dir, name)).catch(() => null);
  if (real === null) throw new LftpError('NOT_FOUND', `no folder named ${JSON.stringify(name)}`);
  if (!isInside(root, real))
    throw new LftpError('BAD_NAME', `${JSON.stringify(name)} leads outside the files directory`);
  if (!(await stat(real)).isDirectory()) throw new LftpError('NOT_FOUND', `${JSON.stringify(name)} is not a folder`);
  return real;
}

/** The manifest of the served folder `name` (walkFolder: a symlink out of the tree refuses it, BAD_NAME). */
export async function servedManifest(dir: string, name: string): Promise<FolderManifest> {
  return walkFolder(await servedFolder(dir, name), name);
}

/**
 * The file `rel` of the served folder `folder` (`name` is `folder/rel`, for the words): its real path, which must
 * be inside the folder's (BAD_NAME), and its size. NOT_FOUND when it is missing or not a regular file.
 */
export async function servedMember(
  dir: string,
  folder: string,
  rel: string,
  name: string,
): Promise<{ path: string; size: number; name: string }> {
  const base = await servedFolder(dir, folder);
  const real = await realpath(join(base, rel)).catch(() => null);
  if (real === null) throw new LftpError('NOT_FOUND', `no file named ${JSON.stringify(name)}`);
  if (!isInside(base, real)) throw new LftpError('BAD_NAME', `${JSON.stringify(name)} leads outside its folder`);
  const st = await stat(real);
  if (!st.isFile()) throw new LftpError('NOT_FOUND', `${JSON.stringify(name)} is not a regular file`);
  return { path: real, size: st.size, name };
}

/** What /files says of a folder: its regular files' count and bytes (symlinks not followed), newest mtime; capped. */
export async function folderSummary(path: string): Promise<{ size: number; files: number; mtimeMs: number }> {
  const sum = { size: 0, files: 0, mtimeMs: 0, seen: 0 };
  const visit = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (++sum.seen > MAX_FOLDER_ENTRIES) return;
      if (e.isDirectory()) await visit(join(dir, e.name));
      else if (e.isFile()) {
        const st = await lstat(join(dir, e.name)).catch(() => null);
        if (!st) continue;
        sum.files++;
        sum.size += st.size;
        sum.mtimeMs = Math.max(sum.mtimeMs, Math.round(st.mtimeMs));
      }
    }
  };
  await visit(path);
  return { size: sum.size, files: sum.files, mtimeMs: sum.mtimeMs };
}

/** Removes staging folders untouched (no file of theirs asked for) for maxAgeMs: at start and now and then. */
export function sweepStaleFolders(dir: string, maxAgeMs: number, now: number): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(STAGING_PREFIX) || !name.endsWith(STAGING_SUFFIX)) continue;
    try {
      const path = join(dir, name);
      if (now - statSync(path).mtimeMs < maxAgeMs) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Gone already.
    }
  }
  return removed;
}
