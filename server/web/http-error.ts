/**
 * How the web side refuses and answers: HttpError (a status, a stable code
 * string, a message for people), the status each file-service refusal maps
 * to, and answers in JSON.
 */
import type { ServerResponse } from 'node:http';
import { HeartbeatChatError } from '../../common/errors.js';
import { LftpError, type LftpErrorCode } from '../../common/lftp/engine/errors.js';

/** An HTTP-level refusal: status code, a stable code string, a message for people. */
export class HttpError extends HeartbeatChatError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    /** Headers the answer carries (Retry-After, WWW-Authenticate). */
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message);
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
  SHA256_MISMATCH: 400,
};

/** The file service's answer, or its refusal as the HTTP error it maps to. */
export async function orHttpError<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw err instanceof LftpError ? HttpError.fromLftp(err) : err;
  }
}

/** The HTTP status for a refusal of the file service (or of a file sink). */
export function statusFor(code: LftpErrorCode): number {
  return STATUS_FOR[code] ?? 500;
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
