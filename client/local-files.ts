/**
 * Files on this machine: where downloads land (the /get destination rule, never overwriting a file that is
 * there), and the file a post sends, checked before anything is sent.
 */
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { extname, isAbsolute, join } from 'node:path';
import { HeartbeatChatError } from '../common/errors.js';

/** A file on this machine that cannot be used: this machine's failure (exit 1), not the server's refusal (4). */
export class LocalFileError extends HeartbeatChatError {
  constructor(message: string) {
    super('LOCAL_FILE', message);
  }
}

/** The size of a file to post: it exists, is a regular file and can be read; else a LocalFileError saying which. */
export async function postSource(path: string): Promise<number> {
  const why = (err: NodeJS.ErrnoException) =>
    err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : (err.code ?? err.message);
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new LocalFileError(`cannot read ${path}: ${why(err)}`);
  });
  if (!st.isFile()) throw new LocalFileError(`cannot send ${path}: not a regular file`);
  await access(path, constants.R_OK).catch((err: NodeJS.ErrnoException) => {
    throw new LocalFileError(`cannot read ${path}: ${why(err)}`);
  });
  return st.size;
}

/**
 * Where /get NAME [DEST] saves: into DEST when it is a directory (or ends
 * with a slash, created if need be), as DEST otherwise; into the downloads
 * directory without DEST. Relative DESTs are under the downloads directory.
 */
export async function destinationFor(downloads: string, name: string, dest: string | undefined): Promise<string> {
  if (dest === undefined || dest === '') return join(downloads, name);
  const target = isAbsolute(dest) ? dest : join(downloads, dest);
  if (/[/\\]$/.test(dest)) {
    await mkdir(target, { recursive: true });
    return join(target, name);
  }
  const st = await stat(target).catch(() => null);
  return st?.isDirectory() ? join(target, name) : target;
}

/** path, or "stem (1).ext", "stem (2).ext", ... whichever does not exist yet. */
export async function freeName(path: string): Promise<string> {
  const exists = (p: string) =>
    stat(p).then(
      () => true,
      () => false,
    );
  if (!(await exists(path))) return path;
  const ext = extname(path);
  const stem = path.slice(0, path.length - ext.length);
  for (let n = 1; n < 10_000; n++) {
    const candidate = `${stem} (${n})${ext}`;
    if (!(await exists(candidate))) return candidate;
  }
  return `${stem} (${Date.now()})${ext}`;
}
