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

export const NICK_MAX_CHARS = 32;
export const NICK_MAX_COLUMNS = 32;
/** A nick is at most 32 characters of at most 4 UTF-8 bytes each. */
export const NICK_MAX_BYTES = NICK_MAX_CHARS * 4;
/** More combining marks than this on one letter is stacking ("Zalgo"), not writing. */
const MAX_MARKS_IN_A_ROW = 4;

export const NICK_PUNCTUATION = '_-.[]{}|^`';

/** UAX #31 table 7, "Recommended Scripts" (by their long property names). */
const RECOMMENDED_SCRIPTS = [
  'Latin', 'Arabic', 'Armenian', 'Bengali', 'Bopomofo', 'Cyrillic', 'Devanagari', 'Ethiopic', 'Georgian',
  'Greek', 'Gujarati', 'Gurmukhi', 'Han', 'Hangul', 'Hebrew', 'Hiragana', 'Kannada', 'Katakana', 'Khmer',
  'Lao', 'Malayalam', 'Myanmar', 'Oriya', 'Sinhala', 'Tamil', 'Telugu', 'Thaana', 'Thai', 'Tibetan',
] as const;
type Script = (typeof RECOMMENDED_SCRIPTS)[number];

const SCRIPT_TESTS: ReadonlyArray<[Script, RegExp]> = RECOMMENDED_SCRIPTS.map((s) => [s, new RegExp(`^\\p{Script_Extensions=${s}}$`, 'u')]);
/** Latin with Han and Japanese kana, with Han and Bopomofo, or with Han and Hangul: one writing system each. */
const HIGHLY_RESTRICTIVE_SETS: ReadonlyArray<ReadonlySet<Script>> = [
  new Set<Script>(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set<Script>(['Latin', 'Han', 'Bopomofo']),
  new Set<Script>(['Latin', 'Han', 'Hangul']),
];

const LETTER_OR_MARK = /^[\p{L}\p{M}]$/u;
const MARK = /^\p{M}$/u;
const DIGIT = /^\p{Nd}$/u;
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Bidi_Control}\p{White_Space}\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}]/u;
/** Letters a terminal draws two columns wide (East Asian Wide); marks take none. Checked against string-width in the tests. */
const WIDE = /^[\u3000-\u303f\u30fc\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Bopomofo}\p{Script=Hangul}]$/u;
/** Spacing marks (Mc) take a column; the others sit on their letter. */
const ZERO_WIDTH_MARK = /^[\p{Mn}\p{Me}]$/u;
const NARROW_HANGUL = /^[\u1160-\u11ff\ud7b0-\ud7ff]$/u;

export type NickCheck = { ok: true; nick: string } | { ok: false; reason: string };

/** The nick as it will be used (NFC), or why it cannot be one. */
export function checkNick(raw: string): NickCheck {
  const nick = raw.normalize('NFC');
  const chars = [...nick];
  if (chars.length === 0) return { ok: false, reason: 'a nick cannot be empty' };
  if (chars.length > NICK_MAX_CHARS) return { ok: false, reason: `a nick is at most ${NICK_MAX_CHARS} characters (this one has ${chars.length})` };
  const hidden = INVISIBLE.exec(nick);
  if (hidden) return { ok: false, reason: `${describe(hidden[0])} is invisible or reorders text, so it cannot be in a nick` };
  if (nick.normalize('NFKC') !== nick) return { ok: false, reason: `use ${JSON.stringify(nick.normalize('NFKC'))}: a nick cannot use compatibility forms (fullwidth, ligatures, superscripts, styled letters)` };
  const bad = chars.find((ch) => !allowedChar(ch));
  if (bad !== undefined) return { ok: false, reason: `${describe(bad)} cannot be in a nick: use letters, digits and ${NICK_PUNCTUATION.split('').join(' ')}` };
  if (MARK.test(chars[0]!)) return { ok: false, reason: 'a nick cannot start with a combining mark' };
  if (stackedMarks(nick)) return { ok: false, reason: `too many combining marks on one letter (at most ${MAX_MARKS_IN_A_ROW}, none repeated)` };
  if (new Set(chars.filter((ch) => DIGIT.test(ch)).map(digitZero)).size > 1) return { ok: false, reason: 'digits from two numbering systems in one nick look like other digits' };
  const columns = nickColumns(nick);
  if (columns > NICK_MAX_COLUMNS) return { ok: false, reason: `a nick is at most ${NICK_MAX_COLUMNS} columns wide (this one takes ${columns})` };
  const mix = mixedScriptProblem(chars);
  if (mix) return { ok: false, reason: mix };
  return { ok: true, nick };
}

/** Nicks are unique regardless of case: full case folding (ß = ss, Σ = σ = ς), on the NFC form. */
export function foldNick(nick: string): string {
  return nick.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
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
  return scriptsOf(ch) !== 'none';
}

/**
 * The recommended scripts a character belongs to (Script_Extensions), 'any'
 * for characters of every script (ASCII digits and punctuation, inherited
 * marks), 'none' for letters of other scripts.
 */
function scriptsOf(ch: string): Set<Script> | 'any' | 'none' {
  if (NICK_PUNCTUATION.includes(ch) || (ch >= '0' && ch <= '9') || /^\p{Script_Extensions=Inherited}$/u.test(ch)) return 'any';
  const found = new Set<Script>();
  for (const [name, re] of SCRIPT_TESTS) if (re.test(ch)) found.add(name);
  return found.size === 0 ? 'none' : found;
}

function mixedScriptProblem(chars: string[]): string | null {
  const sets = chars.map(scriptsOf).filter((s): s is Set<Script> => s !== 'any' && s !== 'none');
  if (sets.length === 0) return null;
  const covers = (allowed: ReadonlySet<Script>) => sets.every((s) => [...s].some((x) => allowed.has(x)));
  // Single script: one script that every character belongs to.
  if (RECOMMENDED_SCRIPTS.some((s) => covers(new Set([s])))) return null;
  if (HIGHLY_RESTRICTIVE_SETS.some(covers)) return null;
  const latinWith = RECOMMENDED_SCRIPTS.filter((s) => s !== 'Latin' && s !== 'Cyrillic' && s !== 'Greek');
  if (latinWith.some((s) => covers(new Set<Script>(['Latin', s])))) return null;
  const named = [...new Set(sets.map((s) => [...s][0]!))].slice(0, 3).join(' and ');
  return `a nick cannot mix ${named} letters (one script, or Latin with one other except Cyrillic and Greek, or Han with kana, Bopomofo or Hangul)`;
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

function describe(ch: string): string {
  const hex = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  const shown = /^[\p{L}\p{N}\p{P}\p{S}]$/u.test(ch) ? ` (${ch})` : '';
  return `U+${hex}${shown}`;
}
