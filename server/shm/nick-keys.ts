/**
 * The two keys a session slot keeps for its nick, so that every worker can
 * compare nicks in shared memory without decoding them:
 *   - fold: the case-folded nick. Equal folds are the same nick (Alice = alice,
 *     NFD = NFC); lookups (/msg, /kick) go by it.
 *   - look: what the nick looks like, skeleton(fold(skeleton(nick))). The inner
 *     skeleton catches look-alikes that differ in case (capital I for l), the
 *     fold and the outer one catch the rest in any case (АРЕ, аре, ape). A new
 *     nick whose look equals one in use is refused: it would pass for it.
 * Keys are SHA-256 of the UTF-8 text cut to 16 bytes: a fixed size however
 * much folding and mapping expand a nick (m → rn, ß → ss), and collisions are
 * out of reach (2^64 work for a birthday pair, 2^128 to hit a given nick).
 */
import { createHash } from 'node:crypto';
import { lookAlikeKey } from '../../common/unicode/confusables.js';
import { foldCase } from '../../common/unicode/text-policy.js';
import { formatDuration } from '../../common/units.js';

export const NICK_KEY_BYTES = 16;

export interface NickKeys {
  fold: Uint8Array;
  look: Uint8Array;
}

function digest(text: string): Uint8Array {
  return createHash('sha256').update(text, 'utf8').digest().subarray(0, NICK_KEY_BYTES);
}

export function nickKeys(nick: string): NickKeys {
  return { fold: foldKey(nick), look: digest(lookAlikeKey(nick)) };
}

/**
 * What to tell someone whose nick is refused because it is, or looks like, a nick in use; when its holder is
 * away, for how long it is kept (its resume window, `windowMs`, from `awaySince`; `now` on the same wall clock).
 */
export function nickTakenText(
  nick: string,
  conflict: { holder: string; same: boolean; awaySince?: number },
  window: { windowMs: number; now: number } = { windowMs: 0, now: 0 },
): string {
  if (conflict.awaySince === undefined) {
    if (conflict.same) return `nick ${nick} is taken`;
    return `nick ${nick} is taken: it looks like ${conflict.holder}, who is online`;
  }
  const ago = formatDuration(Math.max(0, window.now - conflict.awaySince));
  // Whole seconds, rounded up: the store ends it within a second after.
  const left = formatDuration(
    Math.max(1, Math.ceil((conflict.awaySince + window.windowMs - window.now) / 1000)) * 1000,
  );
  const away = `(connection lost ${ago} ago), kept for ${left} more for its holder to resume`;
  if (conflict.same) return `nick ${nick} is taken: its session is away ${away}`;
  return `nick ${nick} is taken: it looks like ${conflict.holder}, whose session is away ${away}`;
}

/** Only the fold, for lookups: cheaper, and a look-alike of a nick is not that nick. */
export function foldKey(nick: string): Uint8Array {
  return digest(foldCase(nick));
}
