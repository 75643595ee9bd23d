/**
 * Folders on the server (docs/LFTP.md, "Folders"). A get of `DIR/` sends the folder's manifest (made by walking
 * it: a symlink out of the tree refuses the folder), a get of `DIR/a/b` one file whose real path is inside the
 * folder. A post of `DIR/` receives the manifest into a hidden staging folder beside the others
 * (`.folder-K.lftp-tree`, K from the name), checked whole before anything is made of it; each post of `DIR/a/b`
 * then writes that file of the manifest into the staging folder (resumable as any post), and the END of the last
 * one is acknowledged only once the whole folder has been renamed into place: no folder appears half made.
 * A folder posted again after a cut keeps what its staging folder holds of the files the new manifest lists
 * unchanged; a file held whole is answered with from = size (no data crosses; the END's SHA-256 proves it).
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, rename, rm, stat, statfs, unlink, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Op } from '../../common/lftp/engine/connection.js';
import { LftpError } from '../../common/lftp/engine/errors.js';
import { ioFailure } from '../../common/lftp/node/io-failure.js';
import { PART_SUFFIX, type SinkOutcome } from '../../common/lftp/node/file-sink.js';
import { removeResume, resumePaths, writeResumeRecord } from '../../common/lftp/node/resume-record.js';
import {
  MAX_MANIFEST_BYTES,
  decodeManifest,
  encodeManifest,
  folderKey,
  folderTotals,
  parseTreeName,
  removeLeftovers,
  sameFile,
  type FolderFile,
  type FolderManifest,
} from '../../common/lftp/node/folder-manifest.js';
import { formatBytes } from '../../common/units.js';
import type { FileService } from './file-service.js';
import { resumeKey } from './lftp-resume.js';
import { STAGING_PREFIX, STAGING_SUFFIX, servedManifest, servedMember } from './folder-disk.js';
import { FolderUploaders } from './folder-uploaders.js';

/** The manifest a staging folder is being filled after (removed before the folder is put in place). */
const MANIFEST = '.lftp-manifest';

/** What a folder request adds to a checked file: work after it is stored, and clean-up once it ends. */
export interface FolderHooks {
  afterStore?: (stored: SinkOutcome) => Promise<SinkOutcome>;
  cleanup?: () => void;
}

export interface FolderRequest {
  path: string;
  name: string;
  size: number;
  folder: FolderHooks;
}

/** A folder being received: its manifest, its files by path, and those not stored yet. */
interface Staged {
  stage: string;
  /** The manifest file's inode and mtime: another worker may have taken a new manifest since (load). */
  version: string;
  manifest: FolderManifest;
  byPath: Map<string, FolderFile>;
  missing: Set<string>;
}

const failure = (err: unknown): SinkOutcome => {
  const e = ioFailure('cannot store the folder', err);
  return { ok: false, code: e.code, message: e.message };
};

export class ServedFolders {
  private readonly staged = new Map<string, Staged>();
  private readonly uploaders = new FolderUploaders();

  constructor(
    private readonly files: FileService,
    /** A folder was put in place: announced once, for the whole folder (the uploader, its bytes and files). */
    private readonly committed: (info: { name: string; size: number; files: number; owner?: string }) => void = () =>
      undefined,
  ) {}

  private stagingOf(name: string): string {
    return join(this.files.dir, `${STAGING_PREFIX}${folderKey(name)}${STAGING_SUFFIX}`);
  }

  /** A request for a folder or a file in one, checked; null for a plain name (the file service's rule). */
  async check(op: Op, rawName: unknown, size: number | undefined, owner?: string, address?: string) {
    const t = parseTreeName(typeof rawName === 'string' && rawName.includes('/') ? rawName : 'x');
    if (t.kind === 'plain') return null;
    if (op === 'get') return t.kind === 'folder' ? this.listForGet(t.name) : this.memberForGet(t.folder, t.rel, t.name);
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
      throw new LftpError('BAD_REQUEST', 'an upload needs the file size');
    if (owner === undefined) this.uploaders.claim(t.kind === 'folder' ? t.name : t.folder, address, Date.now());
    return t.kind === 'folder'
      ? this.manifestForPost(t.name, size, owner)
      : this.memberForPost(t.folder, t.rel, t.name, size, owner);
  }

