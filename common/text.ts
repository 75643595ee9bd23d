/**
 * Decoding and validation at the protocol boundary: strict UTF-8, and the
 * nick rule's error as a ProtocolError. The Unicode policy itself is
 * common/unicode/text-policy.ts.
 */
import { ProtocolError } from './errors.js';
import { checkNick } from './unicode/nick-rule.js';
import { neutralizeControls } from './unicode/text-policy.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeUtf8Strict(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new ProtocolError('INVALID_UTF8', 'frame body is not valid UTF-8');
  }
}

/** The nick in NFC, or NICK_INVALID with a message that says what is wrong (the rule: common/nick-rule.ts). */
export function validateNick(nick: unknown): string {
  if (typeof nick !== 'string')
    throw new ProtocolError(
      'NICK_INVALID',
      `invalid nick: a nick is text, not ${nick === null ? 'null' : typeof nick}`,
    );
  const check = checkNick(nick);
  if (!check.ok) {
    const shown = JSON.stringify(neutralizeControls([...nick].slice(0, 40).join('')));
    throw new ProtocolError('NICK_INVALID', `invalid nick ${shown}: ${check.reason}`);
  }
  return check.nick;
}
