import { afterEach, describe, expect, it } from 'vitest';
import { LineProcess, CLIENT_JS, startClient, startServer, stopAll } from '../helpers/processes.js';
import { RawClient } from '../helpers/raw-client.js';
import { PROTOCOL_VERSION } from '../../common/protocol.js';

let procs: Array<LineProcess | undefined> = [];
let raws: RawClient[] = [];
afterEach(async () => {
  for (const r of raws) r.destroy();
  raws = [];
  await stopAll(...procs);
  procs = [];
});

async function hello(port: number, nick: string) {
  const raw = await RawClient.connect(port);
  raws.push(raw);
  raw.send({ type: 'HELLO', version: PROTOCOL_VERSION, nick });
  return raw.waitFor((m) => m.type === 'WELCOME' || m.type === 'ERROR');
}

describe('names in every script, on a server with 2 workers', () => {
  it('小明, Zoë and علي chat and message each other; the operator lists and kicks them by name', async () => {
    const server = await startServer(['--workers', '2']);
    procs.push(server);
    const xiaoming = await startClient(server.port, '小明');
    const zoe = await startClient(server.port, 'Zoe\u0308'); // typed decomposed: the server keeps NFC
    const ali = await startClient(server.port, 'علي');
    procs.push(xiaoming, zoe, ali);
    await xiaoming.waitFor('* علي joined');
    await xiaoming.waitFor('* Zoë joined');

    xiaoming.send('大家好 👋');
    await zoe.waitFor('<小明> 大家好 👋');
    await ali.waitFor('<小明> 大家好 👋');
    ali.send('/msg ZOË مرحبا'); // other case: the same nick
    await zoe.waitFor('*علي* مرحبا');
    zoe.send('/msg 小明 你好');
    await xiaoming.waitFor('*Zoë* 你好');

    server.send('/list');
    await server.waitFor('3 sessions');
    const head = server.lines.findLastIndex((l) => l.startsWith('NICK '));
    expect(
      server.lines
        .slice(head + 1, head + 4)
        .map((l) => l.split(/ {2,}/)[0])
        .sort(),
    ).toEqual(['Zoë', 'علي', '小明'].sort());
    server.send('/kick 小明 test');
    await zoe.waitFor('* 小明 was kicked (test)');
    expect(await xiaoming.exit()).toBe(3);
  });

  it('refuses, with the reason, a nick that is or looks like one in use, a mixed-script nick and an invisible one', async () => {
    const server = await startServer(['--workers', '2', '--no-web']);
    procs.push(server);
    for (const nick of ['alice', 'ape', 'Zoë'])
      expect(await hello(server.port, nick)).toMatchObject({ type: 'WELCOME', nick });

    // The server applies the rule itself, whatever a client checked first.
    expect(await hello(server.port, 'aIice')).toMatchObject({
      type: 'ERROR',
      code: 'NICK_TAKEN',
      message: 'nick aIice is taken: it looks like alice, who is online',
      fatal: true,
    });
    expect(await hello(server.port, '\u0430\u0440\u0435')).toMatchObject({
      code: 'NICK_TAKEN',
      message: expect.stringContaining('looks like ape'),
    });
    expect(await hello(server.port, 'zoe\u0308')).toMatchObject({ code: 'NICK_TAKEN', message: 'nick zoë is taken' });
    expect(await hello(server.port, '\u0430lice')).toMatchObject({
      code: 'NICK_INVALID',
      message: expect.stringContaining('cannot mix Cyrillic and Latin letters'),
    });
    expect(await hello(server.port, 'bo\u200bb')).toMatchObject({
      code: 'NICK_INVALID',
      message: expect.stringContaining('U+200B is invisible'),
    });
    expect(await hello(server.port, 'x\u202egnp.exe')).toMatchObject({
      code: 'NICK_INVALID',
      message: expect.stringContaining('U+202E'),
    });

    // Renaming follows the same rule; one's own nick in another case is fine.
    const bob = await RawClient.connect(server.port);
    raws.push(bob);
    bob.send({ type: 'HELLO', version: PROTOCOL_VERSION, nick: 'bob' });
    await bob.waitFor((m) => m.type === 'WELCOME');
    bob.send({ type: 'NICK', nick: 'a1ice' });
    await bob.waitFor(
      (m) => m.type === 'ERROR' && m.code === 'NICK_TAKEN' && m.message.includes('looks like alice') && !m.fatal,
    );
    bob.send({ type: 'NICK', nick: 'BOB' });
    await bob.waitFor((m) => m.type === 'NOTICE' && m.event === 'nick' && m.newNick === 'BOB');

    // The piped client refuses a nick the rule forbids before connecting, and says why (exit 4).
    const mixed = new LineProcess('client mixed', [
      CLIENT_JS,
      '--host',
      '127.0.0.1',
      '--port',
      String(server.port),
      '--nick',
      '\u0430lice',
    ]);
    procs.push(mixed);
    expect(await mixed.exit()).toBe(4);
    expect(mixed.errLines.join('\n')).toContain('cannot mix Cyrillic and Latin letters');
    const alike = new LineProcess('client alike', [
      CLIENT_JS,
      '--host',
      '127.0.0.1',
      '--port',
      String(server.port),
      '--nick',
      'AIice',
    ]);
    procs.push(alike);
    expect(await alike.exit()).toBe(4);
    expect(alike.errLines.join('\n')).toContain(
      'nick AIice is taken: it looks like alice, who is online; choose another with --nick',
    );
  });
});