  private async listForGet(name: string): Promise<FolderRequest> {
    const buf = encodeManifest(await servedManifest(this.files.dir, name));
    const path = join(this.files.dir, `.folder-list-${randomBytes(8).toString('hex')}${PART_SUFFIX}`);
    await writeFile(path, buf, { mode: 0o600 });
    return { path, name: `${name}/`, size: buf.length, folder: { cleanup: () => void unlink(path).catch(() => 0) } };
  }

  private async memberForGet(folder: string, rel: string, name: string): Promise<FolderRequest> {
    return { ...(await servedMember(this.files.dir, folder, rel, name)), folder: {} };
  }

  private async manifestForPost(name: string, size: number, owner?: string): Promise<FolderRequest> {
    if (size > MAX_MANIFEST_BYTES)
      throw new LftpError(
        'TOO_LARGE',
        `a folder manifest of ${formatBytes(size)} is over ${formatBytes(MAX_MANIFEST_BYTES)}`,
      );
    await this.files.checkUpload(name, size);
    const stage = this.stagingOf(name);
    await mkdir(stage, { recursive: true });
    const path = join(stage, `.manifest-${randomBytes(8).toString('hex')}`);
    return { path, name: `${name}/`, size, folder: { afterStore: (o) => this.manifestStored(name, stage, o, owner) } };
  }

  /** The manifest arrived whole: checked, what the staging folder holds of changed files dropped, folders made. */
  private async manifestStored(name: string, stage: string, stored: SinkOutcome, owner?: string): Promise<SinkOutcome> {
    if (!stored.ok) return stored;
    try {
      const m = decodeManifest(await readFile(stored.path), name);
      await this.checkRoom(name, m);
      const old = await readManifest(stage, name);
      const now = new Map(m.files.map((f) => [f.path, f]));
      for (const f of old?.files ?? []) {
        if (sameFile(f, now.get(f.path))) continue;
        await rm(join(stage, f.path), { force: true, recursive: true });
        await removeResume(dirname(join(stage, f.path)), resumeKey(`${name}/${f.path}`, owner));
      }
      for (const d of m.dirs) await mkdir(join(stage, d), { recursive: true });
      await rename(stored.path, join(stage, MANIFEST));
      const s = await this.load(name, m);
      if (s.missing.size === 0) return (await this.commit(name, s, owner)) ?? stored;
      return stored;
    } catch (err) {
      await unlink(stored.path).catch(() => undefined);
      return failure(err);
    }
  }

  /** Each file within the upload limit, and the whole folder on the disk with the space to keep free. */
  private async checkRoom(name: string, m: FolderManifest): Promise<void> {
    const { maxFileSize, keepFree } = this.files.limits;
    const big = m.files.find((f) => f.size > maxFileSize);
    if (big)
      throw new LftpError(
        'TOO_LARGE',
        `${JSON.stringify(`${name}/${big.path}`)} is over the upload limit of ${formatBytes(maxFileSize)}`,
      );
    const { bytes } = folderTotals(m);
    const fs = await statfs(this.files.dir);
    const free = fs.bavail * fs.bsize;
    if (bytes + keepFree > free)
      throw new LftpError(
        'NO_SPACE',
        `the server has ${formatBytes(Math.max(0, free - keepFree))} free for uploads; the folder's ${formatBytes(bytes)} does not fit`,
      );
  }

