/**
 * One argument rule for every command (issue 33, item 8): common/split-args.ts,
 * the account commands read by it (common/account-lines.ts), and what the
 * terminal client makes of lines that take arguments (client/input.ts).
 */
import { describe, expect, it } from 'vitest';
import { OPEN_QUOTE, parseArgs, splitArgs } from '../../common/split-args.js';
import { accountArgs } from '../../common/account-lines.js';
import { parseInput } from '../../client/input.js';

describe('the argument rule', () => {
  it('splits on spaces; double quotes keep spaces and are not part of the word; \\" and \\\\ inside them', () => {
    expect(parseArgs('  a  "b c"  d ')).toEqual({ ok: true, args: ['a', 'b c', 'd'] });
    expect(parseArgs('"my pass 123"')).toEqual({ ok: true, args: ['my pass 123'] });
    expect(parseArgs('"say \\"hi\\" \\\\o/"')).toEqual({ ok: true, args: ['say "hi" \\o/'] });
    expect(parseArgs('report" 2026".pdf ""')).toEqual({ ok: true, args: ['report 2026.pdf', ''] });
    expect(parseArgs('C:\\dir\\x')).toEqual({ ok: true, args: ['C:\\dir\\x'] }); // outside quotes, as typed
  });

  it('refuses a quote left open, rather than keeping it in a name or a password', () => {
    expect(parseArgs('"x')).toEqual({ ok: false, error: OPEN_QUOTE });
    expect(parseArgs('a "b c')).toEqual({ ok: false, error: OPEN_QUOTE });
    expect(parseArgs('"ends in a backslash\\"')).toEqual({ ok: false, error: OPEN_QUOTE });
    // The page's callers (web/src) get no words, and their usage lines refuse the line.
    expect(splitArgs('old "new')).toEqual([]);
    expect(splitArgs('old "new one"')).toEqual(['old', 'new one']);
  });

  it('the account commands, by the same rule: the quotes are never part of the password', () => {
    expect(accountArgs('register', '"my pass 123"')).toEqual({ ok: true, op: 'register', password: 'my pass 123' });
    expect(accountArgs('register', '')).toEqual({ ok: true, op: 'register' });
    expect(accountArgs('register', 'my pass 123')).toMatchObject({
      ok: false,
      error: expect.stringContaining('usage'),
    });
    expect(accountArgs('identify', 'alice "my pass 123"')).toEqual({
      ok: true,
      op: 'identify',
      nick: 'alice',
      password: 'my pass 123',
    });
    expect(accountArgs('password', '"my pass 123" "new one"')).toEqual({
      ok: true,
      op: 'password',
      password: 'my pass 123',
      newPassword: 'new one',
    });
    expect(accountArgs('password', '"open')).toEqual({ ok: false, error: OPEN_QUOTE });
  });
});

describe('lines that take arguments, in the terminal client', () => {
  it('/register, /identify and /password send the same password for the same quoted text', () => {
    const pw = 'my pass 123';
    expect(parseInput(`/register "${pw}"`, 4096)).toEqual({
      kind: 'send',
      msg: { type: 'ACCOUNT', op: 'register', password: pw },
    });
    expect(parseInput(`/identify alice "${pw}"`, 4096)).toMatchObject({ msg: { password: pw } });
    expect(parseInput(`/password "${pw}" x`, 4096)).toMatchObject({ msg: { password: pw, newPassword: 'x' } });
  });

  it('/get "x and /post with a quote left open are refused, saying why', () => {
    expect(parseInput('/get "x', 4096)).toEqual({ kind: 'local-error', text: `/get: ${OPEN_QUOTE}` });
    expect(parseInput('/post "a b.txt', 4096)).toEqual({ kind: 'local-error', text: `/post: ${OPEN_QUOTE}` });
    expect(parseInput('/get "my notes.txt" out/', 4096)).toEqual({
      kind: 'get',
      name: 'my notes.txt',
      dest: 'out/',
      fresh: false,
    });
    // --no-resume anywhere among the words: start over.
    expect(parseInput('/post --no-resume "my notes.txt"', 4096)).toEqual({
      kind: 'post',
      path: 'my notes.txt',
      name: undefined,
      fresh: true,
    });
  });

  it('/sleep: a usage line without a duration; longer than 10 minutes refused, not cut short in silence', () => {
    expect(parseInput('/sleep', 4096)).toEqual({
      kind: 'local-error',
      text: 'usage: /sleep <duration>, e.g. /sleep 30s (at most 10m)',
    });
    expect(parseInput('/sleep 99h', 4096)).toEqual({
      kind: 'local-error',
      text: '/sleep: 99h is longer than the 10m it allows; not sleeping',
    });
    expect(parseInput('/sleep 10m', 4096)).toEqual({ kind: 'sleep', ms: 600_000 });
    expect(parseInput('/sleep soon', 4096)).toMatchObject({ text: expect.stringContaining('is not a duration') });
  });

  it('a line too long for the server: its real size, and it is kept on the input line', () => {
    expect(parseInput('x'.repeat(100_000), 32_512)).toEqual({
      kind: 'local-error',
      text: 'message too long (100000 bytes, the server takes 32512): not sent; it stays on the input line',
      keep: true,
    });
  });
});
