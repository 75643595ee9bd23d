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
import { FileSink } from '../../common/lftp/node/file-sink.js';
import { ioFailure } from '../../common/lftp/node/io-failure.js';
import { LftpError, type LftpErrorCode } from '../../common/lftp/engine/errors.js';
import type { Logger } from '../logger.js';
import type { FileService } from './file-service.js';

export interface FileRoutesHost {
  readonly files: FileService;
  readonly log: Logger;
  /** An upload was stored: tell the room, as for LFTP. */
  stored(info: { name: string; size: number; nick: string }): void;
}

/** An HTTP-level refusal: status code, a stable code string, a message for people. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Headers the answer carries (Retry-After, WWW-Authenticate). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }

  static fromLftp(err: LftpError): HttpError {
    return new HttpError(STATUS_FOR[err.code] ?? 500, err.code, err.message);
  }
}

const STATUS_FOR: Partial<Record<LftpErrorCode, number>> = {
  BAD_REQUEST: 400,
  BAD_NAME: 400,
  NOT_FOUND: 404,
  EXISTS: 409,
  AUTH: 403,
  TOO_LARGE: 413,
  BUSY: 503,
  IO_ERROR: 500,
  NO_SPACE: 507,
};

/** An upload that sends nothing for this long is abandoned. */
const UPLOAD_IDLE_MS = 30_000;
/** Bytes waiting for the disk before the request is paused (backpressure on the browser). */
const UPLOAD_BACKLOG_BYTES = 4 << 20;

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

export async function serveDownload(
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

export async function receiveUpload(
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
  // A disk that fails (full, read-only) ends the upload with an answer: the rest of the body is read and dropped
  // (lingering, web-server.ts), where cutting the connection would leave the client with a reset and no reason.
  let diskFailure: Error | null = null;
  let cut: Error | null = null;
  let stop: () => void = () => undefined;
  const sink = await orHttpError(async () => {
    try {
      return await FileSink.create(
        target.path,
        () => {
          if (sink.backlogBytes < UPLOAD_BACKLOG_BYTES / 2 && req.isPaused()) req.resume();
        },
        (err) => {
          diskFailure ??= err;
          stop();
        },
      );
    } catch (err) {
      throw ioFailure(`cannot create ${JSON.stringify(target.name)}`, err);
    }
  });
  let received = 0;
  let index = 0;
  const complete = await new Promise<boolean>((resolve) => {
    stop = () => resolve(false);
    req.setTimeout(UPLOAD_IDLE_MS, () => {
      cut ??= new Error(`nothing received for ${UPLOAD_IDLE_MS / 1000}s`);
      req.destroy();
    });
    req.on('data', (chunk: Buffer) => {
      if (diskFailure) return;
      received += chunk.length;
      if (received > size) {
        cut ??= new Error(`more than the announced ${size} bytes`);
        req.destroy();
        return;
      }
      sink.push(index++, chunk);
      if (sink.backlogBytes >= UPLOAD_BACKLOG_BYTES) req.pause();
    });
    void ended.then((whole) => resolve(whole && received === size));
    req.resume();
  });
  if (diskFailure) {
    await sink.discard();
    if (req.isPaused()) req.resume();
    const e = ioFailure(`cannot write ${JSON.stringify(target.name)}`, diskFailure);
    host.log.error(
      { file: target.name, nick, received, size, code: e.code, err: (diskFailure as Error).message },
      'http upload failed: the disk refused it',
    );
    throw HttpError.fromLftp(e);
  }
  if (!complete || cut) {
    await sink.discard();
    const why = (cut as Error | null)?.message ?? `the upload stopped after ${received} of ${size} bytes`;
    host.log.warn({ file: target.name, nick, received, size }, `http upload failed: ${why}`);
    throw new HttpError(400, 'INCOMPLETE', why);
  }
  const outcome = await sink.finish({ size });
  if (!outcome.ok) {
    host.log.warn({ file: target.name, nick, code: outcome.code }, `http upload not stored: ${outcome.message}`);
    throw new HttpError(STATUS_FOR[outcome.code] ?? 500, outcome.code, outcome.message);
  }
  host.log.info(
    { file: target.name, nick, size, sha256: outcome.sha256, ms: Date.now() - started },
    'http upload stored',
  );
  sendJson(res, 201, { name: target.name, size, sha256: outcome.sha256 });
  host.stored({ name: target.name, size, nick });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: HttpError, headers: Record<string, string> = {}): void {
  sendJson(res, err.status, { code: err.code, message: err.message }, headers);
}
