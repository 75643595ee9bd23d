/**
 * A folder over LFTP from the client side (docs/LFTP.md, "Folders"): its manifest first (`DIR/`), then each file
 * over a connection of its own (`DIR/a/b`, several at once: lftp-folder-files.ts), each resumable and verified by SHA-256 as any transfer, under one
 * progress bar. A get fills a hidden staging folder beside the destination (`.folder-K.lftp-tree`, with the
 * manifest it is filled after) and renames it into place once every file arrived, so no half folder appears
 * under the final name; run again after a cut it keeps the files it holds whole of entries the new manifest
 * lists unchanged, and continues its partial ones.
 */
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { LftpError } from '../common/lftp/engine/errors.js';
import {
  decodeManifest,
  encodeManifest,
  folderKey,
  removeLeftovers,
  sameFile,
  walkFolder,
  type FolderFile,
  type FolderManifest,
} from '../common/lftp/node/folder-manifest.js';
import { transfer } from './lftp-client.js';
import { moveFiles } from './lftp-folder-files.js';
import type { FolderOptions, FolderResult } from './lftp-transfer-options.js';
import { withTokenKey } from './lftp-preflight.js';
import { freeName, LocalFileError } from './local-files.js';
import { formatBytes, formatRate } from '../common/units.js';

const MANIFEST = '.lftp-manifest';

/** The settings for the manifest's transfer: it is small and made anew each time, so it never resumes. */
function once(o: FolderOptions): Omit<FolderOptions['settings'], 'resume'> {
  const { resume: _resume, ...rest } = o.settings;
  return rest;
}

/** The manifest's transfer; a server from before folders refuses any name with a `/` in it, and is told so. */
async function moveManifest(o: FolderOptions, op: 'get' | 'post', local: string): Promise<void> {
  try {
    await transfer({ ...once(o), op, remote: `${o.remote}/`, local });
  } catch (err) {
    if (err instanceof LftpError && err.code === 'BAD_NAME' && /path separator/.test(err.message))
      throw new LftpError('BAD_NAME', `the server does not move folders (a version from before them): ${err.message}`);
    throw err;
  }
}

/** The manifest a staging folder was filled after, if it reads. */
async function readManifest(path: string, name: string): Promise<FolderManifest | null> {
  try {
    return decodeManifest(await readFile(path), name);
  } catch {
    return null;
  }
}

export async function getFolder(given: FolderOptions): Promise<FolderResult> {
  const o = { ...given, settings: await withTokenKey(given.settings) };
  const stage = join(dirname(o.local), `.folder-${folderKey(o.remote, basename(o.local))}.lftp-tree`);
  // --no-resume: what an earlier try left is dropped, whole files too.
  if (o.settings.resume === 'restart') await rm(stage, { recursive: true, force: true });
  await mkdir(stage, { recursive: true });
  const fresh = join(stage, `${MANIFEST}-new`);
  await rm(fresh, { force: true });
  await moveManifest(o, 'get', fresh);
  let m: FolderManifest;
  try {
    m = decodeManifest(await readFile(fresh), o.remote);
  } catch (err) {
    throw new LftpError('PROTOCOL', `the server sent a bad folder manifest: ${(err as Error).message}`);
  }
  const old = new Map((await readManifest(join(stage, MANIFEST), o.remote))?.files.map((f) => [f.path, f]));
  for (const d of m.dirs) await mkdir(join(stage, d), { recursive: true });
  const todo: FolderFile[] = [];
  let held = 0;
  for (const f of m.files) {
    const path = join(stage, f.path);
    const st = await stat(path).catch(() => null);
    if (sameFile(old.get(f.path), f) && st?.isFile() && st.size === f.size) held += f.size;
    else {
      // What is there is not this file (a stale copy, a folder): it goes; nothing there, nothing to remove.
      if (st) await rm(path, { force: true, recursive: true });
      todo.push(f);
    }
  }
  await rename(fresh, join(stage, MANIFEST));
  if (held > 0) o.onLine?.(`${m.files.length - todo.length} files of "${o.remote}/" held whole from an earlier run`);
  const r = await moveFiles(o, 'get', m, todo, (f) => join(stage, f.path), held);
  await removeLeftovers(stage, m);
  const path = await freeName(o.local);
  if (path !== o.local) o.onLine?.(`${o.local} exists; saving as ${path}`);
  await rename(stage, path);
  return { ...r, path };
}

export async function postFolder(given: FolderOptions): Promise<FolderResult> {
  const o = { ...given, settings: await withTokenKey(given.settings) };
  let m: FolderManifest;
  try {
    m = o.manifest ?? (await walkFolder(o.local, o.remote));
  } catch (err) {
    throw new LocalFileError(`cannot send the folder ${o.local}: ${(err as Error).message}`);
  }
  const tmp = await mkdtemp(join(tmpdir(), 'lftp-folder-'));
  try {
    const list = join(tmp, 'manifest.json');
    await writeFile(list, encodeManifest(m));
    await moveManifest(o, 'post', list);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const r = await moveFiles(o, 'post', m, m.files, (f) => join(o.local, f.path), 0);
  return { ...r, path: o.local };
}

/** The line on stdout once every file of the folder arrived whole (or, --json, for scripts). */
export function folderResultLine(json: boolean, op: 'get' | 'post', shown: string, r: FolderResult): string {
  if (json) return JSON.stringify({ ok: true, op, name: shown, folder: true, ...r });
  const resumed = r.resumedFrom > 0 ? `, resumed at ${formatBytes(r.resumedFrom)}` : '';
  const rate = formatRate(r.size - r.resumedFrom, r.elapsedMs);
  const counts = `${r.files} file${r.files === 1 ? '' : 's'}, ${r.dirs} folder${r.dirs === 1 ? '' : 's'}`;
  return `transfer complete: ${shown} (${counts}, ${formatBytes(r.size)}${resumed}, ${rate}, sha256 ok for each file)`;
}
