/**
 * Passwords of registered nicks, kept as scrypt hashes (node:crypto, RFC 7914),
 * never in clear: `scrypt$N$r$p$salt$hash`, salt and hash base64url. The
 * parameters travel with each hash, so raising them later leaves the old
 * hashes readable. N = 2^15, r = 8, p = 1 costs 32 MiB and 176-231 ms of
 * one core on the 2-core machines this was measured on (5 runs, the test
 * suite running beside them; N = 2^14, Django's and RFC 7914's interactive
 * choice, took 85-101 ms): slow enough that a
 * stolen database is expensive to guess through, cheap enough for a login.
 * Hashing runs on libuv's thread pool, not on the worker's event loop.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { ProtocolError } from '../../common/errors.js';

export const SCRYPT_N = 2 ** 15;
export const SCRYPT_R = 8;
export const SCRYPT_P = 1;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Passwords are 8-256 bytes of UTF-8 (a passphrase fits; a whole file does not). */
export const PASSWORD_MIN_CHARS = 8;
export const PASSWORD_MAX_BYTES = 256;
/** The largest N a stored hash may ask for: a damaged row must not make a login allocate gigabytes. */
const MAX_N = 2 ** 20;

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  const options: ScryptOptions = { N: n, r, p, maxmem: 256 * n * r };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, HASH_BYTES, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** Throws PASSWORD_INVALID unless the password is one the server takes. */
export function checkPassword(password: string): void {
  if ([...password].length < PASSWORD_MIN_CHARS)
    throw new ProtocolError('PASSWORD_INVALID', `a password has at least ${PASSWORD_MIN_CHARS} characters`);
  if (Buffer.byteLength(password) > PASSWORD_MAX_BYTES)
    throw new ProtocolError('PASSWORD_INVALID', `a password has at most ${PASSWORD_MAX_BYTES} bytes`);
  if (/\p{Cc}/u.test(password)) throw new ProtocolError('PASSWORD_INVALID', 'a password has no control characters');
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P);
  return ['scrypt', SCRYPT_N, SCRYPT_R, SCRYPT_P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** True if the password is the one hashed; false for any other, and for a stored value that is not a hash this module made. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const valid = Number.isInteger(Math.log2(n)) && n >= 2 && n <= MAX_N && r >= 1 && r <= 32 && p >= 1 && p <= 16;
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (!valid || expected.length !== HASH_BYTES || Buffer.byteLength(password) > PASSWORD_MAX_BYTES) return false;
  const key = await derive(password, Buffer.from(parts[4]!, 'base64url'), n, r, p);
  return timingSafeEqual(key, expected);
}
