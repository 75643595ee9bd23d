/**
 * What the IRC door refuses, with a stable code (common/errors.ts). Input
 * errors carry the command they came with, so the door can answer with the
 * numeric or FAIL a client expects for that command (numerics.ts,
 * refusalReply) instead of closing the connection: one bad line from a
 * client is answered, never a crash.
 */
import { HeartbeatChatError } from '../../common/errors.js';

export const IrcErrorCode = {
  /** The line without its tags is over 512 bytes (CR LF counted), or its tags over 8191: 417 ERR_INPUTTOOLONG. */
  INPUT_TOO_LONG: 'IRC_INPUT_TOO_LONG',
  /** The line holds NUL or a CR before its end, has no command, or its tags are malformed. */
  BAD_LINE: 'IRC_BAD_LINE',
  /** The line's bytes are not UTF-8 (the door is UTF8ONLY): FAIL <command> INVALID_UTF8. */
  INVALID_UTF8: 'IRC_INVALID_UTF8',
  /** The server itself tried to send something IRC cannot carry (a bug in the door, never a client's doing). */
  BAD_OUTPUT: 'IRC_BAD_OUTPUT',
} as const;
export type IrcErrorCode = (typeof IrcErrorCode)[keyof typeof IrcErrorCode];

export class IrcError extends HeartbeatChatError {
  declare readonly code: IrcErrorCode;
  constructor(
    code: IrcErrorCode,
    message: string,
    /** The command of the refused line when it could be read ('*' when not). */
    readonly command = '*',
  ) {
    super(code, message);
  }
}
