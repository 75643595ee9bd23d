/**
 * Bad input on the IRC door, by a raw client, each answered with a clear
 * refusal and the connection going on: two messages to nobody in one read
 * (the worker once crashed on its own session table lock).
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { RawIrc, closeBots } from '../helpers/irc-bot.js';
import { type LineProcess, type ServerHandle, startServer, stopAll } from '../helpers/processes.js';

let procs: LineProcess[] = [];
afterEach(async () => {
  closeBots();
  await stopAll(...procs);
  procs = [];
});

async function door(): Promise<{ server: ServerHandle; raw: RawIrc }> {
  const server = await startServer(['--workers', '1']);
  procs.push(server);
  const raw = new RawIrc(server.ircPort!);
  raw.send('CAP LS 302');
  raw.send('CAP REQ :draft/chathistory batch message-tags');
  raw.send('CAP END');
  await raw.register('bad');
  await raw.line(/ 366 bad #lobby /);
  return { server, raw };
}

describe('bad input on the IRC door', () => {
  it('two messages to nobody in one read: two 401s, and the worker lives on', async () => {
    const { server, raw } = await door();
    raw.socket.write('PRIVMSG nobody :one\r\nNOTICE nobody :two\r\nPRIVMSG nobody2 :three\r\n');
    await raw.line(/ 401 bad nobody :no user named nobody$/);
    await raw.line(/ 401 bad nobody2 :no user named nobody2$/);
    // The same session still talks to the chat: a refusal the chat (not the door) gives comes back.
    raw.send('PRIVMSG nobody3 :four');
    await raw.line(/ 401 bad nobody3 :/);
    expect(raw.closed).toBe(false);
    expect(readFileSync(server.logFile, 'utf8')).not.toContain('worker crashed');
  });
});
