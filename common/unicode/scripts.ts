/**
 * Which writing system a character belongs to, and whether a run of
 * characters mixes writing systems the way spoofed names do (UTS #39,
 * "moderately restrictive"), with the Script_Extensions tables JavaScript's
 * regular expressions carry. Dependency-free: the browser page runs it too.
 */

/** UAX #31 table 7, "Recommended Scripts" (by their long property names). */
export const RECOMMENDED_SCRIPTS = [
  'Latin',
  'Arabic',
  'Armenian',
  'Bengali',
  'Bopomofo',
  'Cyrillic',
  'Devanagari',
  'Ethiopic',
  'Georgian',
  'Greek',
  'Gujarati',
  'Gurmukhi',
  'Han',
  'Hangul',
  'Hebrew',
  'Hiragana',
  'Kannada',
  'Katakana',
  'Khmer',
  'Lao',
  'Malayalam',
  'Myanmar',
  'Oriya',
  'Sinhala',
  'Tamil',
  'Telugu',
  'Thaana',
  'Thai',
  'Tibetan',
] as const;
export type Script = (typeof RECOMMENDED_SCRIPTS)[number];

const SCRIPT_TESTS: ReadonlyArray<[Script, RegExp]> = RECOMMENDED_SCRIPTS.map((s) => [
  s,
  new RegExp(`^\\p{Script_Extensions=${s}}$`, 'u'),
]);
/** Latin with Han and Japanese kana, with Han and Bopomofo, or with Han and Hangul: one writing system each. */
const HIGHLY_RESTRICTIVE_SETS: ReadonlyArray<ReadonlySet<Script>> = [
  new Set<Script>(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set<Script>(['Latin', 'Han', 'Bopomofo']),
  new Set<Script>(['Latin', 'Han', 'Hangul']),
];
/** Latin may be mixed with one other recommended script, except the two whose letters copy Latin's. */
const LATIN_PARTNERS = RECOMMENDED_SCRIPTS.filter((s) => s !== 'Latin' && s !== 'Cyrillic' && s !== 'Greek');

const COMMON = /^\p{Script_Extensions=Common}$/u;
const INHERITED = /^\p{Script_Extensions=Inherited}$/u;

/**
 * The recommended scripts a character belongs to; 'common' for characters
 * every script uses (ASCII digits, punctuation), 'inherited' for marks that
 * take their letter's script, 'none' for characters of other scripts.
 */
export function scriptsOf(ch: string): Set<Script> | 'common' | 'inherited' | 'none' {
  if (COMMON.test(ch)) return 'common';
  if (INHERITED.test(ch)) return 'inherited';
  const found = new Set<Script>();
  for (const [name, re] of SCRIPT_TESTS) if (re.test(ch)) found.add(name);
  return found.size === 0 ? 'none' : found;
}

/**
 * Null when the characters' recommended scripts form one writing system
 * (one script, Latin with Han and kana, Han with Bopomofo or Hangul, or
 * Latin with one other script that is not Cyrillic or Greek); otherwise the
 * scripts mixed, for a message ("Latin and Cyrillic"). Characters of no
 * recommended script are not counted.
 */
export function scriptMix(chars: Iterable<string>): string | null {
  const sets: Array<Set<Script>> = [];
  for (const ch of chars) {
    const s = scriptsOf(ch);
    if (s instanceof Set) sets.push(s);
  }
  if (sets.length === 0) return null;
  const covers = (allowed: ReadonlySet<Script>) => sets.every((s) => [...s].some((x) => allowed.has(x)));
  if (RECOMMENDED_SCRIPTS.some((s) => covers(new Set([s])))) return null;
  if (HIGHLY_RESTRICTIVE_SETS.some(covers)) return null;
  if (LATIN_PARTNERS.some((s) => covers(new Set<Script>(['Latin', s])))) return null;
  return [...new Set(sets.map((s) => [...s][0]!))].slice(0, 3).join(' and ');
}

/** What the mixing rule allows, for messages. */
export const SCRIPT_MIX_RULE =
  'one script, or Latin with one other except Cyrillic and Greek, or Han with kana, Bopomofo or Hangul';
