/** Where downloads land on this machine: the /get destination rule, and never overwriting a file that is there. */
import { mkdir, stat } from 'node:fs/promises';
import { extname, isAbsolute, join } from 'node:path';

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
