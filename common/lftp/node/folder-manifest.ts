/**
 * Folders over LFTP (docs/LFTP.md, "Folders"): the names that reach into a folder, the manifest that lists
 * one, and the walk that makes it. A request's name ending in `/` is the folder itself (its manifest moves as
 * the transfer's data); `DIR/a/b` is one file in it. Every component of every path passes the file-name rule
 * (common/unicode/file-name-rule.ts: no `..`, no `.` start, no separator, no invisible character, one writing
 * system per word), so no path leaves the folder by its spelling; the walk refuses what would leave it on disk
 * (a symlink out of the tree, to a folder, or to nothing).
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, realpath, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LftpError } from '../engine/errors.js';
import { checkName, isInside } from './names.js';
import { sourceTag } from './resume-record.js';

/** Most files and folders a folder may hold, in all (a manifest of that many is a few MiB). */
export const MAX_FOLDER_ENTRIES = 100_000;
/** Most bytes of UTF-8 a path inside a folder may have, the folder's own name included. */
export const MAX_PATH_BYTES = 4096;
/** Most components a path may have, the folder's own name included. */
export const MAX_DEPTH = 64;
/** Largest manifest accepted. */
export const MAX_MANIFEST_BYTES = 32 * 2 ** 20;

export interface FolderFile {
  /** Relative to the folder, components joined by `/`. */
  path: string;
  size: number;
  /** Modification time, whole ms. */
  mtime: number;
  /** The file's source tag (resume-record.ts). */
  tag: string;
}

export interface FolderManifest {
  /** The folder's name (one component). */
  name: string;
  /** Every folder inside, relative, each after its parent. */
  dirs: string[];
  files: FolderFile[];
}

export type TreeName =
  | { kind: 'plain'; name: string }
  | { kind: 'folder'; name: string }
  | { kind: 'member'; name: string; folder: string; rel: string };

const bytesOf = (s: string) => Buffer.byteLength(s, 'utf8');

/** A relative path: components that each pass the file-name rule, in NFC, joined by `/`. BAD_NAME otherwise. */
export function checkRelPath(raw: string, depth = 0): string {
  const parts = raw.split('/');
  if (parts.length + depth > MAX_DEPTH) throw new LftpError('BAD_NAME', `path deeper than ${MAX_DEPTH} folders`);
  const path = parts.map((p) => checkName(p)).join('/');
  if (bytesOf(path) > MAX_PATH_BYTES) throw new LftpError('BAD_NAME', `path longer than ${MAX_PATH_BYTES} bytes`);
  return path;
}

/** What a request's name asks for: a plain file, a folder (`DIR/`), or a file in one (`DIR/a/b`). */
export function parseTreeName(raw: unknown): TreeName {
  if (typeof raw !== 'string' || !raw.includes('/')) return { kind: 'plain', name: checkName(raw) };
  if (raw.endsWith('/') && raw.indexOf('/') === raw.length - 1)
    return { kind: 'folder', name: checkName(raw.slice(0, -1)) };
  const cut = raw.indexOf('/');
  const folder = checkName(raw.slice(0, cut));
  const rel = checkRelPath(raw.slice(cut + 1), 1);
  return { kind: 'member', name: `${folder}/${rel}`, folder, rel };
}

function whole(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** The manifest as it crosses: UTF-8 JSON `{"v":1,"name","dirs":[...],"files":[{"path","size","mtime","tag"}]}`. */
export function encodeManifest(m: FolderManifest): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, name: m.name, dirs: m.dirs, files: m.files }), 'utf8');
}

/**
 * A manifest received, checked whole before anything is made of it: every path by the rule, every folder after
 * its parent, every file in a listed folder, no path twice (after NFC), the limits. BAD_REQUEST otherwise.
 */
