import { describe, expect, it } from 'vitest';
import type { WhoEntry } from '../../common/messages.js';
import { serialize } from '../../server/irc/message.js';
import { parseWhox } from '../../server/irc/numerics.js';
import { type InfoOf, maskMatcher, whoAnswer, whoisAnswer } from '../../server/irc/who-answer.js';

const ctx = {
  server: { name: 'irc.chat', network: 'Heartbeat', version: 'v', createdAt: 'today' },
  host: 'irc.chat',
  nickMode: 'utf8' as const,
  me: 'bob',
};
const users: WhoEntry[] = [
  { nick: 'alice', idleMs: 4200, rttMs: 3 },
  { nick: 'bob', idleMs: 0, rttMs: 1 },
  { nick: '小明', idleMs: 61_000, rttMs: null, away: true },
  { nick: 'Alfred', idleMs: 0, rttMs: 2 },
];
const infoOf: InfoOf = (n) =>
  n === 'bob'
    ? { door: { kind: 'irc', ident: 'bob' }, realname: 'Bob B', account: 'bob', awayMessage: 'lunch' }
    : n === '小明'
      ? { door: { kind: 'web' } }
      : undefined;
const text = (ls: Parameters<typeof serialize>[0][]) => ls.map(serialize);

describe('WHO from the chat', () => {
  it('a room: its members, with the door, the real name, H or G', () => {
    expect(text(whoAnswer(ctx, '#lab', null, users, ['alice', 'bob', '小明'], infoOf))).toEqual([
      ':irc.chat 352 bob #lab chat irc.chat irc.chat alice H :0 alice',
      ':irc.chat 352 bob #lab ~bob irc.chat irc.chat bob G :0 Bob B',
      ':irc.chat 352 bob #lab web irc.chat irc.chat 小明 G :0 小明',
      ':irc.chat 315 bob #lab :End of WHO list',
    ]);
  });

  it('WHOX for a room', () => {
    expect(text(whoAnswer(ctx, '#lab', parseWhox('%tnfla,7'), users, ['bob', 'alice'], infoOf))).toEqual([
      ':irc.chat 354 bob 7 bob G 0 :bob',
      ':irc.chat 354 bob 7 alice H 4 :0',
      ':irc.chat 315 bob #lab :End of WHO list',
    ]);
  });

  it('a nick pattern, ASCII case ignored; 0 and * are everyone', () => {
    const nicks = (mask: string) =>
      whoAnswer(ctx, mask, null, users, null, infoOf)
        .slice(0, -1)
        .map((m) => m.params[5]);
    expect(nicks('al*')).toEqual(['alice', 'Alfred']);
    expect(nicks('ALICE')).toEqual(['alice']);
    expect(nicks('?o?')).toEqual(['bob']);
    expect(nicks('小*')).toEqual(['小明']);
    expect(nicks('*')).toHaveLength(4);
    expect(nicks('0')).toHaveLength(4);
    expect(nicks('nobody')).toEqual([]);
    expect(maskMatcher('a.c')('abc')).toBe(false);
    expect(maskMatcher('[x]')('[x]')).toBe(true);
  });
});

describe('WHOIS from the chat', () => {
  it('someone online: 311, 312, 301, 330, 317 without a signon time, 318', () => {
    expect(text(whoisAnswer(ctx, 'BOB', users, infoOf))).toEqual([
      ':irc.chat 311 bob bob ~bob irc.chat * :Bob B',
      ':irc.chat 312 bob bob irc.chat :Heartbeat',
      ':irc.chat 301 bob bob :lunch',
      ':irc.chat 330 bob bob bob :is logged in as',
      ':irc.chat 317 bob bob 0 :seconds idle',
      ':irc.chat 318 bob bob :End of /WHOIS list',
    ]);
    expect(text(whoisAnswer(ctx, '小明', users, infoOf))[2]).toBe(
      ':irc.chat 301 bob 小明 :connection lost: may come back',
    );
  });

  it('nobody: 401 then 318', () => {
    expect(text(whoisAnswer(ctx, 'carol', users, infoOf))).toEqual([
      ':irc.chat 401 bob carol :No such nick/channel',
      ':irc.chat 318 bob carol :End of /WHOIS list',
    ]);
  });
});
