/**
 * A private server (--server-password): HELLO without the password, or with
 * a wrong one, is refused (fatal); an address that keeps guessing is locked
 * out, even from the right password, while another address gets in; a resume
 * token needs no password; the terminal client gives it over TLS and will
 * not send one over plain TCP unless told; secrets never show in ps.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLIENT_JS, LineProcess, SERVER_JS, startServer, stopAll, tempDir } from '../helpers/processes.js';
import { rawSession, rawSessionServers } from '../helpers/raw-session.js';

const server = rawSessionServers(afterEach);
let procs: LineProcess[] = [];
afterEach(async () => {
  await stopAll(...procs);
  procs = [];
});

const PLAIN_PRIVATE = ['--no-tls', '--allow-plain-passwords', '--server-password', 's3cret'];

describe('a private server', () => {
  it('refuses HELLO without the password or with a wrong one, locks out a guesser (not others), and lets a resume in without it', async () => {
    const s = await server(PLAIN_PRIVATE);
    const none = await rawSession(s.port, 'nopass', { version: 2, from: '127.0.0.2' });
    expect(none.of('ERROR')[0]).toMatchObject({ code: 'PASSWORD_REQUIRED', fatal: true });
    // Five free tries; the sixth wrong one locks the address for a second.
    for (let i = 1; i <= 6; i++) {
      const wrong = await rawSession(s.port, `guess${i}`, { version: 2, from: '127.0.0.3', password: `guess-${i}` });
      expect(wrong.of('ERROR')[0]).toMatchObject({ code: 'PASSWORD_WRONG', fatal: true });
      if (i === 6) expect(wrong.of('ERROR')[0]!.message).toBe('wrong server password; 127.0.0.3 may try again in 1.0s');
    }
    const lockedAt = Date.now();
    const locked = await rawSession(s.port, 'guess7', { version: 2, from: '127.0.0.3', password: 's3cret' });
    const error = locked.of('ERROR')[0];
    // Even the right password waits out the lock; had this HELLO taken longer than the lock, it would be let in.
    if (Date.now() - lockedAt < 1000) {
      expect(error).toMatchObject({ code: 'PASSWORD_LOCKED' });
      expect(error!.message).toMatch(/^too many wrong passwords from 127\.0\.0\.3: try again in /);
    } else expect(error?.code ?? 'WELCOME').not.toBe('PASSWORD_WRONG');
    const alice = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.4', password: 's3cret' });
    const token = alice.of('WELCOME')[0]!.resume!;
    expect(token).toBeDefined();
    alice.s.destroy();
    const back = await rawSession(s.port, 'alice', { version: 2, from: '127.0.0.4', resume: token });
    expect(back.of('WELCOME')[0]).toMatchObject({ resumed: true, nick: 'alice' });
  });

  it('the client gives the password over TLS, says what is missing without it, and refuses to send one over plain TCP unless told', async () => {
    const s = await startServer(['--workers', '2', '--no-web', '--tls', 'auto', '--server-password', 's3cret']);
    procs.push(s);
    const kh = join(tempDir('state'), 'known_hosts');
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) => {
      const c = new LineProcess(
        'client',
        [
          CLIENT_JS,
          '--host',
          '127.0.0.1',
          '--port',
          String(s.port),
          '--nick',
          `c${procs.length}`,
          '--known-hosts',
          kh,
          ...args,
        ],
        { env },
      );
      procs.push(c);
      c.send('/quit');
      c.endInput();
      return c;
    };
    const ok = run(['--server-password', 's3cret']);
    expect(await ok.exit()).toBe(0);
    expect(ok.lines.some((l) => l.startsWith('* connected to '))).toBe(true);
    const fromEnv = run([], { CHAT_SERVER_PASSWORD: 's3cret' });
    expect(await fromEnv.exit()).toBe(0);
    const without = run([]);
    expect(await without.exit()).toBe(4);
    expect(without.errLines.join('\n')).toContain(
      'PASSWORD_REQUIRED: this server is private: give its password (chat-client --server-password, or CHAT_SERVER_PASSWORD)',
    );
    const plain = new LineProcess('plain', [
      CLIENT_JS,
      '--port',
      String(s.port),
      '--nick',
      'p',
      '--no-tls',
      '--server-password',
      's3cret',
    ]);
    procs.push(plain);
    expect(await plain.exit()).toBe(2);
    expect(plain.errLines[0]).toContain('a password over plain TCP can be read by anyone on the network');
    const plainServer = new LineProcess('plain server', [
      SERVER_JS,
      '--port',
      '0',
      '--no-tls',
      '--server-password',
      'x',
    ]);
    procs.push(plainServer);
    expect(await plainServer.exit()).toBe(2);
    expect(plainServer.errLines[0]).toContain('a server password over plain TCP can be read by anyone on the network');
  });

  it('ps shows *** in place of the admin token and the server password', async () => {
    const s = await startServer([
      '--workers',
      '1',
      '--admin-token',
      'the-very-secret-admin-token',
      '--server-password',
      'the-very-secret-password',
      '--tls',
      'auto',
    ]);
    procs.push(s);
    const shown = readFileSync(`/proc/${s.proc.pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    expect(shown).toContain('--admin-token *** ');
    expect(shown).toContain('--server-password *** ');
    expect(shown).not.toMatch(/the-very-secret/);
  });
});
