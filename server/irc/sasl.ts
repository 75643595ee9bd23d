/**
 * SASL PLAIN over AUTHENTICATE (ircv3.net sasl-3.1, RFC 4616), the exchange
 * only: the client names the mechanism, the server answers `+`, the client
 * sends base64 in chunks of 400 bytes (a chunk of exactly 400 means more
 * follow; `+` alone is an empty last chunk), `*` aborts. The credentials
 * are `authzid NUL authcid NUL password`: the chat's accounts are nicks,
 * so authcid is the nick and authzid is empty or the same nick (logging in
 * as someone else is not a thing here). Checking the password is the
 * worker's (registration.ts emits it as an effect).
 */

export const SASL_MECHANISMS = 'PLAIN';
export const CHUNK_BYTES = 400;
/**
 * The most base64 an exchange may send: a 256-byte password and two nicks
 * of at most 128 bytes, with their NULs, is 514 bytes, 688 in base64.
 */
export const MAX_SASL_BASE64 = 1200;

export type SaslOutcome =
  /** Send `AUTHENTICATE +` (the mechanism is accepted) or nothing (more chunks to come). */
  | { kind: 'continue'; prompt: boolean }
  | { kind: 'credentials'; nick: string; password: string }
  | { kind: 'mechanism-unknown' }
  | { kind: 'too-long' }
  | { kind: 'aborted' }
  | { kind: 'invalid'; why: string };

export class SaslExchange {
  private active = false;
  private data = '';

  get inProgress(): boolean {
    return this.active;
  }

  /** One AUTHENTICATE parameter. */
  step(param: string): SaslOutcome {
    if (param === '*') return this.end({ kind: 'aborted' });
    if (!this.active) {
      if (param.toUpperCase() !== 'PLAIN') return { kind: 'mechanism-unknown' };
      this.active = true;
      this.data = '';
      return { kind: 'continue', prompt: true };
    }
    if (Buffer.byteLength(param) > CHUNK_BYTES) return this.end({ kind: 'too-long' });
    if (param !== '+') this.data += param;
    if (this.data.length > MAX_SASL_BASE64) return this.end({ kind: 'too-long' });
    if (param.length === CHUNK_BYTES) return { kind: 'continue', prompt: false };
    return this.end(plainCredentials(this.data));
  }

  /** Registration ended or the connection went: whatever was under way is dropped. */
  reset(): void {
    this.active = false;
    this.data = '';
  }

  private end(outcome: SaslOutcome): SaslOutcome {
    this.reset();
    return outcome;
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** PLAIN's message, decoded strictly: canonical base64, UTF-8, exactly three fields. */
export function plainCredentials(base64: string): SaslOutcome {
  if (!BASE64.test(base64)) return { kind: 'invalid', why: 'not base64' };
  let text: string;
  try {
    text = utf8.decode(Buffer.from(base64, 'base64'));
  } catch {
    return { kind: 'invalid', why: 'not UTF-8' };
  }
  const fields = text.split('\0');
  if (fields.length !== 3) return { kind: 'invalid', why: 'PLAIN is authzid NUL authcid NUL password' };
  const [authzid, authcid, password] = fields as [string, string, string];
  if (authcid === '' || password === '') return { kind: 'invalid', why: 'an account and a password are needed' };
  if (authzid !== '' && authzid !== authcid)
    return { kind: 'invalid', why: 'logging in as another account (authzid) is not supported' };
  return { kind: 'credentials', nick: authcid, password };
}
