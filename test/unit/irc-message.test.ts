import { describe, expect, it } from 'vitest';
import {
  MAX_BODY_BYTES,
  MAX_TAGS_BYTES,
  escapeTagValue,
  parseLine,
  parseLineBytes,
  serialize,
  splitUtf8,
  trailingRoom,
  unescapeTagValue,
} from '../../server/irc/message.js';
import { IrcError } from '../../server/irc/irc-error.js';
import { LineSplitter, MAX_WIRE_LINE } from '../../server/irc/line-splitter.js';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof IrcError) return `${err.code} ${err.command}`;
    throw err;
  }
  throw new Error('no error');
}

const bytes = (s: string) => Buffer.from(s, 'utf8');

describe('parsing a line', () => {
  it('command and middle parameters', () => {
    expect(parseLine('nick alice')).toEqual({ command: 'NICK', params: ['alice'] });
    expect(parseLine('USER a 0 * :Alice Liddell')).toEqual({
      command: 'USER',
      params: ['a', '0', '*', 'Alice Liddell'],
    });
  });

  it('a prefix, and a numeric command', () => {
    expect(parseLine(':irc.example 001 alice :Welcome')).toEqual({
      source: 'irc.example',
      command: '001',
      params: ['alice', 'Welcome'],
    });
  });

  it('trailing parameters: empty, with spaces, starting with a colon, with several spaces kept', () => {
    expect(parseLine('TOPIC #lobby :').params).toEqual(['#lobby', '']);
    expect(parseLine('PRIVMSG #lobby :hello  there ').params).toEqual(['#lobby', 'hello  there ']);
    expect(parseLine('PRIVMSG #lobby ::-)').params).toEqual(['#lobby', ':-)']);
    expect(parseLine('PRIVMSG #lobby hi').params).toEqual(['#lobby', 'hi']);
  });

  it('runs of spaces between parameters are one separator', () => {
    expect(parseLine('  JOIN   #a    #b  ')).toEqual({ command: 'JOIN', params: ['#a', '#b'] });
  });

  it('tags, escaped values, valueless and client-only tags, the last of a repeated key', () => {
    const msg = parseLine('@label=a\\sb\\:c\\\\d\\r\\n;+draft/reply=12;flag;k=1;k=2 :n!u@h PRIVMSG #x :hi');
    expect(msg.tags).toEqual({ label: 'a b;c\\d\r\n', '+draft/reply': '12', flag: '', k: '2' });
    expect(msg.source).toBe('n!u@h');
  });

  it('unescapes a backslash before another character to that character, and drops one at the end', () => {
    expect(unescapeTagValue('a\\bc\\')).toBe('abc');
  });

  it('UTF-8 text passes as it is', () => {
    expect(parseLineBytes(bytes('PRIVMSG 小明 :你好, 小明 👋')).params).toEqual(['小明', '你好, 小明 👋']);
  });

  it('refuses NUL, CR or LF inside a line, no command, a bad tag name', () => {
    expect(code(() => parseLine('PRIVMSG #a :x\0y'))).toBe('IRC_BAD_LINE *');
    expect(code(() => parseLine('PRIVMSG #a :x\ry'))).toBe('IRC_BAD_LINE *');
    expect(code(() => parseLine(':only.a.prefix'))).toBe('IRC_BAD_LINE *');
    expect(code(() => parseLine('@ba_d=1 PING x'))).toBe('IRC_BAD_LINE *');
    expect(code(() => parseLine('PRIV.MSG x'))).toBe('IRC_BAD_LINE *');
  });

  it('refuses bytes that are not UTF-8, naming the command', () => {
    const latin1 = Buffer.concat([bytes('PRIVMSG #lobby :caf'), Buffer.from([0xe9])]);
    expect(code(() => parseLineBytes(latin1))).toBe('IRC_INVALID_UTF8 PRIVMSG');
  });

  it('takes 510 bytes after the tags and refuses 511 (512 with CR LF)', () => {
    const line = `PRIVMSG #a :${'x'.repeat(MAX_BODY_BYTES - 'PRIVMSG #a :'.length)}`;
    expect(parseLineBytes(bytes(line)).command).toBe('PRIVMSG');
    expect(code(() => parseLineBytes(bytes(`${line}x`)))).toBe('IRC_INPUT_TOO_LONG PRIVMSG');
    const tagged = `@t=${'v'.repeat(100)} ${line}`;
    expect(parseLineBytes(bytes(tagged)).params[1]).toHaveLength(MAX_BODY_BYTES - 12);
  });

  it('takes 8191 bytes of tags with their @ and space, and refuses 8192', () => {
    const tags = (n: number) => `@t=${'v'.repeat(n - 4)} `;
    expect(Buffer.byteLength(tags(MAX_TAGS_BYTES))).toBe(MAX_TAGS_BYTES);
    expect(parseLineBytes(bytes(`${tags(MAX_TAGS_BYTES)}PING x`)).command).toBe('PING');
    expect(code(() => parseLineBytes(bytes(`${tags(MAX_TAGS_BYTES + 1)}PING x`)))).toBe('IRC_INPUT_TOO_LONG PING');
  });
});

