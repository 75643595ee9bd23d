/**
 * Where the IRC door listens, on a real server: beside a chat port picked
 * free (--port 0) and with no --irc-port, a free port of its own, printed
 * and answering IRC (not 6667, which several servers at once could not all
 * have); with --no-irc, no door and no line about one.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RawIrc, closeBots } from '../helpers/irc-bot.js';
import { LineProcess, SERVER_JS, startServer, stopAll, tempDir } from '../helpers/processes.js';

let procs: LineProcess[] = [];
afterEach(async () => {
  closeBots();
  await stopAll(...procs);
  procs = [];
});

describe('the IRC door’s port', () => {
  it('--port 0 without --irc-port: a free IRC port, printed, where IRC clients register', async () => {
    // Started as a person would, without the helper that adds --irc-port 0 (startServer's), so the default is used.
    const args = ['--host', '127.0.0.1', '--port', '0', '--no-tls', '--log-file', join(tempDir('irc-log'), 's.log')];
    const dirs = ['--files', tempDir('irc-files'), '--data', tempDir('irc-data')];
    const server = new LineProcess('chat-server', [SERVER_JS, ...args, ...dirs], { program: process.execPath });
    procs.push(server);
    const line = await server.waitFor(/^irc on tcp /, 30_000);
    const [, port] = /^irc on tcp 127\.0\.0\.1:(\d+) \(no TLS\)$/.exec(line) ?? [];
    expect(Number(port)).toBeGreaterThan(0);
    expect(Number(port)).not.toBe(6667);
    const raw = new RawIrc(Number(port));
    await raw.register('picked');
    await raw.line(/ 366 picked #lobby /);
  });

  it('--no-irc: no door, and the start-up output names none', async () => {
    const server = await startServer(['--no-irc']);
    procs.push(server);
    // startServer waited for the web line, printed after the IRC one would have been.
    expect(server.lines.some((l) => l.startsWith('web on '))).toBe(true);
    expect(server.lines.filter((l) => /irc/i.test(l))).toEqual([]);
  });
});
