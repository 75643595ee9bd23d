/**
 * File transfer for browsers, which cannot speak UDP: GET, HEAD and POST on
 * /files/NAME, each authorised by a one-time ticket the user's chat session
 * obtained (TICKET_REQUEST), exactly as for LFTP. Downloads answer ranges
 * (http-download.ts). Uploads are streamed to a temporary file and linked into
 * place only when complete, with the same name rules and size limit as LFTP; one
 * that says what it sends (resumable-upload.ts) keeps what arrived when it is cut,
 * as an LFTP post does, and continues from there.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { finished } from 'node:stream';
import { ioFailure } from '../../common/lftp/node/io-failure.js';
import { LftpError } from '../../common/lftp/engine/errors.js';
import { FileSink } from '../../common/lftp/node/file-sink.js';
import type { Logger } from '../logger.js';
import type { FileService } from '../files/file-service.js';
import { HttpError, orHttpError, sendJson, statusFor } from './http-error.js';
import { serveDownload } from './http-download.js';
import { heldBytes, planPartial, reprDigest, uploadBusy, uploadSource } from './resumable-upload.js';
import { originAllowed } from './host-check.js';
import { receiveBody, type OpenSink } from './upload-body.js';

export interface FileRoutesHost {
  readonly files: FileService;
  readonly log: Logger;
  /** An upload was stored: tell the room, as for LFTP. */
  stored(info: { name: string; size: number; nick: string }): void;
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
    name = decodeURIComponent(rawPath(req, url).slice('/files/'.length));
  } catch {
    throw new HttpError(400, 'BAD_NAME', 'the file name in the URL is not valid percent-encoding');
  }
  const ticket = url.searchParams.get('ticket');
  if (req.method === 'GET') return serveDownload(host, req, res, name, ticket);
  // HEAD asks how much of a resumable upload the server holds (a post ticket, not spent); a download's HEAD
  // would spend its one-time ticket without delivering anything.
  if (req.method === 'HEAD') return uploadOffset(host, req, res, name, ticket);
  if (req.method === 'POST') {
    if (!originAllowed(req))
      throw new HttpError(403, 'ORIGIN', 'uploads are accepted only from this server’s own page');
    return receiveUpload(host, req, res, name, ticket);
  }
  throw new HttpError(405, 'METHOD', `${req.method} is not supported on /files/ (GET, HEAD, POST)`);
}

/**
 * The path as the client sent it: the URL parser resolves `.` and `..` segments (`%2e%2e` too), which would turn
 * `/files/DIR/../x` into another name, refused for the wrong reason (the ticket's) or not at all. Unresolved,
 * every component meets the file-name rule, which refuses them as BAD_NAME.
 */
function rawPath(req: IncomingMessage, url: URL): string {
  const raw = (req.url ?? '').split('?')[0]!;
  return raw.startsWith('/files/') ? raw : url.pathname;
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
  const body = Number(lengthHeader);
  const source = uploadSource(req);
  const digest = reprDigest(req);
  if (source && body !== source.size - source.offset)
    throw new HttpError(
      400,
      'BAD_REQUEST',
      `the body is ${body} bytes; from Upload-Offset to Upload-Length is ${source.size - source.offset}`,
    );
  const size = source?.size ?? body;
  const spent = await orHttpError(() => host.files.redeemTicket(ticket, 'post', rawName, Date.now()));
  let release: () => void = () => undefined;
  try {
    const target = await orHttpError(() => host.files.checkUpload(rawName, size));
    // One writer per partial, LFTP's or this door's (server/shm/partial-writers.ts), until its sink is put away.
    if (source) release = claimPartial(host, target.name, spent.nick);
    const plan = source ? await planPartial(host.files.dir, target.name, spent.nick, source) : null;
    const settle = await orHttpError(() =>
      plan
        ? host.files.reserveResumable(spent.nick, size, plan.from, plan.dropped)
        : host.files.reserveUpload(spent.nick, size),
    );
    const open: OpenSink = plan
      ? async (drain, error) => {
          const sink = await FileSink.resumable(target.path, plan.held, plan.from, drain, error);
          sink.setExpectedSize(size, 1, plan.from);
          return sink;
        }
      : (drain, error) => FileSink.create(target.path, drain, error);
    try {
      await writeUpload(host, req, res, { ...target, body, from: plan?.from ?? 0, open, digest }, spent.nick, ended);
    } catch (err) {
      settle(plan?.held.recordedBytes ?? 0);
      throw err;
    }
  } finally {
    release();
    spent.ended();
  }
}

