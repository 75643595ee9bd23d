/**
 * Our serializer read back by a real client library's parser: irc-framework
 * (the library the IRC door's end-to-end bot will use) must see the same
 * tags, source, command and parameters we meant, escapes and trailing
 * parameters included.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { type IrcMessage, serialize } from '../../server/irc/message.js';

type Parsed = { tags: Record<string, string | true>; prefix: string; command: string; params: string[] };
const parseIrcLine = createRequire(import.meta.url)('irc-framework/src/irclineparser.js') as (l: string) => Parsed;

const CASES: IrcMessage[] = [
  { source: 'alice!alice@chat', command: 'PRIVMSG', params: ['#lobby', 'hello there'] },
  { source: 'alice!alice@chat', command: 'PRIVMSG', params: ['#lobby', ''] },
  { source: 'alice!alice@chat', command: 'PRIVMSG', params: ['#lobby', ':-) starts with a colon'] },
  { source: '小明!xiaoming@chat', command: 'PRIVMSG', params: ['#lobby', '你好 👋'] },
  { source: 'irc.chat', command: '353', params: ['bob', '=', '#lobby', 'alice bob 小明'] },
  { source: 'irc.chat', command: '005', params: ['bob', 'CHANTYPES=#', 'NICKLEN=32', 'are supported by this server'] },
  {
    tags: { time: '2026-12-07T08:00:00.000Z', label: 'x y;z\\w', account: 'alice', 'draft/bot': '' },
    source: 'alice!alice@chat',
    command: 'PRIVMSG',
    params: ['bob', '\u0001ACTION waves\u0001'],
  },
];

describe('irc-framework reads what we write', () => {
  it.each(CASES.map((m) => [serialize(m), m] as const))('%s', (line, msg) => {
    const got = parseIrcLine(`${line}\r\n`);
    expect(got.command).toBe(msg.command);
    expect(got.prefix).toBe(msg.source);
    expect(got.params).toEqual(msg.params);
    const tags = Object.fromEntries(Object.entries(got.tags).map(([k, v]) => [k, v === true ? '' : v]));
    expect(tags).toEqual(msg.tags ?? {});
  });
});
