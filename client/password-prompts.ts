/**
 * Account commands typed without their password (/register, /identify nick,
 * /password), on a terminal: the passwords asked for, hidden, a new one twice
 * so that a typo does not become the password nobody knows. `ask` is the
 * terminal's hidden question (TtyInput.ask with secret); no I/O here. And
 * the line refusing an account command over --no-tls, which the main thread
 * says before asking and the listener before sending.
 */
import type { ClientMessage } from '../common/protocol.js';

/** Why an account command is not sent over --no-tls (unless --allow-plain-passwords). */
export const PLAIN_PASSWORD_REFUSAL =
  '! not sent: a password over --no-tls can be read by anyone on the network (keep TLS, or say --allow-plain-passwords)';

export type PasswordAsk = { op: 'register' } | { op: 'identify'; nick: string } | { op: 'password' };

export type Ask = (prompt: string) => Promise<string>;

/** The ACCOUNT frame to send, or why nothing is sent. */
export async function askPasswords(what: PasswordAsk, ask: Ask): Promise<{ msg: ClientMessage } | { error: string }> {
  switch (what.op) {
    case 'identify': {
      const password = await ask(`password for ${what.nick}: `);
      return password === ''
        ? { error: 'no password typed; not identified' }
        : { msg: { type: 'ACCOUNT', op: 'identify', nick: what.nick, password } };
    }
    case 'register': {
      const password = await newPassword(ask, 'password for your nick: ');
      return typeof password === 'string'
        ? { msg: { type: 'ACCOUNT', op: 'register', password } }
        : { error: `${password.error}; not registered` };
    }
    case 'password': {
      const old = await ask('current password: ');
      if (old === '') return { error: 'no password typed; the password is not changed' };
      const password = await newPassword(ask, 'new password: ');
      return typeof password === 'string'
        ? { msg: { type: 'ACCOUNT', op: 'password', password: old, newPassword: password } }
        : { error: `${password.error}; the password is not changed` };
    }
  }
}

async function newPassword(ask: Ask, prompt: string): Promise<string | { error: string }> {
  const first = await ask(prompt);
  if (first === '') return { error: 'no password typed' };
  const again = await ask('the same again: ');
  return again === first ? first : { error: 'the two passwords differ' };
}

/** Where there is no terminal to ask on (stdin is a pipe), the usage line. */
export function passwordUsage(what: PasswordAsk): string {
  switch (what.op) {
    case 'register':
      return 'usage: /register <password> (it is asked for, hidden, when stdin is a terminal)';
    case 'identify':
      return 'usage: /identify <nick> <password> (it is asked for, hidden, when stdin is a terminal)';
    case 'password':
      return 'usage: /password <old> <new> (they are asked for, hidden, when stdin is a terminal)';
  }
}
