/** What the files folder shares, as the chat's FILES and the page's file list show it. */
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isInside } from '../../common/lftp/node/names.js';
import { checkFileName } from '../../common/unicode/file-name-rule.js';
import type { FileEntry } from '../../common/protocol.js';
import { folderSummary } from './folder-disk.js';

export interface FileListing {
  /** As many entries as fit the budget, by name. */
  files: FileEntry[];
  /** How many files there are in all. */
  total: number;
}

/** A name on disk that the rule accepts as it is (not only after NFC). */
function shareable(name: string): boolean {
  const check = checkFileName(name);
  return check.ok && check.name === name;
}

/**
 * What the folder shares, by name: regular files, symlinks to regular files inside the folder, and folders
 * (`DIR/`, with their files' count and bytes). Hidden: dot files (uploads in progress), names the file-name rule
 * refuses (they could not be asked for by name, and could show as another name), symlinks that lead out of the
 * folder. Entries are kept while their JSON fits in budgetBytes.
 */
export async function listShared(dir: string, budgetBytes: number): Promise<FileListing> {
  const root = await realpath(dir).catch(() => dir);
  const names = (await readdir(dir).catch(() => [] as string[]))
    .filter((n) => !n.startsWith('.') && shareable(n))
    .sort();
  const all: FileEntry[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const link = await lstat(path).catch(() => null);
    if (!link) continue;
    if (link.isSymbolicLink()) {
      const real = await realpath(path).catch(() => null);
      if (!real || !isInside(root, real)) continue;
    }
    const st = link.isSymbolicLink() ? await stat(path).catch(() => null) : link;
    if (st?.isFile()) all.push({ name, size: st.size, mtimeMs: Math.round(st.mtimeMs) });
    else if (link.isDirectory()) all.push({ name: `${name}/`, ...(await folderSummary(path)) });
  }
  const files: FileEntry[] = [];
  let budget = budgetBytes;
  for (const f of all) {
    budget -= JSON.stringify(f).length + 1;
    if (budget < 0) break;
    files.push(f);
  }
  return { files, total: all.length };
}
