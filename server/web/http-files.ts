/**
 * File transfer for browsers, which cannot speak UDP: GET and POST on
 * /files/NAME, each authorised by a one-time ticket the user's chat session
 * obtained (TICKET_REQUEST), exactly as for LFTP. Uploads are streamed to a
 * temporary file and linked into place only when complete, with the same name
 * rules and size limit as LFTP.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { finished } from 'node:stream';
import { ioFailure } from '../../common/lftp/node/io-failure.js';
import { LftpError } from '../../common/lftp/engine/errors.js';
import type { Logger } from '../logger.js';
import type { FileService } from '../files/file-service.js';
import { HttpError, sendJson, statusFor } from './http-error.js';
import { originAllowed } from './host-check.js';
import { receiveBody } from './upload-body.js';

export interface FileRoutesHost {
  readonly files: FileService;
  readonly log: Logger;
  /** An upload was stored: tell the room, as for LFTP. */
  stored(info: { name: string; size: number; nick: string }): void;
}

/** The file service's answer, or its refusal as the HTTP error it maps to. */
async function orHttpError<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw err instanceof LftpError ? HttpError.fromLftp(err) : err;
  }
}

function contentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** GET or POST /files/NAME?ticket=T; the name as it is in the URL, percent-encoded. */
export async function fileRoute(
  host: FileRoutesHost,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  let name: string;
  try {
    name = decodeURIComponent(url.pathname.slice('/files/'.length));
  } catch {
    throw new HttpError(400, 'BAD_NAME', 'the file name in the URL is not valid percent-encoding');
  }
  const ticket = url.searchParams.get('ticket');
  // Not HEAD: it would spend the one-time ticket without delivering anything.
  if (req.method === 'GET') return serveDownload(host, res, name, ticket);
  if (req.method === 'POST') {
    if (!originAllowed(req))
      throw new HttpError(403, 'ORIGIN', 'uploads are accepted only from this server’s own page');
    return receiveUpload(host, req, res, name, ticket);
  }
  throw new HttpError(405, 'METHOD', `${req.method} is not supported on /files/ (GET, POST)`);
}

async function serveDownload(
  host: FileRoutesHost,
  res: ServerResponse,
  rawName: string,
  ticket: string | null,
): Promise<void> {
  // The ticket first: without one, nothing about the files directory is revealed.
  const spent = await orHttpError(() => host.files.redeemTicket(ticket, 'get', rawName, Date.now()));
  try {
    await sendFile(host, res, rawName, spent.nick);
  } finally {
    spent.ended();
  }
}

async function sendFile(host: FileRoutesHost, res: ServerResponse, rawName: string, nick: string): Promise<void> {
  const file = await orHttpError(() => host.files.checkDownload(rawName));
  res.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': String(file.size),
    'Content-Disposition': contentDisposition(file.name),
    'Cache-Control': 'no-store',
  });
  const started = Date.now();
  try {
    await pipeline(createReadStream(file.path, { highWaterMark: 1 << 20 }), res);
    host.log.info({ file: file.name, nick, size: file.size, ms: Date.now() - started }, 'http download complete');
  } catch (err) {
    host.log.info({ file: file.name, nick, err: (err as Error).message }, 'http download ended early');
    res.destroy();
  }
}

async function receiveUpload(
  host: FileRoutesHost,
  req: IncomingMessage,
  res: ServerResponse,
  rawName: string,
  ticket: string | null,
): Promise<void> {
  // Before the first await: the whole body, and the client's close, may arrive while the ticket and the name
  // are checked. Paused, the body waits in the stream; the end is watched from here on, so it cannot be missed.
  req.pause();
  const ended = finishedOnce(req);
  try {
    await storeUpload(host, req, res, rawName, ticket, ended);
  } catch (err) {
    const e = err instanceof HttpError ? err : null;
    host.log.info(
      { file: rawName.slice(0, 255), code: e?.code ?? 'INTERNAL' },
      `http upload refused: ${(err as Error).message}`,
    );
    throw err;
  }
}

/** Settles once the request's body has been read to its end (true) or the request died first (false). */
function finishedOnce(req: IncomingMessage): Promise<boolean> {
  return new Promise((resolve) => finished(req, { readable: true, writable: false }, (err) => resolve(!err)));
}

async function storeUpload(
  host: FileRoutesHost,
  req: IncomingMessage,
  res: ServerResponse,
  rawName: string,
  ticket: string | null,
  ended: Promise<boolean>,
): Promise<void> {
  const lengthHeader = req.headers['content-length'];
  if (lengthHeader === undefined) throw new HttpError(411, 'LENGTH_REQUIRED', 'an upload needs a Content-Length');
  if (!/^\d{1,16}$/.test(lengthHeader)) throw new HttpError(400, 'BAD_REQUEST', 'Content-Length is not a number');
  const size = Number(lengthHeader);
  const spent = await orHttpError(() => host.files.redeemTicket(ticket, 'post', rawName, Date.now()));
  try {
    const target = await orHttpError(() => host.files.checkUpload(rawName, size));
    const release = await orHttpError(() => host.files.reserveUpload(spent.nick, size));
    try {
      await writeUpload(host, req, res, target, spent.nick, ended);
    } catch (err) {
      release();
      throw err;
    }
  } finally {
    spent.ended();
  }
}

/** The body into a sink, then into place; throws HttpError when it cannot be stored (the caller answers). */
async function writeUpload(
  host: FileRoutesHost,
  req: IncomingMessage,
  res: ServerResponse,
  target: { path: string; name: string; size: number },
  nick: string,
  ended: Promise<boolean>,
): Promise<void> {
  const { size } = target;
  const started = Date.now();
  const { sink, complete, received, cut, diskFailure } = await orHttpError(() => receiveBody(req, target, ended));
  if (diskFailure) {
    await sink.discard();
    if (req.isPaused()) req.resume();
    const e = ioFailure(`cannot write ${JSON.stringify(target.name)}`, diskFailure);
    host.log.error(
      { file: target.name, nick, received, size, code: e.code, err: diskFailure.message },
      'http upload failed: the disk refused it',
    );
    throw HttpError.fromLftp(e);
  }
  if (!complete || cut) {
    await sink.discard();
    const why = cut?.message ?? `the upload stopped after ${received} of ${size} bytes`;
    host.log.warn({ file: target.name, nick, received, size }, `http upload failed: ${why}`);
    throw new HttpError(400, 'INCOMPLETE', why);
  }
  const outcome = await sink.finish({ size });
  if (!outcome.ok) {
    host.log.warn({ file: target.name, nick, code: outcome.code }, `http upload not stored: ${outcome.message}`);
    throw new HttpError(statusFor(outcome.code), outcome.code, outcome.message);
  }
  host.log.info(
    { file: target.name, nick, size, sha256: outcome.sha256, ms: Date.now() - started },
    'http upload stored',
  );
  sendJson(res, 201, { name: target.name, size, sha256: outcome.sha256 });
  host.stored({ name: target.name, size, nick });
}
