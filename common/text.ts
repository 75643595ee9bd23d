/**
 * Text rules shared by server and client: strict UTF-8, terminal-safe text,
 * and the nick rule's error. The server neutralises what users send before it is
 * relayed; the client neutralises again before printing, so a foreign server
 * cannot drive the user's terminal either.
 */
import { ProtocolError } from './errors.js';
import { checkNick } from './nick-rule.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeUtf8Strict(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new ProtocolError('INVALID_UTF8', 'frame body is not valid UTF-8');
  }
}

/**
 * C0 controls except TAB, DEL, C1 controls, and the bidirectional overrides
 * and isolates (which can make text display in another order than it is
 * stored: "Trojan Source"). Line breaks are controls too: one message is one line.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Replaces unsafe characters with a visible stand-in: C0 → its Control Picture (␛ for ESC), others → U+FFFD. */
export function neutralizeControls(text: string): string {
  return text.replace(UNSAFE, (ch) => {
    const code = ch.charCodeAt(0);
    if (code < 0x20) return String.fromCharCode(0x2400 + code);
    if (code === 0x7f) return '\u2421';
    return '\ufffd';
  });
}

export function hasUnsafeControls(text: string): boolean {
  UNSAFE.lastIndex = 0;
  const found = UNSAFE.test(text);
  UNSAFE.lastIndex = 0;
  return found;
}

/** The nick in NFC, or NICK_INVALID with a message that says what is wrong (the rule: common/nick-rule.ts). */
export function validateNick(nick: unknown): string {
  if (typeof nick !== 'string') throw new ProtocolError('NICK_INVALID', `invalid nick: a nick is text, not ${nick === null ? 'null' : typeof nick}`);
  const check = checkNick(nick);
  if (!check.ok) {
    const shown = JSON.stringify(neutralizeControls([...nick].slice(0, 40).join('')));
    throw new ProtocolError('NICK_INVALID', `invalid nick ${shown}: ${check.reason}`);
  }
  return check.nick;
}
