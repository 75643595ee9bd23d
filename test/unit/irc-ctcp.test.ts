import { describe, expect, it } from 'vitest';
import { answerQuery, readText, stripFormatting, toIrcText } from '../../server/irc/ctcp.js';

const ctx = {
  version: 'heartbeat-chat 0.1.0',
  source: 'https://example.invalid/heartbeat-chat',
  now: () => Date.UTC(2026, 11, 7, 8),
};

describe('CTCP', () => {
  it('ACTION comes in as an action, with or without the closing \\x01', () => {
    expect(readText('\u0001ACTION waves\u0001', 'PRIVMSG')).toEqual({ kind: 'text', text: 'waves', action: true });
    expect(readText('\u0001ACTION waves', 'PRIVMSG')).toEqual({ kind: 'text', text: 'waves', action: true });
    expect(readText('\u0001action 挥手\u0001', 'PRIVMSG')).toEqual({ kind: 'text', text: '挥手', action: true });
  });

  it('plain text is text, without its formatting codes', () => {
    expect(
      readText('\u0002bold\u0002 and \u000304,12red\u000f \u0004ff0000,00ff00hex\u0004 \u001ditalic', 'PRIVMSG'),
    ).toEqual({
      kind: 'text',
      text: 'bold and red hex italic',
      action: false,
    });
    expect(stripFormatting('\u00031,2x\u00039y\u0003z 1\u0003,5')).toBe('xyz 1,5');
  });

  it('other queries stop at the door; CTCP replies are dropped; an empty frame is empty text', () => {
    expect(readText('\u0001VERSION\u0001', 'PRIVMSG')).toEqual({ kind: 'query', query: 'VERSION', arg: '' });
    expect(readText('\u0001PING 1733558400 123\u0001', 'PRIVMSG')).toEqual({
      kind: 'query',
      query: 'PING',
      arg: '1733558400 123',
    });
    expect(readText('\u0001DCC SEND f 1 2 3\u0001', 'PRIVMSG')).toEqual({
      kind: 'query',
      query: 'DCC',
      arg: 'SEND f 1 2 3',
    });
    expect(readText('\u0001VERSION irssi\u0001', 'NOTICE')).toEqual({ kind: 'drop' });
    for (const empty of ['\u0001', '\u0001\u0001', '\u0001 \u0001'])
      expect(readText(empty, 'PRIVMSG')).toEqual({ kind: 'text', text: '', action: false });
  });

  it('the door answers VERSION, PING, TIME, CLIENTINFO, SOURCE itself and refuses the rest with ERRMSG', () => {
    expect(answerQuery('VERSION', '', ctx)).toBe(
      '\u0001VERSION heartbeat-chat 0.1.0 (answered by the server: users here may be on any client)\u0001',
    );
    expect(answerQuery('PING', '1733558400 123', ctx)).toBe('\u0001PING 1733558400 123\u0001');
    expect(answerQuery('TIME', '', ctx)).toBe('\u0001TIME 2026-12-07T08:00:00.000Z\u0001');
    expect(answerQuery('CLIENTINFO', '', ctx)).toBe(
      '\u0001CLIENTINFO ACTION CLIENTINFO PING SOURCE TIME VERSION\u0001',
    );
    expect(answerQuery('SOURCE', '', ctx)).toBe('\u0001SOURCE https://example.invalid/heartbeat-chat\u0001');
    expect(answerQuery('DCC', 'SEND f', ctx)).toBe(
      '\u0001ERRMSG DCC :not relayed: this chat carries text and /me only\u0001',
    );
  });

  it('chat text goes out as IRC text, an action as ACTION, and never forms a CTCP frame of its own', () => {
    expect(toIrcText('hi', false)).toBe('hi');
    expect(toIrcText('waves', true)).toBe('\u0001ACTION waves\u0001');
    expect(toIrcText('\u0001VERSION\u0001', false)).toBe('\u2401VERSION\u2401');
  });
});
