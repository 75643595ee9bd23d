/**
 * Addresses a registered nick has logged in from with its password (or
 * registered from), remembered for KNOWN_FOR_MS. A nick locked by many wrong
 * passwords stays locked for addresses it has never used, which is what slows
 * guessing spread over many addresses; its owner, from an address it used
 * before, is not locked out by someone else's guesses. The device cookies of
 * OWASP's "slow brute-force" defence, keyed by address because a chat client
 * on a LAN keeps no cookie jar.
 *
 * Only a right password writes here, so a guesser cannot fill the table; the
 * records share the nick throttle's (shared memory, every worker, bounded:
 * the idle longest forgotten first), under a key no nick digest can take.
 */
import { createHash } from 'node:crypto';
import { foldCase } from '../../common/unicode/text-policy.js';
import type { ThrottleRecords } from '../auth-throttle.js';

export const KNOWN_FOR_MS = 30 * 24 * 3600_000;

export class KnownCallers {
  constructor(private readonly records: ThrottleRecords) {}

  remember(nick: string, address: string, now: number): void {
    this.records.update(knownKey(nick, address), () => ({ failures: 0, lockedUntil: 0, lastAt: now }));
  }

  has(nick: string, address: string, now: number): boolean {
    const r = this.records.get(knownKey(nick, address));
    return r !== undefined && now - r.lastAt <= KNOWN_FOR_MS;
  }
}

/** 'k' and 32 hex digits: within the table's 64-byte keys whatever the address, and never a nick key (32 digits). */
function knownKey(nick: string, address: string): string {
  return `k${createHash('sha256').update(foldCase(nick)).update('\0').update(address).digest('hex').slice(0, 32)}`;
}
