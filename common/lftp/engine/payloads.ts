/**
 * The payloads of LFTP's control packets (docs/LFTP.md, "Packets"), encoded
 * and checked in one place for both ends:
 *   SYN       JSON {name, mss, size? (post), auth?, salt?, proof?, retry?, have?, tag?, mtime?, dgram?}
 *   RETRY     binary: the server's address-validation token, opaque to the client
 *   SYN-ACK   JSON {size, mss, from?, tag?, mtime?, dropped?, dgram?}
 *   queued    JSON {queued: position} on a bare ACK answering a SYN
 *   ERR       JSON {code, message}
 *   END       binary: u64 size, 32 bytes SHA-256
 * Decoders never throw on what a peer sent, except decodeSynRequest, whose
 * LftpError becomes the server's ERR answer.
 */
import { MAX_MSS, MIN_MSS } from './packet.js';
import { LftpError, LftpErrorCode, isLftpErrorCode } from './errors.js';
import type { Op } from './events.js';

/** The SYN's salt and proof sizes: wire format here, their meaning in protect/keys.ts. */
export const SALT_BYTES = 16;
export const PROOF_BYTES = 16;
/** A RETRY's token: what the client repeats in its SYN's `retry`, opaque to it; at most this long. */
export const MAX_RETRY_TOKEN_BYTES = 64;

/** What a client asks for in its SYN. */
export interface SynRequest {
  name: string;
  mss: number;
  /** post: the size of the file to be sent. */
  size?: number;
  /** A one-time ticket (the chat's). */
  auth?: string;
  /** A protected transfer's salt and the proof of its master key (protect/keys.ts). */
  salt?: Buffer;
  proof?: Buffer;
  /**
   * The token of the server's RETRY (address validation), or empty before there is one: sent by every client
   * that can answer a RETRY, so that a server which validates addresses knows whom it may ask.
   */
  retry?: Buffer;
  /** Resume (docs/LFTP.md, "Resume"); see ResumeAsk. */
  resume?: ResumeAsk;
  /** The largest datagram the client takes (as version 1): it takes packed data datagrams (docs/LFTP.md, "Datagram size"). */
  dgram?: number;
}

/**
 * What a SYN says about resuming. get: the bytes the client holds from offset 0 (`have`) of the source it saw
 * as `tag` and `mtime`. post: the `tag` and `mtime` of the file it sends, and `have` = 0 to say "start over".
 */
export interface ResumeAsk {
  have?: number;
  tag?: string;
  mtime?: number;
}

/** The SYN-ACK's answer: where data starts, the source's identity (get), what the server dropped (post). */
export interface ResumeAnswer {
  from: number;
  tag?: string;
  mtime?: number;
  /** post: the server held this many bytes of another source of that name, dropped. */
  dropped?: number;
}

/** A source tag: 16 bytes in base64url (common/lftp/node/resume-record.ts makes them). */
const TAG_RE = /^[A-Za-z0-9_-]{22}$/;

/** Longest error message kept from a peer's ERR. */
const MAX_ERROR_MESSAGE = 500;
export const END_PAYLOAD_BYTES = 40;

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function parseObject(payload: Buffer): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(payload.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function encodeSynRequest(op: Op, r: SynRequest): Buffer {
  return json({
    name: r.name,
    mss: r.mss,
    ...(op === 'post' ? { size: r.size } : {}),
    ...(r.auth !== undefined ? { auth: r.auth } : {}),
    ...(r.salt && r.proof ? { salt: r.salt.toString('base64url'), proof: r.proof.toString('base64url') } : {}),
    ...(r.retry ? { retry: r.retry.toString('base64url') } : {}),
    ...(r.resume ?? {}),
    ...(r.dgram !== undefined ? { dgram: r.dgram } : {}),
  });
}

const whole = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** A SYN's resume fields, checked: whole numbers, a tag of 22 base64url characters. */
function resumeAsk(o: Record<string, unknown>): ResumeAsk | undefined {
  const { have, tag, mtime } = o;
  if (have === undefined && tag === undefined && mtime === undefined) return undefined;
  if ((have !== undefined && !whole(have)) || (mtime !== undefined && !whole(mtime)))
    throw new LftpError('BAD_REQUEST', 'have and mtime must be whole numbers');
  if (tag !== undefined && (typeof tag !== 'string' || !TAG_RE.test(tag)))
    throw new LftpError('BAD_REQUEST', 'tag must be 16 bytes in base64url');
  return {
    ...(have !== undefined ? { have } : {}),
    ...(tag !== undefined ? { tag } : {}),
    ...(mtime !== undefined ? { mtime } : {}),
  };
}

/**
 * A SYN's request, checked field by field. The file name is only checked to be
 * a string here: what names are allowed is the file service's rule. Size
 * (post) is checked by the same rule, so it is passed through as sent.
 */
export function decodeSynRequest(
  payload: Buffer,
  maxMss: number,
): {
  name: string;
  mss: number;
  size: unknown;
  auth: string | undefined;
  salt: Buffer | undefined;
  proof: Buffer | undefined;
  retry: Buffer | undefined;
  resume: ResumeAsk | undefined;
  dgram: number | undefined;
} {
  const o = parseObject(payload);
  if (!o) throw new LftpError('BAD_REQUEST', 'SYN payload is not a JSON object');
  const { mss, auth, name, size } = o;
  const salt = bytesField(o, 'salt', SALT_BYTES);
  const proof = bytesField(o, 'proof', PROOF_BYTES);
  const retry = bytesField(o, 'retry', [0, MAX_RETRY_TOKEN_BYTES]);
  if ((salt === undefined) !== (proof === undefined)) throw new LftpError('BAD_REQUEST', 'salt and proof go together');
  if (typeof mss !== 'number' || !Number.isInteger(mss) || mss < MIN_MSS || mss > MAX_MSS) {
    throw new LftpError('BAD_REQUEST', `mss must be an integer from ${MIN_MSS} to ${MAX_MSS}`);
  }
  if (mss > maxMss)
    throw new LftpError('BAD_REQUEST', `this server takes at most ${maxMss} bytes per packet (use --mss ${maxMss})`);
  if (auth !== undefined && typeof auth !== 'string') throw new LftpError('BAD_REQUEST', 'auth must be a string');
  if (typeof name !== 'string') throw new LftpError('BAD_NAME', 'a file name is required');
  return { name, mss, size, auth, salt, proof, retry, resume: resumeAsk(o), dgram: datagramSize(o['dgram']) };
}

/** An optional field of exactly `bytes` bytes (or from `bytes[0]` to `bytes[1]`) in base64url. */
function bytesField(o: Record<string, unknown>, key: string, bytes: number | [number, number]): Buffer | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  const [min, max] = typeof bytes === 'number' ? [bytes, bytes] : bytes;
  const b = typeof v === 'string' && /^[A-Za-z0-9_-]*$/.test(v) ? Buffer.from(v, 'base64url') : null;
  if (!b || b.length < min || b.length > max || b.toString('base64url') !== v)
    throw new LftpError('BAD_REQUEST', `${key} must be ${min === max ? min : `${min}-${max}`} bytes in base64url`);
  return b;
}

