/**
 * Resume tokens: 144 random bits, base64url, handed to the client in
 * WELCOME. Only their hash is kept (the session table and the store), the
 * first 16 bytes of SHA-256: a stolen database or memory dump gives no
 * token to resume with, and 128 bits cannot be guessed.
 */
import { createHash, randomBytes } from 'node:crypto';

export const TOKEN_HASH_BYTES = 16;
/** A token as the wire carries it: 24 base64url characters. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{24}$/;

export function newToken(): { token: string; hash: Uint8Array } {
  const token = randomBytes(18).toString('base64url');
  return { token, hash: tokenHash(token) };
}

export function tokenHash(token: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(token).digest().subarray(0, TOKEN_HASH_BYTES));
}

export function hashHex(hash: Uint8Array): string {
  return Buffer.from(hash).toString('hex');
}

export function hexHash(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
