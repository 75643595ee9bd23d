/**
 * What a nick may be, in any script. Dependency-free: the server, the
 * terminal client and the browser page run the same rule, so a name the page
 * accepts is one the server accepts (the server alone also checks that a new
 * nick does not look like one in use: server/shm/nick-keys.ts).
 *
 * The rule (docs/PROTOCOL.md, "Nicks") follows UTS #39's identifier profile
 * and its "moderately restrictive" mixed-script level, with the tables
 * JavaScript has built in (Unicode properties in regular expressions):
 *   - normalised to NFC; unchanged by NFKC (no fullwidth, ligature,
 *     superscript or mathematical look-alikes of ordinary letters);
 *   - letters and combining marks of the scripts UAX #31 recommends, decimal
 *     digits of one numbering system, and _ - . [ ] { } | ^ `;
 *   - no invisible character (default ignorables: zero-width spaces and
 *     joiners, fillers, BOM) and no bidi control, so nothing can hide or
 *     reorder what others read;
 *   - 1-32 characters, at most 32 terminal columns;
 *   - one script, or Latin with Han and kana, Han and Bopomofo, Han and
 *     Hangul, or Latin with one other script that is not Cyrillic or Greek.
 */

import { SCRIPT_MIX_RULE, scriptMix, scriptsOf } from './scripts.js';
import { NAME_INVISIBLE, describeChar as describe } from './text-policy.js';

export const NICK_MAX_CHARS = 32;
export const NICK_MAX_COLUMNS = 32;
/** A nick is at most 32 characters of at most 4 UTF-8 bytes each. */
export const NICK_MAX_BYTES = NICK_MAX_CHARS * 4;
/** More combining marks than this on one letter is stacking ("Zalgo"), not writing. */
const MAX_MARKS_IN_A_ROW = 4;

export const NICK_PUNCTUATION = '_-.[]{}|^`';

/** Names may hold no invisible character; a nick no space either. */
const WHITE_SPACE = /\p{White_Space}/u;
const LETTER_OR_MARK = /^[\p{L}\p{M}]$/u;
const MARK = /^\p{M}$/u;
const DIGIT = /^\p{Nd}$/u;
/** Letters a terminal draws two columns wide (East Asian Wide); marks take none. Checked against string-width in the tests. */
const WIDE =
  /^[\u3000-\u303f\u30fc\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Bopomofo}\p{Script=Hangul}]$/u;
/** Spacing marks (Mc) take a column; the others sit on their letter. */
const ZERO_WIDTH_MARK = /^[\p{Mn}\p{Me}]$/u;
const NARROW_HANGUL = /^[\u1160-\u11ff\ud7b0-\ud7ff]$/u;

export type NickCheck = { ok: true; nick: string } | { ok: false; reason: string };

/** The nick as it will be used (NFC), or why it cannot be one. */
export function checkNick(raw: string): NickCheck {
  return checkName(raw, 'nick');
}

/**
 * The rule nicks follow, for any name people read beside other names (a
 * room's name after its '#' too): `noun` names it in the reasons.
 */
export function checkName(raw: string, noun: string): NickCheck {
  const nick = raw.normalize('NFC');
  const chars = [...nick];
  if (chars.length === 0) return { ok: false, reason: `a ${noun} cannot be empty` };
  if (chars.length > NICK_MAX_CHARS)
    return { ok: false, reason: `a ${noun} is at most ${NICK_MAX_CHARS} characters (this one has ${chars.length})` };
  const hidden = NAME_INVISIBLE.exec(nick);
  if (hidden)
    return { ok: false, reason: `${describe(hidden[0])} is invisible or reorders text, so it cannot be in a ${noun}` };
  const space = WHITE_SPACE.exec(nick);
  if (space)
    return {
      ok: false,
      reason:
        space[0] === ' '
          ? `a space (U+0020) cannot be in a ${noun}`
          : `${describe(space[0])} is a kind of space, so it cannot be in a ${noun}`,
    };
  if (nick.normalize('NFKC') !== nick)
    return {
      ok: false,
      reason: `use ${JSON.stringify(nick.normalize('NFKC'))}: a ${noun} cannot use compatibility forms (fullwidth, ligatures, superscripts, styled letters)`,
    };
  const bad = chars.find((ch) => !allowedChar(ch));
  if (bad !== undefined)
    return {
      ok: false,
      reason: `${describe(bad)} cannot be in a ${noun}: use letters, digits and ${NICK_PUNCTUATION.split('').join(' ')}`,
    };
  if (MARK.test(chars[0]!)) return { ok: false, reason: `a ${noun} cannot start with a combining mark` };
  if (stackedMarks(nick))
    return {
      ok: false,
      reason: `too many combining marks on one letter (at most ${MAX_MARKS_IN_A_ROW}, none repeated)`,
    };
  if (new Set(chars.filter((ch) => DIGIT.test(ch)).map(digitZero)).size > 1)
    return { ok: false, reason: `digits from two numbering systems in one ${noun} look like other digits` };
  const columns = nickColumns(nick);
  if (columns > NICK_MAX_COLUMNS)
    return { ok: false, reason: `a ${noun} is at most ${NICK_MAX_COLUMNS} columns wide (this one takes ${columns})` };
  const mix = scriptMix(chars);
  if (mix) return { ok: false, reason: `a ${noun} cannot mix ${mix} letters (${SCRIPT_MIX_RULE})` };
  return { ok: true, nick };
}

/** Columns the nick takes on a terminal (its letters are never emoji or controls). */
export function nickColumns(nick: string): number {
  let n = 0;
  for (const ch of nick) {
    if (ZERO_WIDTH_MARK.test(ch)) continue;
    n += WIDE.test(ch) && !NARROW_HANGUL.test(ch) ? 2 : 1;
  }
  return n;
}

/** The nick with a suffix, shortened from the end until the result is a nick (taken nick → nick_). */
export function nickWithSuffix(nick: string, suffix: string): string {
  const chars = [...nick];
  for (let keep = chars.length; keep > 0; keep--) {
    const candidate = chars.slice(0, keep).join('') + suffix;
    if (checkNick(candidate).ok) return candidate;
  }
  return suffix;
}

function allowedChar(ch: string): boolean {
  if (NICK_PUNCTUATION.includes(ch) || (ch >= '0' && ch <= '9')) return true;
  if (!LETTER_OR_MARK.test(ch) && !DIGIT.test(ch)) return false;
  const scripts = scriptsOf(ch);
  return scripts === 'inherited' || scripts instanceof Set;
}

function stackedMarks(nick: string): boolean {
  let run = 0;
  let previous = '';
  for (const ch of nick.normalize('NFD')) {
    if (!MARK.test(ch)) {
      run = 0;
      previous = '';
      continue;
    }
    if (++run > MAX_MARKS_IN_A_ROW || ch === previous) return true;
    previous = ch;
  }
  return false;
}

/**
 * The zero of a decimal digit's numbering system. Unicode keeps every
 * system's digits 0-9 contiguous and in order, in runs of ten, so the zero is
 * found by walking back over the run.
 */
function digitZero(ch: string): number {
  const cp = ch.codePointAt(0)!;
  let start = cp;
  while (DIGIT.test(String.fromCodePoint(start - 1))) start--;
  return cp - ((cp - start) % 10);
}
