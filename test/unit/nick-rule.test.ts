import { describe, expect, it } from 'vitest';
import stringWidth from 'string-width';
import { NICK_MAX_BYTES, checkNick, nickColumns, nickWithSuffix } from '../../common/unicode/nick-rule.js';
import { foldCase as foldNick } from '../../common/unicode/text-policy.js';
import { validateNick } from '../../common/text.js';
import { skeleton } from '../../common/unicode/confusables.js';
import { nickKeys } from '../../server/shm/nick-keys.js';

function reason(nick: string): string {
  const r = checkNick(nick);
  if (r.ok) throw new Error(`${JSON.stringify(nick)} was accepted`);
  return r.reason;
}

describe('the nick rule', () => {
  it.each([
    '小明',
    'Zoë',
    'علي',
    'Алёна',
    'Ελένη',
    'अमित',
    'สมชาย',
    '김철수',
    '山田たろう',
    '日本語ABC',
    'Josée_99',
    '[bot]',
    'a-b.c[d]{e}|f^g`',
    'x'.repeat(32),
  ])('accepts %s', (nick) => expect(checkNick(nick)).toEqual({ ok: true, nick }));

  it('is the NFC form: the same nick typed decomposed is one nick', () => {
    expect(checkNick('Zoe\u0308')).toEqual({ ok: true, nick: 'Zo\u00eb' });
    expect(foldNick('ZOE\u0308')).toBe(foldNick('zoë'));
    expect(foldNick('Straße')).toBe(foldNick('STRASSE'));
    expect(foldNick('ΟΔΥΣΣΕΥΣ')).toBe(foldNick('οδυσσευς'));
  });

  it('refuses mixed scripts outside the moderately restrictive profile, with the scripts named', () => {
    expect(reason('\u0430lice')).toMatch(/cannot mix Cyrillic and Latin letters/); // Cyrillic а
    expect(reason('p\u0430ypal')).toMatch(/Cyrillic/);
    expect(reason('αlpha')).toMatch(/Greek and Latin|Latin and Greek/);
    expect(reason('Алёнаאבג')).toMatch(/cannot mix/);
    expect(checkNick('abcअमित').ok).toBe(true); // Latin with one other script that is not Cyrillic or Greek
  });

  it('refuses invisible and reordering characters, naming the code point', () => {
    for (const [nick, cp] of [
      ['x\u200by', 'U+200B'],
      ['a\u202eb', 'U+202E'],
      ['\u3164', 'U+3164'],
      ['a\u200db', 'U+200D'],
      ['\ufeffbob', 'U+FEFF'],
      ['a b', 'U+0020'],
      ['a\u2028b', 'U+2028'],
      ['a\u061cb', 'U+061C'],
    ]) {
      expect(reason(nick!)).toContain(cp);
    }
    expect(reason('esc\x1b')).toContain('U+001B');
    expect(reason('x\ud800y')).toContain('U+D800'); // a lone surrogate
  });

  it('refuses compatibility forms and says which plain form to use', () => {
    expect(reason('ａｌｉｃｅ')).toContain('use "alice"');
    expect(reason('ﬁsh')).toContain('use "fish"');
    expect(reason('𝐚𝐥𝐢𝐜𝐞')).toContain('use "alice"');
  });

  it('refuses what is not a letter, digit or the punctuation, stacked marks, a leading mark and two digit systems', () => {
    for (const nick of ['semi;colon', 'a@b', 'smile😀', '#room', 'ꓲ'])
      expect(reason(nick)).toMatch(/cannot be in a nick/);
    expect(reason('e\u0301\u0301')).toMatch(/combining marks/);
    expect(reason('a\u0300\u0301\u0302\u0303\u0304')).toMatch(/combining marks/);
    expect(reason('\u0301abc')).toMatch(/start with a combining mark/);
    expect(reason('abc1٢')).toMatch(/two numbering systems/);
    expect(checkNick('علي٢٣').ok).toBe(true);
  });

  it('bounds characters and columns', () => {
    expect(reason('')).toMatch(/empty/);
    expect(reason('x'.repeat(33))).toMatch(/at most 32 characters \(this one has 33\)/);
    expect(checkNick('漢'.repeat(16)).ok).toBe(true);
    expect(reason('漢'.repeat(17))).toMatch(/at most 32 columns wide \(this one takes 34\)/);
    expect(new TextEncoder().encode('𠜎'.repeat(16)).length).toBeLessThanOrEqual(NICK_MAX_BYTES);
  });

  it('counts the columns string-width counts, for every character a nick may hold', () => {
    let checked = 0;
    const wrong: string[] = [];
    for (let cp = 0x21; cp < 0x32000; cp++) {
      if (cp >= 0xd800 && cp < 0xe000) continue;
      const ch = String.fromCodePoint(cp);
      const nick = /\p{M}/u.test(ch) ? `a${ch}` : ch;
      if (!checkNick(nick).ok) continue;
      checked++;
      if (nickColumns(nick) !== stringWidth(nick))
        wrong.push(`U+${cp.toString(16)}: ${nickColumns(nick)} vs ${stringWidth(nick)}`);
    }
    expect(checked).toBeGreaterThan(100_000);
    expect(wrong).toEqual([]);
  });

  it('shortens a nick so that its suffixed form is still a nick', () => {
    expect(nickWithSuffix('alice', '_')).toBe('alice_');
    expect(nickWithSuffix('x'.repeat(32), '_')).toBe('x'.repeat(31) + '_');
    expect(nickWithSuffix('漢'.repeat(16), '_')).toBe('漢'.repeat(15) + '_');
  });

  it('validateNick says what is wrong in a NICK_INVALID error', () => {
    expect(validateNick('Zoe\u0308')).toBe('Zoë');
    expect(() => validateNick('\u0430lice')).toThrowError(
      expect.objectContaining({
        code: 'NICK_INVALID',
        message: expect.stringMatching(/^invalid nick "аlice": a nick cannot mix/),
      }),
    );
    expect(() => validateNick(5)).toThrowError(expect.objectContaining({ code: 'NICK_INVALID' }));
    expect(() => validateNick(null)).toThrowError(/not null/);
  });
});

