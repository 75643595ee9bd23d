import { describe, expect, it } from 'vitest';
import { checkNick } from '../../common/unicode/nick-rule.js';
import { parseLine, serialize } from '../../server/irc/message.js';
import { decode, encode } from '../../server/irc/punycode.js';
import { fromIrcChannel, fromIrcNick, prefixOf, toIrcNick, userPart } from '../../server/irc/nick-map.js';

const CHAT_NICKS = [
  'alice',
  '小明',
  'Zoë',
  'علي',
  'Алёна',
  '山田たろう',
  '日本語ABC',
  'j.doe',
  '1st',
  '-dash',
  '[bot]',
  'a-b.c[d]{e}|f^g`',
];

describe('Punycode (RFC 3492)', () => {
  it('gives the RFC and IDNA forms, and their strings back', () => {
    // RFC 3492 section 7.1 (L): 3<nen>B<gumi><kinpachi><sensei>
    expect(encode('3年B組金八先生')).toBe('3B-ww4c5e180e575a65lsy2b');
    expect(encode('bücher')).toBe('bcher-kva');
    expect(encode('小明')).toBe('yeto6u');
    for (const s of CHAT_NICKS) expect(decode(encode(s))).toBe(s);
  });

  it('decodes its digits in either case, and refuses what is not Punycode', () => {
    expect(decode('YETO6U')).toBe('小明');
    expect(() => decode('bcher-kv!')).toThrow();
    expect(() => decode('ü-abc')).toThrow();
    expect(() => decode('99999999999999')).toThrow();
  });
});

describe('chat nicks seen from IRC', () => {
  it('utf8 (the default): every chat nick as it is, a valid modern IRC nick, passing the parser whole', () => {
    for (const nick of CHAT_NICKS) {
      expect(checkNick(nick).ok).toBe(true);
      const irc = toIrcNick(nick, 'utf8');
      expect(irc).toBe(nick);
      expect(irc).not.toMatch(/[ ,*?!@]|^[$:#&~%+]/);
      const line = serialize({ source: `${irc}!chat@h`, command: 'PRIVMSG', params: [irc, 'hi'] });
      expect(parseLine(line).params[0]).toBe(nick);
    }
  });

  it('ascii: RFC 2812 nicks as they are, the others as xn-- and their Punycode', () => {
    expect(toIrcNick('alice', 'ascii')).toBe('alice');
    expect(toIrcNick('[bot]', 'ascii')).toBe('[bot]');
    expect(toIrcNick('小明', 'ascii')).toBe('xn--yeto6u');
    expect(toIrcNick('Zoë', 'ascii')).toBe('xn--Zo-ija');
    expect(toIrcNick('j.doe', 'ascii')).toBe('xn--j\\doe-');
    expect(toIrcNick('1st', 'ascii')).toBe('xn--1st-');
    for (const nick of CHAT_NICKS)
      expect(toIrcNick(nick, 'ascii')).toMatch(/^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]*$/);
  });

  it('a chat nick that starts with xn-- is always shown encoded, so every IRC name means one chat nick', () => {
    expect(toIrcNick('xn--abc', 'utf8')).toBe('xn--xn--abc-');
    expect(toIrcNick('XN--abc', 'ascii')).toBe('xn--XN--abc-');
    expect(fromIrcNick('xn--xn--abc-')).toEqual({ ok: true, name: 'xn--abc' });
  });

  it("a chat user named like the door's NickServ is shown encoded, so the name stays the service's", () => {
    expect(toIrcNick('nickserv', 'utf8')).toBe('xn--nickserv-');
    expect(fromIrcNick('xn--nickserv-')).toEqual({ ok: true, name: 'nickserv' });
  });
});

describe('names from IRC', () => {
  it('every shown nick names its chat nick back, in both modes, whatever case the client writes it in', () => {
    for (const nick of [...CHAT_NICKS, 'xn--abc'])
      for (const mode of ['utf8', 'ascii'] as const) {
        const shown = toIrcNick(nick, mode);
        expect(fromIrcNick(shown)).toEqual({ ok: true, name: nick });
        const lower = fromIrcNick(shown.toLowerCase());
        expect(lower.ok && lower.name.toLowerCase()).toBe(nick.toLowerCase());
      }
  });

  it('an xn-- name reaches its nick from any client: /msg xn--yeto6u', () => {
    expect(fromIrcNick('xn--yeto6u')).toEqual({ ok: true, name: '小明' });
    expect(fromIrcNick('XN--YETO6U')).toEqual({ ok: true, name: '小明' });
  });

  it("refuses what the chat's rule refuses, with its reason", () => {
    expect(fromIrcNick('a\\b')).toEqual({ ok: false, reason: expect.stringContaining('U+005C') });
    expect(fromIrcNick('аlice')).toEqual({ ok: false, reason: expect.stringContaining('mix') });
    expect(fromIrcNick('x'.repeat(33))).toEqual({ ok: false, reason: expect.stringContaining('at most 32') });
    expect(fromIrcNick('xn--!!')).toEqual({ ok: false, reason: 'xn--!! is not a valid xn-- (Punycode) name' });
  });

  it('a chat nick from IRC is NFC, as the chat makes it', () => {
    expect(fromIrcNick('Zoe\u0308')).toEqual({ ok: true, name: 'Zoë' });
  });

  it('rooms: the same names; only # rooms; the room rule decides', () => {
    expect(fromIrcChannel('#lobby')).toEqual({ ok: true, name: '#lobby' });
    expect(fromIrcChannel('#实验室')).toEqual({ ok: true, name: '#实验室' });
    expect(fromIrcChannel('&local')).toEqual({ ok: false, reason: 'only # rooms exist here (&local)' });
    expect(fromIrcChannel('#a\u200bb').ok).toBe(false);
  });
});

describe('prefixes', () => {
  it('the door in the user part, one cloak for the host, never an address', () => {
    expect(prefixOf('小明', { kind: 'chat' }, 'irc.chat', 'utf8')).toBe('小明!chat@irc.chat');
    expect(prefixOf('小明', { kind: 'web' }, 'irc.chat', 'ascii')).toBe('xn--yeto6u!web@irc.chat');
    expect(prefixOf('bob', { kind: 'irc', ident: 'bob' }, 'irc.chat', 'utf8')).toBe('bob!~bob@irc.chat');
    expect(userPart({ kind: 'irc', ident: '小明 ; x!y@z very long' })).toBe('~xyzverylon');
    expect(userPart({ kind: 'irc', ident: '' })).toBe('~user');
  });
});
