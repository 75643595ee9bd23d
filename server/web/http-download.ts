/**
 * GET /files/NAME?ticket=T: a file to a browser (or curl), whole or from where a cut download stopped. Ranges
 * (RFC 9110 §14, http-ranges.ts): `Accept-Ranges: bytes`, a strong ETag and Last-Modified on every answer, 206
 * with Content-Range for one satisfiable range, 416 with `Content-Range: bytes *\/size` for one past the end,
 * and If-Range honoured so a file changed since the first part is sent whole, never spliced. A download cut
 * before its end keeps its ticket for another minute, so a browser's own resume (the same URL with Range and
 * If-Range) works; after a restart too, on what the ticket's signature proves (spend). A folder's ticket opens
 * the folder's manifest and each of its files (http-folder.ts).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { FileService } from '../files/file-service.js';
import type { Logger } from '../logger.js';

/** What a download needs of the file routes' host (http-files.ts FileRoutesHost). */
interface DownloadHost {
  readonly files: FileService;
  readonly log: Logger;
}
import { HttpError, orHttpError } from './http-error.js';
import { planRange, strongEtag, type Validators } from './http-ranges.js';
import { downloadTarget, folderMember, sendManifest, type DownloadTarget } from './http-folder.js';
import { LftpError } from '../../common/lftp/engine/errors.js';

function contentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export async function serveDownload(
  host: DownloadHost,
  req: IncomingMessage,
  res: ServerResponse,
  rawName: string,
  ticket: string | null,
): Promise<void> {
  // The ticket before anything is read on disk: without one, nothing about the files directory is revealed (a
  // folder's path is checked by the name rules first, which read nothing).
  // A browser's own resume carries Range and If-Range, and it may come before this server sees the download it
  // continues cut (a loaded worker, another worker, a link that died silently): refused, the browser would give
  // the download up for good. So it may use the ticket while that download still runs (TicketTable.consume).
  const resuming = req.headers.range !== undefined && req.headers['if-range'] !== undefined;
  const target = await downloadTarget(rawName);
  const spent = spend(host, ticket, target, resuming);
  let cut = false;
  try {
    if (target.kind === 'folder') return await sendManifest(host.files.dir, host.log, res, target.folder, spent.nick);
    const file =
      target.kind === 'member'
        ? await folderMember(host.files.dir, target)
        : await orHttpError(() => host.files.checkDownload(rawName));
    cut = !(await sendFile(host, req, res, file, spent.nick, spent.restarted));
  } finally {
    spent.ended(cut);
  }
}

/**
 * The ticket spent; or, for a resume (Range and If-Range) whose ticket an earlier run of the server issued (a
 * restart empties the ticket table; the ticket's signature is what is left, ticket-signature.ts), let through on
 * that: then the file must be unchanged since (sendFile `restarted`).
 */
function spend(
  host: DownloadHost,
  ticket: string | null,
  target: DownloadTarget,
  resuming: boolean,
): { nick: string; ended: (cut?: boolean) => void; restarted: boolean } {
  try {
    return { ...host.files.redeemTicket(ticket, 'get', target.ticketName, Date.now(), resuming), restarted: false };
  } catch (err) {
    const names = target.kind === 'member' ? [target.ticketName, `${target.folder}/`] : [target.ticketName];
    if (resuming && ticket && target.kind !== 'folder' && host.files.issuedBeforeRestart(ticket, names, Date.now()))
      return { nick: '(a ticket from before a restart)', ended: () => undefined, restarted: true };
    throw err instanceof LftpError ? HttpError.fromLftp(err) : err;
  }
}

/** Sends the file (or the part asked for); true once every byte asked for went out. */
async function sendFile(
  host: DownloadHost,
  req: IncomingMessage,
  res: ServerResponse,
  file: { path: string; name: string },
  nick: string,
  restarted: boolean,
): Promise<boolean> {
  const st = await stat(file.path, { bigint: true });
  const size = Number(st.size);
  const v: Validators = {
    etag: strongEtag(st),
    lastModified: new Date(Number(st.mtimeMs)).toUTCString(),
    mtimeMs: Number(st.mtimeMs),
  };
  if (restarted && header(req, 'if-range') !== v.etag)
    throw new HttpError(
      403,
      'AUTH',
      'this ticket is from before the server restarted: it resumes a download only of the same file, unchanged (If-Range with its ETag); ask for a new ticket',
    );
  const headers = {
    'Content-Type': 'application/octet-stream',
    'Content-Disposition': contentDisposition(file.name.slice(file.name.lastIndexOf('/') + 1)),
    'Cache-Control': 'no-store',
    'Accept-Ranges': 'bytes',
    ETag: v.etag,
    'Last-Modified': v.lastModified,
  };
  const plan = planRange(req.headers.range, header(req, 'if-range'), size, v, Date.now());
  if (plan.kind === 'unsatisfiable')
    throw new HttpError(416, 'BAD_RANGE', `the file has ${size} bytes; the range asked for starts past its end`, {
      'Content-Range': `bytes */${size}`,
    });
  const [start, end] = plan.kind === 'part' ? [plan.start, plan.end] : [0, size - 1];
  const length = end - start + 1;
  if (plan.kind === 'part')
    res.writeHead(206, {
      ...headers,
      'Content-Length': String(length),
      'Content-Range': `bytes ${start}-${end}/${size}`,
    });
  else res.writeHead(200, { ...headers, 'Content-Length': String(size) });
  const started = Date.now();
  const from = plan.kind === 'part' ? { from: start } : {};
  try {
    if (length > 0) await pipeline(createReadStream(file.path, { start, end, highWaterMark: 1 << 20 }), res);
    else res.end();
    host.log.info({ file: file.name, nick, size, ...from, ms: Date.now() - started }, 'http download complete');
    return true;
  } catch (err) {
    host.log.info({ file: file.name, nick, ...from, err: (err as Error).message }, 'http download ended early');
    res.destroy();
    return false;
  }
}

/** A header given once (a repeated one is as good as absent). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}
