/**
 * One Unicode policy for what people read: chat text is neutralised (bidi
 * controls, separators and lone surrogates made visible; invisible-only text
 * is empty), file names are refused when they could hide or reorder.
 */
import { describe, expect, it } from 'vitest';
import { clipChars, clipUtf8, isBlank, neutralizeControls } from '../../common/unicode/text-policy.js';
import { checkFileName } from '../../common/unicode/file-name-rule.js';
import { lookAlikeKey } from '../../common/unicode/confusables.js';

const refusal = (name: string) => {
  const c = checkFileName(name);
  return c.ok ? `accepted ${c.name}` : c.reason;
};

describe('chat text', () => {
  it('makes bidi marks, line and paragraph separators and lone surrogates visible', () => {
    for (const ch of ['\u200e', '\u200f', '\u061c', '\u202e', '\u2067', '\u2028', '\u2029', '\ud800', '\udfff']) {
      expect(neutralizeControls(`a${ch}b`), JSON.stringify(ch)).toBe('a\ufffdb');
    }
    expect(neutralizeControls('\u001b[2J')).toBe('\u241b[2J');
    // Joiners stay: emoji sequences and Persian need them.
    expect(neutralizeControls('👨\u200d👩\u200d👧 می\u200cخواهم')).toBe('👨\u200d👩\u200d👧 می\u200cخواهم');
  });

  it('counts text made only of invisible characters as empty', () => {
    expect(isBlank('\u200b\u200b\u200b')).toBe(true);
    expect(isBlank(' \ufeff\u2060\u3164\u2800 ')).toBe(true);
    expect(isBlank('\u200bx')).toBe(false);
    expect(isBlank('👍')).toBe(false);
  });

  it('clips between code points', () => {
    expect(clipChars('😀😀😀', 2)).toBe('😀😀');
    expect(clipUtf8('ab😀', 5)).toBe('ab');
    expect(clipUtf8('大家好', 7)).toBe('大家');
  });
});

describe('file names', () => {
  it('refuses names that hide or reorder what they show', () => {
    expect(refusal('invoice\u202efdp.exe')).toMatch(/U\+202E.*reorders/);
    expect(refusal('report\u200b.pdf')).toMatch(/U\+200B/);
    expect(refusal('\ufeffnotes.txt')).toMatch(/U\+FEFF/);
    expect(refusal('a\u2028b.txt')).toMatch(/U\+2028/);
    expect(refusal('a\ud800.txt')).toMatch(/U\+D800/);
    expect(refusal('tab\there')).toMatch(/U\+0009/);
    expect(refusal('a\u00a0b.txt')).toMatch(/U\+00A0.*spaces/);
    expect(refusal(' lead.txt')).toMatch(/starts or ends with a space/);
  });

  it('refuses a word that mixes look-alike scripts, not names in any one script', () => {
    expect(refusal('inv\u043eice.pdf')).toMatch(/mixes Latin and Cyrillic.*"invоice"/);
    expect(checkFileName('Отчёт_report.pdf').ok).toBe(true);
    expect(checkFileName('大家好 hello.txt').ok).toBe(true);
    expect(checkFileName('علي.png').ok).toBe(true);
    expect(checkFileName('（１）全角.txt').ok).toBe(true);
  });

  it('takes a name in its NFC form, up to 255 bytes', () => {
    expect(checkFileName('Zoe\u0308.txt')).toEqual({ ok: true, name: 'Zoë.txt' });
    const max = `${'é'.repeat(125)}.abcd`;
    expect(checkFileName(max).ok).toBe(true);
    expect(refusal(`${max}e`)).toMatch(/longer than 255 bytes \(it has 256\)/);
    expect(refusal('.hidden')).toMatch(/dot/);
    expect(refusal('a/b')).toMatch(/separator/);
  });
});

describe('look-alike names', () => {
  it('are one key in any case form, with a dot above, or a capital I for l', () => {
    const alice = lookAlikeKey('Alice');
    for (const twin of ['alice', 'ALICE', 'alİce', 'ALİCE', 'Aiice', 'AIice', 'Alıce', 'a1ice', 'Аlice'])
      expect(lookAlikeKey(twin), twin).toBe(alice);
    expect(lookAlikeKey('Straße')).toBe(lookAlikeKey('STRASSE'));
  });

  it('keeps names apart that look different in every form', () => {
    const keys = ['alice', 'bob', 'carol', '小明', '小朋', 'Ольга', 'alan', 'Zoë', 'zoe'].map(lookAlikeKey);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
