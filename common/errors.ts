/**
 * Error classes with stable `code` strings. The code is what crosses the wire
 * (in ERROR frames) and what tests and scripts match on; the message is for people.
 */

/** Codes carried in ERROR frames. Stable: never renamed, only added. */
export const WireErrorCode = {
  BAD_FRAME: 'BAD_FRAME',
  FRAME_TOO_LARGE: 'FRAME_TOO_LARGE',
  UNKNOWN_TYPE: 'UNKNOWN_TYPE',
  INVALID_UTF8: 'INVALID_UTF8',
  HELLO_REQUIRED: 'HELLO_REQUIRED',
  ALREADY_HELLO: 'ALREADY_HELLO',
  HELLO_TIMEOUT: 'HELLO_TIMEOUT',
  VERSION_UNSUPPORTED: 'VERSION_UNSUPPORTED',
  NICK_INVALID: 'NICK_INVALID',
  NICK_TAKEN: 'NICK_TAKEN',
  NO_SUCH_NICK: 'NO_SUCH_NICK',
  TEXT_INVALID: 'TEXT_INVALID',
  SERVER_FULL: 'SERVER_FULL',
  SEND_QUEUE_FULL: 'SEND_QUEUE_FULL',
  FLOOD: 'FLOOD',
  ADDRESS_LIMIT: 'ADDRESS_LIMIT',
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  /** A message the server could not store (its disk is full, its database failed): sent to no one. */
  NOT_STORED: 'NOT_STORED',
  /** Version 2, rooms (none fatal): a bad room name (or one that looks like an existing room), a limit, not a member, no such room. */
  ROOM_INVALID: 'ROOM_INVALID',
  ROOM_LIMIT: 'ROOM_LIMIT',
  NOT_IN_ROOM: 'NOT_IN_ROOM',
  NO_SUCH_ROOM: 'NO_SUCH_ROOM',
  /** HELLO with a resume token that is unknown, expired or already used (not fatal: the client may say HELLO again, without one). */
  RESUME_FAILED: 'RESUME_FAILED',
  /** A private server (--server-password), at HELLO (fatal): no password, a wrong one, or too many wrong ones from this address. */
  PASSWORD_REQUIRED: 'PASSWORD_REQUIRED',
  PASSWORD_WRONG: 'PASSWORD_WRONG',
  PASSWORD_LOCKED: 'PASSWORD_LOCKED',
  /**
   * Registered nicks. At HELLO (fatal): the nick is registered and no password came (NICK_REGISTERED), a wrong one
   * (NICK_PASSWORD_WRONG), too many wrong ones for this address or nick (LOGIN_LOCKED). Not fatal, as answers to ACCOUNT
   * or NICK: the same codes, and a nick registered already (ACCOUNT_EXISTS), no such account (NOT_REGISTERED), a password
   * sent over a plain connection (PLAIN_PASSWORD), a server that keeps no accounts (ACCOUNTS_OFF), a bad password (PASSWORD_INVALID).
   */
  NICK_REGISTERED: 'NICK_REGISTERED',
  NICK_PASSWORD_WRONG: 'NICK_PASSWORD_WRONG',
  LOGIN_LOCKED: 'LOGIN_LOCKED',
  ACCOUNT_EXISTS: 'ACCOUNT_EXISTS',
  NOT_REGISTERED: 'NOT_REGISTERED',
  PLAIN_PASSWORD: 'PLAIN_PASSWORD',
  ACCOUNTS_OFF: 'ACCOUNTS_OFF',
  PASSWORD_INVALID: 'PASSWORD_INVALID',
} as const;
export type WireErrorCode = (typeof WireErrorCode)[keyof typeof WireErrorCode];

/** A violation of the chat protocol, by either peer. */
export class ProtocolError extends Error {
  readonly code: WireErrorCode;
  constructor(code: WireErrorCode, message: string) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
  }
}

/** Bad command-line usage: one line on stderr and exit code 2. */
export class UsageError extends Error {
  readonly code = 'ERR_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Process exit codes shared by both programs (documented in README.md). */
export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  CONNECTION_LOST: 3,
  REJECTED: 4,
} as const;
