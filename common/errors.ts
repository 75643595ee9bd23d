/**
 * Error classes with stable `code` strings, all from one base (undici's
 * UndiciError is the model). The code is what crosses the wire (in ERROR
 * frames, LFTP ERR packets, HTTP answers) and what tests and scripts match on;
 * the message is for people. The boundaries map codes to what they speak:
 * frames and packets carry them as they are, each class says which exit code
 * its codes end a command with (exitCode), and exitCodeOf (common/cli.ts) asks.
 */

/** Process exit codes shared by both programs (documented in README.md). */
export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  CONNECTION_LOST: 3,
  REJECTED: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Every error the product raises on purpose: `instanceof HeartbeatChatError` tells them from bugs. */
export abstract class HeartbeatChatError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  /** The exit code when this error ends a command (exitCodeOf in common/cli.ts asks it). */
  get exitCode(): ExitCode {
    return ExitCode.FAILURE;
  }
}

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
  /** Not fatal: a session has as many HISTORY_REQUESTs waiting for their answers as one may (8); ask again later. */
  HISTORY_BUSY: 'HISTORY_BUSY',
  /** Not fatal: the server's store could not do or answer the request (its database failed); the operator is told. */
  STORE_FAILED: 'STORE_FAILED',
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
  /** Not fatal: ACCOUNT register when the session's address prefix has registered its most nicks this hour. */
  REGISTER_LIMIT: 'REGISTER_LIMIT',
  /** Not fatal: DIRECT to a registered nick that is offline (or away) and whose inbox holds its most. */
  INBOX_FULL: 'INBOX_FULL',
} as const;
export type WireErrorCode = (typeof WireErrorCode)[keyof typeof WireErrorCode];

/**
 * A HELLO's refusals of the nick, not of the connection. Fatal to a chat client; an IRC client answers its 433 with
 * another NICK on the same connection (irssi, WeeChat and irc-framework try nick_), so the door keeps it open.
 */
export const NICK_REFUSALS: ReadonlySet<string> = new Set<WireErrorCode>([
  'NICK_INVALID',
  'NICK_TAKEN',
  'NICK_REGISTERED',
  'NICK_PASSWORD_WRONG',
  'LOGIN_LOCKED',
]);

/** A violation of the chat protocol, by either peer; its code is the ERROR frame's. */
export class ProtocolError extends HeartbeatChatError {
  declare readonly code: WireErrorCode;
  constructor(code: WireErrorCode, message: string) {
    super(code, message);
  }
}

/** Bad command-line usage: one line on stderr and exit code 2. */
export class UsageError extends HeartbeatChatError {
  declare readonly code: 'ERR_USAGE';
  constructor(message: string) {
    super('ERR_USAGE', message);
  }

  override get exitCode(): ExitCode {
    return ExitCode.USAGE;
  }
}
