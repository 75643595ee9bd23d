/**
 * A folder fetched over the chat server's HTTP side with one folder ticket (docs/PROTOCOL.md, "Folders over
 * HTTP"), the way a script does it: the manifest, then a curl config (`curl -K`) that lists every file's URL and
 * where it goes, so that one curl process fetches them all over one kept-alive connection.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FolderManifest } from '../../common/lftp/node/folder-manifest.js';

/** The URL of `path` (`""`: the folder's manifest) in the served folder `folder`, each component percent-encoded. */
export function folderUrl(base: string, folder: string, path: string, ticket: string): string {
  const rel = path === '' ? '' : path.split('/').map(encodeURIComponent).join('/');
  return `${base}/files/${encodeURIComponent(folder)}/${rel}?ticket=${encodeURIComponent(ticket)}`;
}

/** A curl config string: quoted, with `\` and `"` escaped (curl's config syntax). */
const quoted = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/**
 * The folder's folders made under `into/<folder>` (empty ones too: curl makes only those that hold a file) and the
 * curl config that fetches each file into place.
 */
export function curlConfig(base: string, m: FolderManifest, ticket: string, into: string): string {
  for (const d of ['', ...m.dirs]) mkdirSync(join(into, m.name, d), { recursive: true });
  return m.files
    .map(
      (f) =>
        `url = ${quoted(folderUrl(base, m.name, f.path, ticket))}\noutput = ${quoted(join(into, m.name, f.path))}\n`,
    )
    .join('');
}