describe('confusable skeletons (UTS #39)', () => {
  it('maps look-alikes to one skeleton', () => {
    expect(skeleton('\u0430\u0440\u0435')).toBe(skeleton('ape')); // Cyrillic
    expect(skeleton('aIice')).toBe(skeleton('alice'));
    expect(skeleton('rn')).toBe(skeleton('m'));
    expect(skeleton('a\u200bb')).toBe('ab');
    expect(skeleton('alice')).not.toBe(skeleton('alicf'));
  });

  it('gives one look key to the look-alikes of a nick in any case, and keeps different nicks apart', () => {
    const look = (n: string) => Buffer.from(nickKeys(n).look).toString('hex');
    const fold = (n: string) => Buffer.from(nickKeys(n).fold).toString('hex');
    for (const alike of ['aIice', 'AIice', 'a1ice', 'Alice']) expect(look(alike)).toBe(look('alice'));
    for (const alike of ['АРЕ', 'аре', 'APE']) expect(look(alike)).toBe(look('ape'));
    expect(fold('ALICE')).toBe(fold('alice'));
    expect(fold('aIice')).not.toBe(fold('alice'));
    for (const other of ['bob', 'alicia', 'Zoë', 'zoe', '小明', '小朋']) expect(look(other)).not.toBe(look('alice'));
    expect(look('zoe')).not.toBe(look('Zoë'));
  });
});

describe('room names', () => {
  it('are # and a name under the nick rule, in any script; told apart without case', async () => {
    const { checkRoomName, roomKey } = await import('../../common/unicode/room-rule.js');
    expect(checkRoomName('#lobby')).toEqual({ ok: true, room: '#lobby' });
    expect(checkRoomName('#大家')).toEqual({ ok: true, room: '#大家' });
    expect(checkRoomName('#net-lab_2')).toEqual({ ok: true, room: '#net-lab_2' });
    expect(checkRoomName('lobby')).toEqual({ ok: false, reason: "a room's name starts with # (#lobby)" });
    expect(checkRoomName('#')).toEqual({ ok: false, reason: "a room's name cannot be empty" });
    expect(checkRoomName(`#${'a'.repeat(33)}`)).toMatchObject({
      ok: false,
      reason: "a room's name is at most 32 characters (this one has 33)",
    });
    expect(checkRoomName('#two words')).toMatchObject({
      ok: false,
      reason: expect.stringContaining("cannot be in a room's name"),
    });
    expect(checkRoomName('#lobby\u202e')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('invisible or reorders text'),
    });
    expect(checkRoomName('#pаypal')).toMatchObject({
      ok: false,
      reason: expect.stringContaining("a room's name cannot mix"),
    }); // Cyrillic а
    expect(roomKey('#Lobby')).toBe(roomKey('#LOBBY'));
  });
});
