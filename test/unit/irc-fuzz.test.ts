/**
 * Whatever a client sends, the door answers or refuses, and never throws
 * anything but an IrcError: random bytes through the parser and the
 * splitter, random lines through registration and the command mapping.
 * Seeded, so a failure is repeatable.
 */
import { describe, expect, it } from 'vitest';
import { offeredCapabilities } from '../../server/irc/caps.js';
import { fromIrc } from '../../server/irc/from-irc.js';
import { IrcError } from '../../server/irc/irc-error.js';
import { LineSplitter } from '../../server/irc/line-splitter.js';
import { type IrcMessage, parseLine, parseLineBytes, serialize } from '../../server/irc/message.js';
import { Registration } from '../../server/irc/registration.js';

/** mulberry32: a small seeded generator. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  'NICK',
  'USER',
  'CAP',
  'LS',
  '302',
  'REQ',
  'END',
  'AUTHENTICATE',
  'PLAIN',
  '+',
  '*',
  'PASS',
  'PRIVMSG',
  'NOTICE',
  'JOIN',
  'PART',
  '#lobby',
  '0',
  'TOPIC',
  'MODE',
  'WHO',
  'WHOIS',
  '%na,1',
  'NickServ',
  'IDENTIFY',
  'xn--yeto6u',
  '小明',
  ':',
  ':hello world',
  '\u0001ACTION',
  '\u0001VERSION\u0001',
  'sasl',
  'a,b',
  'QUIT',
  'PING',
  '@a=b\\',
  'KICK',
  'LIST',
];

function randomLine(r: () => number): string {
  const n = 1 + Math.floor(r() * 6);
  return Array.from({ length: n }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' ');
}

function onlyIrcErrors(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof IrcError)) throw err;
    return err;
  }
}

describe('nothing a client sends crashes the door', () => {
  it('random bytes: a message or an IrcError; a parsed message serializes and parses back the same', () => {
    const r = rng(37);
    const alphabet = Buffer.from('@:; =\\/+-#abcXYZ019 \u00e9\u5c0f', 'utf8');
    for (let i = 0; i < 5000; i++) {
      const len = Math.floor(r() * 80);
      const bytes = Buffer.from(
        Array.from({ length: len }, () =>
          r() < 0.9 ? alphabet[Math.floor(r() * alphabet.length)]! : Math.floor(r() * 256),
        ),
      );
      const got = onlyIrcErrors(() => parseLineBytes(bytes));
      if (got instanceof IrcError) continue;
      const msg = got as IrcMessage;
      const again = onlyIrcErrors(() => parseLine(serialize(msg)));
      if (again instanceof IrcError) expect(again.code).toBe('IRC_BAD_OUTPUT');
      else expect(again).toEqual(msg);
    }
  });

  it('the splitter gives the same lines however the stream is cut', () => {
    const r = rng(7);
    const text = Array.from({ length: 200 }, () => randomLine(r)).join('\r\n');
    const wire = Buffer.from(`${text}\n`);
    const whole = new LineSplitter().push(wire);
    const s = new LineSplitter();
    const pieces = [];
    for (let at = 0; at < wire.length; ) {
      const n = 1 + Math.floor(r() * 50);
      pieces.push(...s.push(wire.subarray(at, at + n)));
      at += n;
    }
    expect(pieces).toEqual(whole);
  });

  it('random lines through registration and the command mapping', () => {
    const r = rng(2026);
    for (let conn = 0; conn < 200; conn++) {
      const reg = new Registration({
        server: { name: 'irc.chat', network: 'H', version: 'v', createdAt: 'now' },
        host: 'irc.chat',
        nickMode: conn % 2 ? 'utf8' : 'ascii',
        limits: { network: 'H', roomsPerUser: 20, historyMax: 200, topicLen: 300, awayLen: 200 },
        offered: offeredCapabilities({ accounts: true, history: true }),
        startedAt: 0,
      });
      for (let i = 0; i < 40; i++) {
        const line = onlyIrcErrors(() => parseLine(randomLine(r)));
        if (line instanceof IrcError) continue;
        const step = reg.line(line as IrcMessage);
        for (const e of step.effects) {
          if (e.kind === 'check-account')
            reg.accountChecked(r() < 0.5 ? { ok: true } : { ok: false, code: 'NICK_PASSWORD_WRONG', message: 'no' });
          if (e.kind === 'hello')
            reg.helloAnswered(
              r() < 0.7
                ? {
                    ok: true,
                    welcome: {
                      nick: e.hello.nick,
                      motd: null,
                      counts: { users: 1, servers: 1, rooms: 1, unknown: 0, local: 1, localMax: 1, globalMax: 1 },
                    },
                  }
                : { ok: false, code: 'NICK_TAKEN', message: 'taken' },
            );
        }
        for (const m of step.replies) expect(() => serialize(m)).not.toThrow();
        const out = fromIrc(
          {
            server: 'irc.chat',
            host: 'irc.chat',
            nickMode: 'utf8',
            me: 'bob',
            rooms: ['#lobby'],
            ctcp: { version: 'v', source: 's', now: () => 0 },
          },
          line as IrcMessage,
        );
        for (const m of out.replies) expect(() => serialize(m)).not.toThrow();
      }
    }
  });
});
