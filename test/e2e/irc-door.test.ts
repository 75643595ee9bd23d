/**
 * The IRC door's replies and refusals over a real server: NAMES, WHO,
 * WHOIS, LIST and LUSERS about chat and IRC users alike; what IRC refuses
 * (a bad room, a room one is not in, a bad nick, nobody, an unknown
 * command, a channel operator's KICK, a line over 512 bytes, bytes that are
 * not UTF-8) each with its numeric, the connection going on; the operator's
 * kick from the console; a JOIN the chat refuses, whose NAMES (sent with
 * it) show nothing; the server password (PASS); and the ascii nick mode,
 * where 小明 is xn--yeto6u both ways.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { IrcBot, RawIrc, closeBots } from '../helpers/irc-bot.js';
import { type LineProcess, startClient, startServer, stopAll } from '../helpers/processes.js';

let procs: LineProcess[] = [];
afterEach(async () => {
  closeBots();
  await stopAll(...procs);
  procs = [];
});

describe('the IRC door', () => {
  it('NAMES, WHO, WHOIS, LIST and LUSERS; refusals with their numerics; the operator kicks an IRC user', async () => {
    const server = await startServer(['--workers', '2']);
    procs.push(server);
    const xm = await startClient(server.port, '小明');
    procs.push(xm);
    const bot = new IrcBot({ port: server.ircPort!, nick: 'bot' });
    await bot.event('join', (e) => e.nick === 'bot' && e.channel === '#lobby');
    const raw = new RawIrc(server.ircPort!);
    await raw.register('raw');
    await raw.line(/ 366 raw #lobby /);

    raw.send('NAMES #lobby');
    const names = await raw.line(/ 353 raw = #lobby :/);
    expect(names.split(' :')[1]!.split(' ').sort()).toEqual(['bot', 'raw', '小明']);
    raw.send('WHO #lobby');
    await raw.line(/ 352 raw #lobby chat \S+ \S+ 小明 H :0 小明$/);
    await raw.line(/ 352 raw #lobby ~bot \S+ \S+ bot H :0 /); // its USER ident, from the shared table
    await raw.line(/ 352 raw #lobby ~raw \S+ \S+ raw H :0 raw$/);
    await raw.line(/ 315 raw #lobby :End of WHO list$/);
    raw.send('WHOIS 小明');
    await raw.line(/ 311 raw 小明 chat \S+ \* :小明$/);
    await raw.line(/ 318 raw 小明 :End of \/WHOIS list$/);
    raw.send('WHOIS nobody');
    await raw.line(/ 401 raw nobody /);
    raw.send('LIST');
    await raw.line(/ 322 raw #lobby 3 :$/);
    await raw.line(/ 323 raw :End of \/LIST$/);
    raw.send('LUSERS');
    await raw.line(/ 251 raw :There are 3 users /);

    // Refusals: each its numeric, with the chat's reason where it has one; the connection goes on.
    raw.send('JOIN #');
    await raw.line(/ 403 raw # :/);
    raw.send('PRIVMSG #elsewhere :hello?');
    await raw.line(/ 40[34] raw #elsewhere :/);
    raw.send('NICK bad\\nick');
    await raw.line(/ 432 raw bad\\nick :/);
    raw.send('PRIVMSG nobody :hi');
    await raw.line(/ 401 raw nobody :no user named nobody$/);
    raw.send('PRIVMSG');
    await raw.line(/ 411 raw :No recipient given \(PRIVMSG\)$/);
    raw.send('FROBNICATE');
    await raw.line(/ 421 raw FROBNICATE :Unknown command$/);
    raw.send('KICK #lobby 小明 :out');
    await raw.line(/ 482 raw #lobby :/);
    raw.send(`PRIVMSG #lobby :${'x'.repeat(600)}`);
    await raw.line(/ 417 raw :Input line was too long$/);
    raw.send(Buffer.concat([Buffer.from('PRIVMSG #lobby :caf'), Buffer.from([0xe9])]));
    await raw.line(/ FAIL PRIVMSG INVALID_UTF8 :/);
    raw.send('PRIVMSG #lobby :still here, ünïcödé fine');
    await xm.waitFor('<raw> still here, ünïcödé fine');
    expect(xm.lines.join('\n')).not.toContain('xxxxxxxx');
    expect(xm.lines.join('\n')).not.toContain('caf');

    // The operator's kick ends the session server-wide: the others see a QUIT, the chat its own words.
    server.send('/kick bot enough of that');
    await bot.line(/^ERROR :Closing link: kicked: enough of that$/);
    await bot.gone();
    await raw.line(/^:bot!\S+ QUIT :Kicked by the operator: enough of that$/);
    await xm.waitFor('* bot was kicked (enough of that)');
  });

  it('a JOIN the chat refuses shows no NAMES, though the door asked them with it', async () => {
    const server = await startServer(['--max-rooms-per-user', '2']);
    procs.push(server);
    const other = new RawIrc(server.ircPort!);
    await other.register('other');
    other.send('JOIN #busy');
    await other.line(/ 366 other #busy /);
    const raw = new RawIrc(server.ircPort!);
    await raw.register('raw');
    await raw.line(/ 366 raw #lobby /);
    const from = raw.lines.length;
    // Refused: by the worker (a name mixing scripts; its NAMES refused alike), by the store (a look-alike of #lobby;
    // its NAMES: no such room), and by the store again (#busy past the limit of two rooms; its NAMES: the members).
    raw.send('JOIN #lobb\u0443');
    await raw.line(/ 403 raw #lobb\u0443 :a room's name cannot mix /, 10_000, from);
    raw.send('JOIN #l0bby');
    await raw.line(/ 403 raw #l0bby :#l0bby looks like #lobby/, 10_000, from);
    raw.send('JOIN #mine');
    await raw.line(/ 366 raw #mine :End of \/NAMES list$/, 10_000, from);
    raw.send('JOIN #busy');
    await raw.line(/ 405 raw #busy :/, 10_000, from);
    // Asked after them, answered after them: by now their NAMES' answers have come too.
    raw.send('NAMES #lobby');
    await raw.line(/ 366 raw #lobby :End of \/NAMES list$/, 10_000, from);
    const after = raw.lines.slice(from);
    // Each refused JOIN's one line is its refusal: no NAMES, no second refusal (of the NAMES).
    for (const [room, refusal] of [
      ['#lobb\u0443', ' 403 '],
      ['#l0bby', ' 403 '],
      ['#busy', ' 405 '],
    ] as const)
      expect(after.filter((l) => l.includes(` ${room} `)).map((l) => l.includes(refusal))).toEqual([true]);
    expect(after.filter((l) => /^:raw!\S+ JOIN /.test(l))).toEqual([expect.stringMatching(/ JOIN #mine$/)]);
    expect(after.filter((l) => / 353 raw = #mine :/.test(l))).toEqual([
      expect.stringMatching(/ 353 raw = #mine :raw$/),
    ]);
  });

  it('PASS for a private server; --irc-nicks ascii shows 小明 as xn--yeto6u, and xn--yeto6u reaches 小明', async () => {
    const server = await startServer([
      '--irc-nicks',
      'ascii',
      '--server-password',
      's3cret',
      '--allow-plain-passwords',
    ]);
    procs.push(server);
    const xm = await startClient(server.port, '小明', ['--server-password', 's3cret', '--allow-plain-passwords']);
    procs.push(xm);

    const wrong = new RawIrc(server.ircPort!);
    wrong.send('PASS guess');
    wrong.send('NICK guesser');
    wrong.send('USER g 0 * :g');
    await wrong.line(/ 464 guesser :/);
    await wrong.line(/^ERROR :Closing link: /);

    const raw = new RawIrc(server.ircPort!);
    raw.send('PASS s3cret');
    await raw.register('raw');
    raw.send('NAMES #lobby');
    const names = await raw.line(/ 353 raw = #lobby :/);
    expect(names.split(' :')[1]!.split(' ').sort()).toEqual(['raw', 'xn--yeto6u']);
    xm.send('hello from 小明');
    await raw.line(/^:xn--yeto6u!chat@\S+ PRIVMSG #lobby :hello from 小明$/);
    raw.send('PRIVMSG xn--yeto6u :你好, 小明');
    await xm.waitFor('*raw* 你好, 小明');
    // An IRC user may take a nick in any script: it is a chat nick, shown as xn-- to IRC.
    raw.send('NICK Zoë');
    await raw.line(/^:raw!\S+ NICK :?xn--Zo-ija$/);
    await xm.waitFor('* raw is now Zoë');
  });
});