/** A RETRY's payload is its token: 1 to MAX_RETRY_TOKEN_BYTES bytes, or null. */
export function decodeRetry(payload: Buffer): Buffer | null {
  return payload.length >= 1 && payload.length <= MAX_RETRY_TOKEN_BYTES ? Buffer.from(payload) : null;
}

/** A `dgram` as a peer sent it: a whole number of at least one datagram of the smallest mss, else none. */
function datagramSize(v: unknown): number | undefined {
  return whole(v) && v >= MIN_DATAGRAM ? v : undefined;
}
const MIN_DATAGRAM = 24 + MIN_MSS;

/**
 * `resume` only to a client that asked about resuming, `dgram` (the largest datagram the server takes) only
 * to one that sent its own: an older client is answered as before.
 */
export function encodeSynAck(size: number, mss: number, resume?: ResumeAnswer, dgram?: number): Buffer {
  return json({ size, mss, ...(resume ?? {}), ...(dgram !== undefined ? { dgram } : {}) });
}

/**
 * The server's answer to a SYN: the file size, the mss it accepted (at most the one asked for) and where data
 * starts (`from`, 0 from a server that does not resume, at most the size), or null.
 */
export function decodeSynAck(
  payload: Buffer,
  askedMss: number,
): ({ size: number; mss: number; dgram?: number } & ResumeAnswer) | null {
  const o = parseObject(payload);
  if (!o) return null;
  const { size, mss, from = 0, tag, mtime, dropped } = o;
  const dgram = datagramSize(o['dgram']);
  if (!whole(size) || !whole(from) || from > size) return null;
  if (typeof mss !== 'number' || !Number.isInteger(mss) || mss < 1 || mss > askedMss) return null;
  return {
    size,
    mss,
    from,
    ...(typeof tag === 'string' && TAG_RE.test(tag) ? { tag } : {}),
    ...(whole(mtime) ? { mtime } : {}),
    ...(whole(dropped) ? { dropped } : {}),
    ...(dgram !== undefined ? { dgram } : {}),
  };
}

export function encodeQueued(position: number): Buffer {
  return json({ queued: position });
}

/** A queue position (1 = next), or 0 when the ACK says nothing about a queue. */
export function decodeQueued(payload: Buffer): number {
  const q = parseObject(payload)?.['queued'];
  return typeof q === 'number' && Number.isInteger(q) && q > 0 ? q : 0;
}

export function encodeError(code: LftpErrorCode, message: string): Buffer {
  return json({ code, message });
}

/** A peer's ERR; an unknown code reads as PROTOCOL, an unreadable payload says so. */
export function decodeError(payload: Buffer): { code: LftpErrorCode; message: string } {
  const o = parseObject(payload);
  if (!o) return { code: 'PROTOCOL', message: 'unreadable error packet' };
  const code = isLftpErrorCode(o['code']) ? o['code'] : LftpErrorCode.PROTOCOL;
  const message = o['message'];
  return { code, message: typeof message === 'string' ? message.slice(0, MAX_ERROR_MESSAGE) : String(o['code']) };
}

export function encodeEnd(size: number, sha256: Buffer): Buffer {
  const b = Buffer.alloc(END_PAYLOAD_BYTES);
  b.writeBigUInt64BE(BigInt(size), 0);
  sha256.copy(b, 8);
  return b;
}

export function decodeEnd(payload: Buffer): { size: number; sha256: Buffer } | null {
  if (payload.length !== END_PAYLOAD_BYTES) return null;
  return { size: Number(payload.readBigUInt64BE(0)), sha256: Buffer.from(payload.subarray(8, END_PAYLOAD_BYTES)) };
}
