/** LFTP error codes: carried in ERR packets and mapped to exit codes at the command line. */

export const LftpErrorCode = {
  BAD_REQUEST: 'BAD_REQUEST',
  BAD_NAME: 'BAD_NAME',
  NOT_FOUND: 'NOT_FOUND',
  EXISTS: 'EXISTS',
  AUTH: 'AUTH',
  BUSY: 'BUSY',
  IO_ERROR: 'IO_ERROR',
  NO_SPACE: 'NO_SPACE',
  TOO_LARGE: 'TOO_LARGE',
  SHA256_MISMATCH: 'SHA256_MISMATCH',
  HANDSHAKE_TIMEOUT: 'HANDSHAKE_TIMEOUT',
  PEER_TIMEOUT: 'PEER_TIMEOUT',
  PROTOCOL: 'PROTOCOL',
  ABORTED: 'ABORTED',
} as const;
export type LftpErrorCode = (typeof LftpErrorCode)[keyof typeof LftpErrorCode];

export class LftpError extends Error {
  constructor(
    readonly code: LftpErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LftpError';
  }
}

export function isLftpErrorCode(code: unknown): code is LftpErrorCode {
  return typeof code === 'string' && code in LftpErrorCode;
}
