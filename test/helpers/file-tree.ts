/** Folder trees in tests: two trees hold the same folders and files when their listings are equal. */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every path under dir (folders end in /) with each file's SHA-256, in name order. */
export function tree(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const path = rel === '' ? name : `${rel}/${name}`;
    if (statSync(join(dir, path)).isDirectory()) out.push(`${path}/`, ...tree(dir, path));
    else
      out.push(
        `${path} ${createHash('sha256')
          .update(readFileSync(join(dir, path)))
          .digest('hex')}`,
      );
  }
  return out;
}