/** The partial's writer claim; its refusal (LFTP's BUSY) is this door's 409 UPLOAD_BUSY, in the same words. */
function claimPartial(host: FileRoutesHost, name: string, nick: string): () => void {
  try {
    return host.files.claimPartial(name, nick, 'http');
  } catch (err) {
    throw err instanceof LftpError ? uploadBusy(err.message) : err;
  }
}

/** HEAD with a post ticket and a resumable upload's headers: `Upload-Offset`, the bytes held of that source. */
async function uploadOffset(
  host: FileRoutesHost,
  req: IncomingMessage,
  res: ServerResponse,
  rawName: string,
  ticket: string | null,
): Promise<void> {
  const nick = await orHttpError(() => host.files.peekTicket(ticket, 'post', rawName, Date.now()));
  const source = uploadSource(req);
  if (!source) throw new HttpError(400, 'BAD_REQUEST', 'HEAD asks about a resumable upload: it needs Upload-Tag');
  const target = await orHttpError(() => host.files.checkUpload(rawName, source.size));
  if (host.files.partialBusy(target.name, nick))
    throw uploadBusy(`${JSON.stringify(target.name)} is being received already; try again once it stops`);
  const held = await heldBytes(host.files.dir, target.name, nick, source);
  // Closed after: the POST that follows goes on a fresh connection, which a browser does not resend by itself
  // when it is cut (it resends a request cut on a reused one: the whole body again, with a spent ticket).
  res.writeHead(204, {
    Connection: 'close',
    'Upload-Offset': String(held),
    'Upload-Length': String(source.size),
    'Cache-Control': 'no-store',
  });
  res.end();
}

interface UploadTarget {
  path: string;
  name: string;
  size: number;
  /** This request's bytes, written after `from` bytes already held. */
  body: number;
  from: number;
  open: OpenSink;
  /** The page's SHA-256 of the whole file (Repr-Digest), checked before the file is put in place. */
  digest: Buffer | null;
}

/** The body into a sink, then into place; throws HttpError when it cannot be stored (the caller answers). */
async function writeUpload(
  host: FileRoutesHost,
  req: IncomingMessage,
  res: ServerResponse,
  target: UploadTarget,
  nick: string,
  ended: Promise<boolean>,
): Promise<void> {
  const { size, from } = target;
  const started = Date.now();
  const { sink, complete, received, cut, diskFailure } = await orHttpError(() =>
    receiveBody(req, { name: target.name, size: target.body, open: target.open }, ended),
  );
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
    const why = cut?.message ?? `the upload stopped after ${from + received} of ${size} bytes`;
    host.log.warn({ file: target.name, nick, received, from, size }, `http upload failed: ${why}`);
    throw new HttpError(400, 'INCOMPLETE', why);
  }
  const outcome = await sink.finish({ size, ...(target.digest ? { sha256: target.digest } : {}) });
  if (!outcome.ok) {
    host.log.warn({ file: target.name, nick, code: outcome.code }, `http upload not stored: ${outcome.message}`);
    throw new HttpError(statusFor(outcome.code), outcome.code, outcome.message);
  }
  host.log.info(
    { file: target.name, nick, size, from, sha256: outcome.sha256, ms: Date.now() - started },
    from > 0 ? `http upload stored, resumed at ${from}` : 'http upload stored',
  );
  sendJson(res, 201, { name: target.name, size, sha256: outcome.sha256, ...(from > 0 ? { from } : {}) });
  host.stored({ name: target.name, size, nick });
}
