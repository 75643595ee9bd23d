/** What the client does with a refused HELLO, and which password its next HELLO carries (client/login.ts, password-prompts.ts). */
import { describe, expect, it } from 'vitest';
import { Login, NICK_RETRIES, PASSWORD_ASKS } from '../../client/login.js';
import { askPasswords } from '../../client/password-prompts.js';
import { parseInput } from '../../client/input.js';

const terminal = { password: null, tty: true, canAsk: true, passwordsAllowed: true };

describe('Login', () => {
  it("asks for a registered nick's password on a terminal, at most PASSWORD_ASKS times, saying when one was wrong", () => {
    const login = new Login(terminal);
    expect(login.refused('NICK_REGISTERED', 'nick frank is registered', 'frank', false)).toEqual({
      kind: 'ask-password',
    });
    login.typed('guess');
    expect(login.password).toBe('guess');
    for (let i = 1; i < PASSWORD_ASKS; i++)
      expect(login.refused('NICK_PASSWORD_WRONG', 'wrong password for frank', 'frank', false)).toEqual({
        kind: 'ask-password',
        line: '! wrong password for frank',
      });
    expect(login.refused('NICK_PASSWORD_WRONG', 'wrong password for frank', 'frank', false)).toEqual({
      kind: 'reject',
      text: 'chat-client: the server refused the connection: NICK_PASSWORD_WRONG: wrong password for frank',
    });
    // A WELCOME (after a different nick, say) starts the count again.
    login.learn({
      type: 'WELCOME',
      version: 2,
      nick: 'frank',
      heartbeatIntervalMs: 5000,
      heartbeatTimeoutMs: 15000,
      maxFrame: 65536,
      maxText: 4096,
      online: 1,
    } as never);
    expect(login.refused('NICK_PASSWORD_WRONG', 'wrong', 'frank', false).kind).toBe('ask-password');
  });

  it('never asks where nobody can type, or where the password would cross in the clear; a lockout is final', () => {
    expect(
      new Login({ ...terminal, canAsk: false }).refused(
        'NICK_REGISTERED',
        'nick frank is registered: give its password',
        'frank',
        false,
      ),
    ).toEqual({
      kind: 'reject',
      text: 'chat-client: nick frank is registered: give its password; or choose another nick with --nick',
    });
    expect(
      new Login({ ...terminal, passwordsAllowed: false }).refused('NICK_REGISTERED', 'x', 'frank', false).kind,
    ).toBe('reject');
    expect(new Login(terminal).refused('LOGIN_LOCKED', 'too many wrong passwords', 'frank', false).kind).toBe('reject');
  });

  it('tries nick_ NICK_RETRIES times on a terminal; waits for a nick the lost connection holds; logs in again when the resume failed', () => {
    const login = new Login(terminal);
    let nick = 'bob';
    for (let i = 0; i < NICK_RETRIES; i++) {
      const step = login.refused('NICK_TAKEN', 'taken', nick, false);
      expect(step).toEqual({ kind: 'other-nick', nick: `${nick}_`, line: `* nick ${nick} is taken; trying ${nick}_` });
      nick = `${nick}_`;
    }
    expect(login.refused('NICK_TAKEN', 'taken', nick, false).kind).toBe('reject');
    expect(new Login({ ...terminal, tty: false }).refused('NICK_TAKEN', 'taken', 'bob', false).kind).toBe('reject');
    expect(login.refused('NICK_TAKEN', 'taken', 'bob', true)).toEqual({
      kind: 'held',
      why: 'bob is still held by the lost connection',
    });
    expect(login.refused('RESUME_FAILED', 'the session expired', 'bob', true)).toEqual({
      kind: 'login-again',
      line: '* the session expired; logging in again',
    });
  });

  it('keeps the password an account request made current once the server accepts it, and forgets it when the operator unregisters', () => {
    const login = new Login({ ...terminal, password: 'from --password' });
    login.sent({ type: 'ACCOUNT', op: 'password', password: 'from --password', newPassword: 'the new one' });
    expect(login.password).toBe('from --password'); // not accepted yet
    login.learn({ type: 'ACCOUNT_REPLY', op: 'password', nick: 'frank' });
    expect(login.password).toBe('the new one');
    login.sent({ type: 'ACCOUNT', op: 'identify', nick: 'erin', password: 'erins' });
    login.learn({ type: 'ERROR', code: 'NICK_PASSWORD_WRONG', message: 'wrong', fatal: false });
    expect(login.password).toBe('the new one');
    login.learn({ type: 'ACCOUNT_REPLY', op: 'identified', nick: 'erin' });
    expect(login.password).toBe('erins');
    login.learn({ type: 'ACCOUNT_REPLY', op: 'unregistered', nick: 'erin' });
    expect(login.password).toBeNull();
    login.sent({ type: 'ACCOUNT', op: 'register', password: 'fresh' });
    login.learn({ type: 'ACCOUNT_REPLY', op: 'registered', nick: 'erin' });
    expect(login.password).toBe('fresh');
  });
});

