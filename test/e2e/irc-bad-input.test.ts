/**
 * Bad input on the IRC door, by a raw client, each answered with a clear
 * refusal and the connection going on: two messages to nobody in one read
 * (the worker once crashed on its own session table lock), lists that name
 * no room, a CHATHISTORY with nothing after it, an empty CTCP frame, a
 * message to oneself (shown only with echo-message before), and
 * names too long to be anyone's, echoed in replies that still fit the
 * 512-byte line. An absence (no crash, nothing more) is shown by a later
 * PING's answer: the door answers lines in order.
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

/** Sends the lines in one write, then a PING; resolves with what came back before its PONG. */
async function answered(raw: RawIrc, lines: string[], token: string): Promise<string[]> {
  const from = raw.lines.length;
  raw.socket.write([...lines, `PING :${token}`].map((l) => `${l}\r\n`).join(''));
  await raw.line(new RegExp(` PONG \\S+ :${token}$`), 10_000, from);
  const upTo = raw.lines.findIndex((l, i) => i >= from && l.endsWith(`:${token}`));
  return raw.lines.slice(from, upTo);
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

  it('a message to oneself arrives once, as received, without echo-message', async () => {
    const { raw } = await door();
    raw.send('PRIVMSG bad :note to self');
    await raw.line(/^(?:@\S+ )?:bad!\S+ PRIVMSG bad :note to self$/);
    // A second copy would have come before the chat's answer to the next message.
    raw.send('PRIVMSG bad :marker');
    await raw.line(/ PRIVMSG bad :marker$/);
    expect(raw.lines.filter((l) => l.endsWith('note to self'))).toHaveLength(1);
  });

  it('a list that names no room is 461, CHATHISTORY alone NEED_MORE_PARAMS, an empty CTCP frame 412, MODE +x 501', async () => {
    const { raw } = await door();
    const got = await answered(
      raw,
      [
        'JOIN ,,,',
        'PART ,',
        'NAMES ,',
        'TOPIC ,',
        'JOIN :',
        'CHATHISTORY',
        'PRIVMSG #lobby :\u0001 \u0001',
        'MODE bad +x',
      ],
      'e1',
    );
    expect(got).toEqual([
      expect.stringMatching(/ 461 bad JOIN :Not enough parameters$/),
      expect.stringMatching(/ 461 bad PART :Not enough parameters$/),
      expect.stringMatching(/ 461 bad NAMES :Not enough parameters$/),
      expect.stringMatching(/ 461 bad TOPIC :Not enough parameters$/),
      expect.stringMatching(/ 461 bad JOIN :Not enough parameters$/),
      expect.stringMatching(/ FAIL CHATHISTORY NEED_MORE_PARAMS \* :Missing parameters$/),
      expect.stringMatching(/ 412 bad :No text to send$/),
      expect.stringMatching(/ 501 bad :Unknown MODE flag$/),
    ]);
  });

  it('a name too long to be anyone is refused in a reply that fits the 512-byte line', async () => {
    const { raw } = await door();
    const long = 'x'.repeat(495);
    const lines = [`NICK ${long}`, `PRIVMSG ${long} :hi`, `WHOIS ${long}`, `JOIN #${long}`, `FOO${long}`];
    const got = await answered(raw, [...lines, `CAP ${long}`, `CHATHISTORY ${long}`], 'e2');
    expect(got.map((l) => / (\d{3}|FAIL) /.exec(l)?.[1])).toEqual([
      '432',
      '401',
      '401',
      '318',
      '403',
      '421',
      '410',
      'FAIL',
    ]);
    for (const l of got) expect(Buffer.byteLength(`${l}\r\n`)).toBeLessThanOrEqual(512);
    // What fits is echoed whole.
    raw.send('PRIVMSG nobody_at_all :hi');
    await raw.line(/ 401 bad nobody_at_all :no user named nobody_at_all$/);
  });
});
