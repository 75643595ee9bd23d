/** LFTP error codes: carried in ERR packets and mapped to exit codes at the command line. */
import { ExitCode, HeartbeatChatError } from '../../errors.js';

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

/** Why a transfer failed or was refused; its code is the ERR packet's. */
export class LftpError extends HeartbeatChatError {
  declare readonly code: LftpErrorCode;
  constructor(code: LftpErrorCode, message: string) {
    super(code, message);
  }

  /** The other side saying no is a refusal (4), as a refused login is; a peer gone silent a lost connection (3). */
  override get exitCode(): ExitCode {
    if (REFUSALS.has(this.code)) return ExitCode.REJECTED;
    if (this.code === 'HANDSHAKE_TIMEOUT' || this.code === 'PEER_TIMEOUT') return ExitCode.CONNECTION_LOST;
    return ExitCode.FAILURE;
  }
}

const REFUSALS: ReadonlySet<LftpErrorCode> = new Set([
  'NOT_FOUND',
  'EXISTS',
  'BAD_NAME',
  'AUTH',
  'BUSY',
  'TOO_LARGE',
  'BAD_REQUEST',
]);

export function isLftpErrorCode(code: unknown): code is LftpErrorCode {
  return typeof code === 'string' && code in LftpErrorCode;
}