  /** The folder being received: from memory, else from its staging folder's manifest (after a restart). */
  private async load(name: string, fresh?: FolderManifest): Promise<Staged> {
    const stage = this.stagingOf(name);
    const st = await stat(join(stage, MANIFEST)).catch(() => null);
    const version = st ? `${st.ino}:${st.mtimeMs}` : '';
    const known = this.staged.get(name);
    if (known && !fresh && known.version === version) return known;
    const manifest = fresh ?? (await readManifest(stage, name));
    if (!manifest)
      throw new LftpError(
        'BAD_REQUEST',
        `no upload of the folder ${JSON.stringify(name)} is under way: post "${name}/" first`,
      );
    const missing = new Set<string>();
    for (const f of manifest.files) {
      const st = await stat(join(stage, f.path)).catch(() => null);
      if (!st?.isFile() || st.size !== f.size) missing.add(f.path);
    }
    const s = { stage, version, manifest, byPath: new Map(manifest.files.map((f) => [f.path, f])), missing };
    this.staged.set(name, s);
    return s;
  }

  private async memberForPost(
    folder: string,
    rel: string,
    name: string,
    size: number,
    owner?: string,
  ): Promise<FolderRequest> {
    const s = await this.load(folder);
    const entry = s.byPath.get(rel);
    if (!entry || entry.size !== size)
      throw new LftpError('BAD_REQUEST', `${JSON.stringify(name)} of ${size} bytes is not in the folder's manifest`);
    const now = new Date();
    await utimes(s.stage, now, now).catch(() => undefined);
    const path = join(s.stage, rel);
    if (!s.missing.has(rel)) await this.adopt(s, rel, name, entry, owner);
    await lstat(path).then(
      () => {
        throw new LftpError('EXISTS', `${JSON.stringify(name)} is being received already`);
      },
      () => undefined,
    );
    const afterStore = async (stored: SinkOutcome): Promise<SinkOutcome> => {
      s.missing.delete(rel);
      if (!(await allStored(s)) || this.staged.get(folder) !== s) return stored;
      return (await this.commit(folder, s, owner)) ?? stored;
    };
    return { path, name, size, folder: { afterStore } };
  }

  /**
   * A file the staging folder holds whole, asked for again (the client was cut before it learned so): made a
   * whole partial again, so that the resume answer is from = size and the END proves it.
   */
  private async adopt(s: Staged, rel: string, name: string, entry: FolderFile, owner?: string): Promise<void> {
    const key = resumeKey(name, owner);
    const path = join(s.stage, rel);
    const dir = dirname(path);
    s.missing.add(rel);
    await rename(path, resumePaths(dir, key).held).catch(() => undefined);
    const identity = { name, size: entry.size, mtimeMs: entry.mtime, tag: entry.tag };
    await writeResumeRecord(dir, key, { ...identity, ranges: [[0, entry.size]] });
  }

  /** Every file is stored: the folder goes into place under its name, or EXISTS if the name was taken meanwhile. */
  private async commit(name: string, s: Staged, owner?: string): Promise<SinkOutcome | null> {
    this.staged.delete(name);
    this.uploaders.release(name);
    try {
      await removeLeftovers(s.stage, s.manifest);
      const final = join(this.files.dir, name);
      const taken = await lstat(final).then(
        () => true,
        () => false,
      );
      if (taken)
        return { ok: false, code: 'EXISTS', message: `${JSON.stringify(name)} appeared meanwhile; not overwritten` };
      await rename(s.stage, final);
      const { bytes, files } = folderTotals(s.manifest);
      this.committed({ name: `${name}/`, size: bytes, files, ...(owner !== undefined ? { owner } : {}) });
      return null;
    } catch (err) {
      return failure(err);
    }
  }
}

/**
 * Whether every file is stored. Each worker of a chat server takes the transfers the kernel gives it, so files
 * this one did not receive are looked for on disk: in manifest order, up to the first still missing (files come
 * in that order, so this costs about one stat per file).
 */
async function allStored(s: Staged): Promise<boolean> {
  for (const path of s.missing) {
    const st = await stat(join(s.stage, path)).catch(() => null);
    if (!st?.isFile() || st.size !== s.byPath.get(path)?.size) return false;
    s.missing.delete(path);
  }
  return true;
}

async function readManifest(stage: string, name: string): Promise<FolderManifest | null> {
  try {
    return decodeManifest(await readFile(join(stage, MANIFEST)), name);
  } catch {
    return null;
  }
}