describe('serializing a message', () => {
  it('gives the last parameter a colon where it needs one, and always after another parameter', () => {
    expect(serialize({ command: 'NICK', params: ['alice'] })).toBe('NICK alice');
    expect(serialize({ command: 'QUIT', params: [':-)'] })).toBe('QUIT ::-)');
    expect(serialize({ command: 'PRIVMSG', params: ['#a', 'hi'] })).toBe('PRIVMSG #a :hi');
    expect(serialize({ command: 'TOPIC', params: ['#a', ''] })).toBe('TOPIC #a :');
    expect(serialize({ command: 'PRIVMSG', params: ['#a', 'hi there'] })).toBe('PRIVMSG #a :hi there');
    expect(serialize({ command: 'PRIVMSG', params: ['#a', ':)'] })).toBe('PRIVMSG #a ::)');
  });

  it('escapes tag values and writes valueless tags bare', () => {
    const line = serialize({
      tags: { time: '2026-12-07T08:00:00.000Z', label: 'a b;c\\d\r\n', bot: '' },
      source: 'alice!alice@chat',
      command: 'PRIVMSG',
      params: ['#lobby', 'hi'],
    });
    expect(line).toBe(
      '@time=2026-12-07T08:00:00.000Z;label=a\\sb\\:c\\\\d\\r\\n;bot :alice!alice@chat PRIVMSG #lobby :hi',
    );
  });

  it('round-trips through the parser', () => {
    const msgs = [
      { command: 'PRIVMSG', params: ['#lobby', ''] },
      { tags: { 'draft/x': 'a;b c\\' }, source: 'srv', command: '353', params: ['me', '=', '#a', 'x y z'] },
      { command: 'PRIVMSG', params: ['小明', ':: 你好'] },
    ];
    for (const m of msgs) expect(parseLine(serialize(m))).toEqual(m);
    expect(unescapeTagValue(escapeTagValue('\\;\r\n x'))).toBe('\\;\r\n x');
  });

  it('refuses what a line cannot carry', () => {
    expect(code(() => serialize({ command: 'PRIVMSG', params: ['#a', 'x\r\nQUIT'] }))).toBe('IRC_BAD_OUTPUT *');
    expect(code(() => serialize({ command: 'PRIVMSG', params: ['a b', 'x'] }))).toBe('IRC_BAD_OUTPUT *');
    expect(code(() => serialize({ command: 'PRIVMSG', params: ['', 'x'] }))).toBe('IRC_BAD_OUTPUT *');
    expect(code(() => serialize({ command: 'PRIVMSG', params: [':a', 'x'] }))).toBe('IRC_BAD_OUTPUT *');
    expect(code(() => serialize({ command: 'NO TICE', params: [] }))).toBe('IRC_BAD_OUTPUT *');
  });

  it('splits long text at code points, into pieces that fit the line', () => {
    const msg = { source: 'alice!alice@chat', command: 'PRIVMSG', params: ['#lobby'] };
    const room = trailingRoom(msg);
    expect(room).toBe(MAX_BODY_BYTES - ':alice!alice@chat PRIVMSG #lobby :'.length);
    const text = '小明'.repeat(200);
    const pieces = splitUtf8(text, room);
    expect(pieces.join('')).toBe(text);
    for (const p of pieces) {
      expect(Buffer.byteLength(p)).toBeLessThanOrEqual(room);
      expect(Buffer.byteLength(serialize({ ...msg, params: ['#lobby', p] }))).toBeLessThanOrEqual(MAX_BODY_BYTES);
    }
    expect(splitUtf8('aaaa bbbb', 6)).toEqual(['aaaa ', 'bbbb']);
    expect(splitUtf8('', 10)).toEqual(['']);
  });
});

describe('the line splitter', () => {
  const lines = (out: ReturnType<LineSplitter['push']>) =>
    out.map((l) => (l.kind === 'line' ? l.bytes.toString() : `too-long:${l.start.toString().slice(0, 8)}`));

  it('cuts at LF, drops a CR before it, skips empty lines, holds a partial line', () => {
    const s = new LineSplitter();
    expect(lines(s.push(bytes('NICK a\r\nUSER a 0 * :A\n\r\n\nPI')))).toEqual(['NICK a', 'USER a 0 * :A']);
    expect(s.pending).toBe(2);
    expect(lines(s.push(bytes('NG x\r')))).toEqual([]);
    expect(lines(s.push(bytes('\n')))).toEqual(['PING x']);
  });

  it('gives the same lines whatever the chunks, one byte at a time included', () => {
    const wire = bytes('@a=b PRIVMSG #x :小明\r\nJOIN #y\nQUIT :bye\r\n');
    const s = new LineSplitter();
    const got = [...wire].flatMap((b) => lines(s.push(Uint8Array.of(b))));
    expect(got).toEqual(['@a=b PRIVMSG #x :小明', 'JOIN #y', 'QUIT :bye']);
  });

  it('never holds more than its bound: an over-long line is reported once and skipped to its LF', () => {
    const s = new LineSplitter(64);
    const out = [...s.push(bytes(`PRIVMSG #x :${'y'.repeat(100)}`))];
    expect(s.pending).toBe(0);
    out.push(...s.push(bytes('z'.repeat(10_000))));
    expect(s.pending).toBe(0);
    out.push(...s.push(bytes('zz\r\nPING ok\r\n')));
    expect(lines(out)).toEqual(['too-long:PRIVMSG ', 'PING ok']);
  });

  it('keeps a line of exactly the bound with its CR LF', () => {
    expect(MAX_WIRE_LINE).toBe(8191 + 512);
    const s = new LineSplitter(10);
    expect(lines(s.push(bytes('PING 123\r\nPING 1234\r\n')))).toEqual(['PING 123', 'too-long:PING 123']);
  });
});
