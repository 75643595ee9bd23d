/**
 * An HTTP upload that survives a cut (docs/ARCHITECTURE.md, "The web side"; the header names after the IETF's
 * draft "Resumable Uploads for HTTP"). The page says what it sends, in headers: `Upload-Length` (the whole
 * file's bytes), `Upload-Mtime` (its modification time, ms) and `Upload-Tag` (LFTP's source tag of it,
 * resume-record.ts's sourceTag), and with a POST `Upload-Offset`, where its body starts. The server keeps what
 * it received of such an upload exactly as it keeps an LFTP post's partial: the same hidden file and record, the
 * same key (name and uploader), the same identity rule (name, size, mtime, tag), counted against the quota and
 * swept after 24 h. HEAD /files/NAME?ticket=T asks how many bytes it holds (`Upload-Offset`) without spending the
 * ticket; the POST then sends the rest. `Repr-Digest: sha-256=:…:` (RFC 9530), when the page could hash the
 * file, is checked against the whole file before it is put in place.
 */
import type { IncomingMessage } from 'node:http';
import { HeldRecord, readResume, TAG_BYTES } from '../../common/lftp/node/resume-record.js';
import { resumeKey } from '../files/lftp-resume.js';
import { HttpError } from './http-error.js';
import { header } from './http-download.js';

/** What a resumable upload says of its source. */
export interface UploadSource {
  size: number;
  mtimeMs: number;
  tag: string;
  /** Where this request's body starts in the file (0 for HEAD). */
  offset: number;
}

/** The partial an upload writes into, and where its body goes on. */
export interface PartialPlan {
  held: HeldRecord;
  /** Bytes of the partial kept: the body is written after them. */
  from: number;
  /** Bytes of another source's partial of the same key, dropped (given back to the quota). */
  dropped: number;
}

const TAG_CHARS = Math.ceil((TAG_BYTES * 4) / 3);
const whole = (v: string | undefined) => (v !== undefined && /^\d{1,16}$/.test(v) ? Number(v) : null);

/** The upload's source from its headers; null for a one-shot upload (no Upload-Tag). Throws 400 when malformed. */
export function uploadSource(req: IncomingMessage): UploadSource | null {
  const tag = header(req, 'upload-tag');
  if (tag === undefined) return null;
  const size = whole(header(req, 'upload-length'));
  const mtimeMs = whole(header(req, 'upload-mtime'));
  const offset = header(req, 'upload-offset') === undefined ? 0 : whole(header(req, 'upload-offset'));
  if (!new RegExp(`^[A-Za-z0-9_-]{${TAG_CHARS}}$`).test(tag) || size === null || mtimeMs === null || offset === null)
    throw new HttpError(
      400,
      'BAD_REQUEST',
      `a resumable upload needs Upload-Length, Upload-Mtime (whole numbers), Upload-Tag (${TAG_CHARS} base64url characters) and, to continue, Upload-Offset`,
    );
  if (offset > size) throw new HttpError(400, 'BAD_REQUEST', `Upload-Offset ${offset} is past Upload-Length ${size}`);
  return { size, mtimeMs, tag, offset };
}

/** `Repr-Digest: sha-256=:BASE64:` as the 32 bytes it names; null without one. Throws 400 when malformed. */
export function reprDigest(req: IncomingMessage): Buffer | null {
  const v = header(req, 'repr-digest');
  if (v === undefined) return null;
  const m = /(?:^|,)\s*sha-256=:([A-Za-z0-9+/]{43}=):\s*(?:,|$)/.exec(v);
  if (!m) throw new HttpError(400, 'BAD_REQUEST', 'Repr-Digest must carry sha-256=:<base64 of 32 bytes>:');
  return Buffer.from(m[1]!, 'base64');
}

/**
 * The answer while another upload writes the same partial (over HTTP or LFTP, on any worker: the file service's
 * writer claim, held until the writer has put its partial away): what the partial holds is not final.
 */
export function uploadBusy(message: string): HttpError {
  return new HttpError(409, 'UPLOAD_BUSY', message);
}

/** The bytes held of this source's partial (what HEAD answers): 0 when there is none, or another source's. */
export async function heldBytes(dir: string, name: string, nick: string, src: UploadSource): Promise<number> {
  const r = await readResume(dir, resumeKey(name, nick));
  return r !== null && sameSource(r.record, name, src) ? r.held : 0;
}

function sameSource(r: { name: string; size: number; mtimeMs: number; tag: string }, name: string, s: UploadSource) {
  return r.name === name && r.size === s.size && r.mtimeMs === s.mtimeMs && r.tag === s.tag;
}

/**
 * The partial this upload writes: continued at its Upload-Offset when the server holds at least that much of the
 * same source (a smaller offset cuts the partial back to it), started from 0 otherwise. Throws 409 when the
 * offset is past what is held (`Upload-Offset` says what is).
 */
export async function planPartial(dir: string, name: string, nick: string, src: UploadSource): Promise<PartialPlan> {
  const key = resumeKey(name, nick);
  const r = await readResume(dir, key);
  const same = r !== null && sameSource(r.record, name, src);
  const held = same ? r.held : 0;
  if (src.offset > held)
    throw new HttpError(409, 'OFFSET', `the server holds ${held} bytes of ${JSON.stringify(name)}; send from there`, {
      'Upload-Offset': String(held),
    });
  const record = new HeldRecord(dir, key);
  record.identity = { name, size: src.size, mtimeMs: src.mtimeMs, tag: src.tag };
  return { held: record, from: src.offset, dropped: r !== null && !same ? r.held : same ? held - src.offset : 0 };
}
