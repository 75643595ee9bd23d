/** Comparing secrets (LFTP --token, --admin-token) without leaking them through timing. */
import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time: both sides are hashed to 32 bytes first, so neither the
 * content nor the length of the secret shows in how long the comparison takes.
 */
export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
