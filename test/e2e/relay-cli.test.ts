/**
 * `npm run relay` (test/relay/relay-cli.ts) as a user runs it: a real process
 * between a real UDP echo server and a real client, and its answers to bad
 * options.
 */
import { afterEach, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import { join } from 'node:path';
import { LineProcess, ROOT, stopAll } from '../helpers/processes.js';

const RELAY_JS = join(ROOT, 'dist/test/relay/relay-cli.js');

let procs: LineProcess[] = [];
const sockets: dgram.Socket[] = [];
afterEach(async () => {
  await stopAll(...procs);
  procs = [];
  for (const s of sockets.splice(0)) s.close();
});

async function udpSocket(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  sockets.push(s);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return s;
}

function startRelay(args: string[]): LineProcess {
  const p = new LineProcess('relay', [RELAY_JS, ...args]);
  procs.push(p);
  return p;
}

describe('relay command', () => {
  it('forwards datagrams both ways and prints its counters when stopped', async () => {
    const echo = await udpSocket();
    echo.on('message', (msg, from) => echo.send(msg, from.port, from.address));
    const relay = startRelay([
      '--listen',
      '127.0.0.1:0',
      '--to',
      `127.0.0.1:${echo.address().port}`,
      '--delay',
      '1ms',
      '--report',
      '1m',
    ]);
    const port = Number(/:(\d+) →/.exec(await relay.waitFor('relay listening on udp'))![1]);

    const client = await udpSocket();
    const got = new Set<string>();
    const all = new Promise<void>((resolve) =>
      client.on('message', (msg) => {
        got.add(msg.toString());
        if (got.size === 20) resolve();
      }),
    );
    for (let i = 0; i < 20; i++) client.send(`datagram ${i}`, port, '127.0.0.1');
    await all;
    expect([...got].sort()).toEqual(Array.from({ length: 20 }, (_, i) => `datagram ${i}`).sort());

    relay.kill('SIGINT');
    expect(await relay.exit()).toBe(0);
    expect(relay.lines).toContain(
      'up  : 20 in, 20 out, 0 dropped, 0 queue-dropped, 0 too big, 0 duplicated, 0 reordered, 0 corrupted',
    );
    expect(relay.lines).toContain(
      'down: 20 in, 20 out, 0 dropped, 0 queue-dropped, 0 too big, 0 duplicated, 0 reordered, 0 corrupted',
    );
  });

  it('rejects bad options with a clear line and exit code 2 before it opens a socket', async () => {
    const to = ['--listen', '127.0.0.1:0', '--to', '127.0.0.1:9'];
    for (const [args, message] of [
      [['--listen', '127.0.0.1:0', '--to', 'nowhere'], 'relay: --to must be HOST:PORT'],
      [['--listen', '127.0.0.1:70000', '--to', '127.0.0.1:9'], 'relay: --listen: port 70000 is out of range (0-65535)'],
      [[...to, '--loss', '150%'], 'relay: --loss: 150% is out of range'],
      [[...to, '--queue', 'lots'], 'relay: --queue: lots is not a whole number'],
      [[...to, '--seed', 'x'], 'relay: --seed: x is not a whole number'],
      [[...to, '--report', '0'], 'relay: --report must be at least 10ms'],
      [[...to, '--delay', 'soon'], 'relay: --delay: "soon" is not a duration (examples: 500ms, 5s, 1m)'],
      [[...to, '--bogus', '1'], "relay: Unknown option '--bogus'"],
    ] as const) {
      const p = startRelay([...args]);
      const { code } = await p.exited;
      expect(code, args.join(' ')).toBe(2);
      expect(p.errLines[0], args.join(' ')).toBe(message);
      expect(
        p.lines.some((l) => l.startsWith('relay listening')),
        args.join(' '),
      ).toBe(false);
    }
  });
});
