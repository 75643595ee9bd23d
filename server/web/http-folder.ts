/**
 * A folder over HTTP (docs/PROTOCOL.md, "Folders over HTTP"): one folder ticket (`get DIR/`, as LFTP's) opens
 * `GET /files/DIR/` (the folder's manifest, LFTP's JSON) and `GET /files/DIR/p1/…/f` (each file, with ranges),
 * as many requests as the folder has files, while the ticket lives. The paths are checked by LFTP's rules and
 * served by its code (folder-manifest.ts parseTreeName, folder-disk.ts servedManifest and servedMember): the
 * file-name rule for every component (no `..`, no empty or absolute path, nothing invisible), and a real path
 * inside the folder's (no symlink followed out of the tree).
 */
import type { ServerResponse } from 'node:http';
import { encodeManifest, folderTotals, parseTreeName } from '../../common/lftp/node/folder-manifest.js';
import { servedManifest, servedMember } from '../files/folder-disk.js';
import type { Logger } from '../logger.js';
import { orHttpError } from './http-error.js';

/** What a download's name asks for: a plain file, a folder's manifest, or a file in a folder. */
export type DownloadTarget =
  | { kind: 'plain'; ticketName: string }
  | { kind: 'folder'; ticketName: string; folder: string }
  | { kind: 'member'; ticketName: string; folder: string; rel: string };

/**
 * The target of GET /files/NAME, checked by the name rules before the ticket (they read nothing on disk, so a
 * request without a ticket learns nothing of the files directory): BAD_NAME (400) for a path that breaks them.
 * `ticketName` is what the ticket is checked against, in NFC as tickets are issued.
 */
export async function downloadTarget(rawName: string): Promise<DownloadTarget> {
  if (!rawName.includes('/')) return { kind: 'plain', ticketName: rawName };
  const t = await orHttpError(() => parseTreeName(rawName));
  if (t.kind === 'folder') return { kind: 'folder', ticketName: `${t.name}/`, folder: t.name };
  if (t.kind === 'member') return { kind: 'member', ticketName: t.name, folder: t.folder, rel: t.rel };
  return { kind: 'plain', ticketName: t.name };
}

/** A file of a folder, its real path confined to the folder's. Throws HttpError (400 BAD_NAME, 404 NOT_FOUND). */
export function folderMember(
  dir: string,
  t: Extract<DownloadTarget, { kind: 'member' }>,
): Promise<{ path: string; size: number; name: string }> {
  return orHttpError(() => servedMember(dir, t.folder, t.rel, t.ticketName));
}

/** The folder's manifest as JSON: every folder inside (empty ones too) and every file's path, size and mtime. */
export async function sendManifest(
  dir: string,
  log: Logger,
  res: ServerResponse,
  folder: string,
  nick: string,
): Promise<void> {
  const m = await orHttpError(() => servedManifest(dir, folder));
  const body = encodeManifest(m);
  res.writeHead(200, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(body.length),
    'Cache-Control': 'no-store',
  });
  res.end(body);
  log.info({ folder: `${folder}/`, nick, ...folderTotals(m) }, 'http folder manifest sent');
}