describe('askPasswords', () => {
  it('is what an account command without its password turns into', () => {
    expect(parseInput('/register', 4096)).toEqual({ kind: 'ask-password', ask: { op: 'register' } });
    expect(parseInput('/identify erin', 4096)).toEqual({ kind: 'ask-password', ask: { op: 'identify', nick: 'erin' } });
    // One argument rule for every command (common/split-args.ts): a password with spaces goes in quotes.
    expect(parseInput('/identify erin "pass word"', 4096)).toEqual({
      kind: 'send',
      msg: { type: 'ACCOUNT', op: 'identify', nick: 'erin', password: 'pass word' },
    });
    expect(parseInput('/identify erin pass word', 4096).kind).toBe('local-error');
    expect(parseInput('/password', 4096)).toEqual({ kind: 'ask-password', ask: { op: 'password' } });
    expect(parseInput('/password only-one', 4096).kind).toBe('local-error');
    expect(parseInput('/identify', 4096).kind).toBe('local-error');
  });

  const answers = (...a: string[]) => {
    const asked: string[] = [];
    return { asked, ask: async (q: string) => (asked.push(q), a.shift() ?? '') };
  };

  it('asks for a new password twice and sends it only when both agree', async () => {
    const same = answers('s3cret pass', 's3cret pass');
    expect(await askPasswords({ op: 'register' }, same.ask)).toEqual({
      msg: { type: 'ACCOUNT', op: 'register', password: 's3cret pass' },
    });
    expect(same.asked).toEqual(['password for your nick: ', 'the same again: ']);
    expect(await askPasswords({ op: 'register' }, answers('one', 'two').ask)).toEqual({
      error: 'the two passwords differ; not registered',
    });
    expect(await askPasswords({ op: 'register' }, answers('').ask)).toEqual({
      error: 'no password typed; not registered',
    });
  });

  it('/password asks for the current one, then the new one twice; /identify once', async () => {
    const change = answers('old', 'new one', 'new one');
    expect(await askPasswords({ op: 'password' }, change.ask)).toEqual({
      msg: { type: 'ACCOUNT', op: 'password', password: 'old', newPassword: 'new one' },
    });
    expect(change.asked).toEqual(['current password: ', 'new password: ', 'the same again: ']);
    expect(await askPasswords({ op: 'password' }, answers('old', 'a', 'b').ask)).toEqual({
      error: 'the two passwords differ; the password is not changed',
    });
    expect(await askPasswords({ op: 'identify', nick: 'erin' }, answers('pw').ask)).toEqual({
      msg: { type: 'ACCOUNT', op: 'identify', nick: 'erin', password: 'pw' },
    });
    expect(await askPasswords({ op: 'identify', nick: 'erin' }, answers('').ask)).toEqual({
      error: 'no password typed; not identified',
    });
  });
});