export function decodeManifest(buf: Buffer, name: string): FolderManifest {
  const bad = (why: string) => new LftpError('BAD_REQUEST', `folder manifest: ${why}`);
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw bad('not JSON');
  }
  if (typeof o !== 'object' || o === null || o['v'] !== 1) throw bad('not version 1');
  if (o['name'] !== name) throw bad(`it names ${JSON.stringify(o['name'])}, not ${JSON.stringify(name)}`);
  const { dirs, files } = o;
  if (!Array.isArray(dirs) || !Array.isArray(files)) throw bad('dirs and files must be lists');
  if (dirs.length + files.length > MAX_FOLDER_ENTRIES) throw bad(`over ${MAX_FOLDER_ENTRIES} entries`);
  const seen = new Set<string>(['']);
  const parentOf = (p: string) => p.slice(0, Math.max(0, p.lastIndexOf('/')));
  const place = (raw: unknown): string => {
    if (typeof raw !== 'string') throw bad('a path is not a string');
    const path = checkRelPath(raw, 1);
    if (seen.has(path)) throw bad(`${JSON.stringify(path)} is listed twice`);
    if (!seen.has(parentOf(path))) throw bad(`${JSON.stringify(path)} is in a folder not listed before it`);
    return path;
  };
  const outDirs = dirs.map((d) => {
    const path = place(d);
    seen.add(path);
    return path;
  });
  const outFiles = files.map((f: unknown) => {
    const e = f as Record<string, unknown>;
    if (typeof e !== 'object' || e === null) throw bad('a file entry is not an object');
    const path = place(e['path']);
    const { size, mtime, tag } = e;
    if (!whole(size) || !whole(mtime) || typeof tag !== 'string' || !/^[A-Za-z0-9_-]{22}$/.test(tag))
      throw bad(`${JSON.stringify(path)}: size, mtime or tag missing or malformed`);
    seen.add(path);
    return { path, size, mtime, tag };
  });
  return { name, dirs: outDirs, files: outFiles };
}

/** The bytes and files a manifest lists. */
export function folderTotals(m: FolderManifest): { bytes: number; files: number; dirs: number } {
  return { bytes: m.files.reduce((n, f) => n + f.size, 0), files: m.files.length, dirs: m.dirs.length };
}

/** Two entries of one path that describe the same source (so what is held of one serves the other). */
export function sameFile(a: FolderFile | undefined, b: FolderFile | undefined): boolean {
  return a !== undefined && b !== undefined && a.size === b.size && a.mtime === b.mtime && a.tag === b.tag;
}

/**
 * Everything in a staging folder that is none of the manifest's: dot files only, since no name in a manifest
 * starts with a dot (its own manifest; a partial and its record left by a kill between the link of a finished
 * file and their removal; a temporary upload). Removed before the folder is put in place, so none shows in it.
 */
export async function removeLeftovers(stage: string, m: FolderManifest): Promise<void> {
  for (const dir of ['', ...m.dirs])
    for (const name of await readdir(join(stage, dir)).catch(() => [] as string[]))
      if (name.startsWith('.')) await rm(join(stage, dir, name), { force: true, recursive: true });
}

/** A short key of any text, for the names of temporary folders (32 hex digits). */
export function folderKey(...parts: string[]): string {
  return createHash('sha256')
    .update(`lftp folder\0${parts.join('\0')}`)
    .digest('hex')
    .slice(0, 32);
}

/**
 * The manifest of the folder at `root`, called `name`: folders and regular files, each name checked by the rule.
 * A symlink to a regular file inside the tree is sent as that file; any other symlink (out of the tree, to a
 * folder, dangling) or special file refuses the whole folder with BAD_NAME naming it.
 */
export async function walkFolder(root: string, name: string): Promise<FolderManifest> {
  const real = await realpath(root);
  const m: FolderManifest = { name, dirs: [], files: [] };
  const visit = async (rel: string, depth: number): Promise<void> => {
    for (const entry of (await readdir(join(root, rel))).sort()) {
      const child = checkRelPath(rel === '' ? entry : `${rel}/${entry}`, 1);
      const shown = JSON.stringify(`${name}/${child}`);
      if (m.dirs.length + m.files.length >= MAX_FOLDER_ENTRIES)
        throw new LftpError('TOO_LARGE', `folder ${JSON.stringify(name)} holds over ${MAX_FOLDER_ENTRIES} entries`);
      const path = join(root, child);
      let st = await lstat(path);
      if (st.isSymbolicLink()) {
        const target = await realpath(path).catch(() => null);
        if (target === null || !isInside(real, target))
          throw new LftpError('BAD_NAME', `${shown} is a symlink that leads outside the folder`);
        st = await stat(target);
        if (!st.isFile()) throw new LftpError('BAD_NAME', `${shown} is a symlink to a folder (not followed)`);
      }
      if (st.isDirectory()) {
        m.dirs.push(child);
        await visit(child, depth + 1);
      } else if (st.isFile()) {
        const mtime = Math.floor(st.mtimeMs);
        m.files.push({ path: child, size: st.size, mtime, tag: await sourceTag(path, st.size, mtime) });
      } else throw new LftpError('BAD_NAME', `${shown} is neither a regular file nor a folder`);
    }
  };
  await visit('', 1);
  return m;
}
