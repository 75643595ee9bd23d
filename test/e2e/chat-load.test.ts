/**
 * The benchmarks' chat load generator (test/bench/chat-load.ts) against real
 * servers: its counts are what the fan-out figures rest on, and its connect
 * window is what keeps a small listen backlog out of the connection figures.
 */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { join } from 'node:path';
import { LineProcess, ROOT, startServer, stopAll, type ServerHandle } from '../helpers/processes.js';

const LOAD_JS = join(ROOT, 'dist/test/bench/chat-load.js');

let procs: LineProcess[] = [];
const servers: net.Server[] = [];
afterEach(async () => {
  await stopAll(...procs);
  procs = [];
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

interface LoadReport {
  connected: number;
  failedToConnect: number;
  notAttempted: number;
  falseDrops: number;
  fanout: null | {
    sent: number;
    expected: number;
    delivered: number;
    lost: number;
    duplicates: number;
    outOfOrder: number;
    unexpected: number;
    p99: number;
  };
}

async function runLoad(args: string[]): Promise<LoadReport> {
  const p = new LineProcess('chat-load', [LOAD_JS, ...args]);
  procs.push(p);
  p.endInput();
  const { code } = await p.exited;
  expect(p.errLines).toEqual([]);
  expect(code).toBe(0);
  return JSON.parse(p.lines.at(-1)!) as LoadReport;
}

describe('chat load generator', () => {
  it('against chat-server: every client in, every message delivered once and in order to every other client', async () => {
    const srv: ServerHandle = await startServer(['--workers', '2', '--log-level', 'warn']);
    procs.push(srv);
    const r = await runLoad([
      '--proto',
      'chat',
      '--port',
      String(srv.port),
      '--clients',
      '60',
      '--hold',
      '200ms',
      '--senders',
      '3',
      '--rate',
      '20',
      '--duration',
      '1s',
      '--procs',
      '2',
      '--connecting',
      '4',
      '--server-pid',
      String(srv.proc.pid),
    ]);
    expect(r.connected).toBe(60);
    expect(r.failedToConnect).toBe(0);
    expect(r.falseDrops).toBe(0);
    const f = r.fanout!;
    expect(f.sent).toBe(60); // 3 senders × 20 msg/s × 1 s
    expect(f.expected).toBe(60 * 59);
    expect(f.delivered).toBe(f.expected);
    expect([f.lost, f.duplicates, f.outOfOrder, f.unexpected]).toEqual([0, 0, 0, 0]);
    expect(f.p99).toBeGreaterThan(0);
  });

  it('keeps at most --connecting clients between connect and joined', async () => {
    const irc = await slowJoinIrc(30);
    const r = await runLoad([
      '--proto',
      'irc',
      '--port',
      String(irc.port),
      '--clients',
      '24',
      '--hold',
      '100ms',
      '--connecting',
      '3',
    ]);
    expect(r.connected).toBe(24);
    expect(r.failedToConnect).toBe(0);
    expect(irc.joined()).toBe(24);
    // Never more than 3 in flight, and all 3 were used.
    expect(irc.most()).toBe(3);
  });

  it('rejects bad options with one clear line and exit code 2, and prints its usage on --help', async () => {
    for (const [args, message] of [
      [['--clients', '100'], 'chat-load: --port is required'],
      [['--port', '9000', '--proto', 'xmpp'], 'chat-load: --proto must be one of chat, irc'],
      [['--port', '9000', '--hold', 'soon'], 'chat-load: --hold: "soon" is not a duration (examples: 500ms, 5s, 1m)'],
      [['--port', '9000', '--clients', '2.5'], 'chat-load: --clients: "2.5" is not a whole number'],
      [['--port', '9000', '--bogus'], "chat-load: Unknown option '--bogus'"],
    ] as const) {
      const p = new LineProcess('chat-load', [LOAD_JS, ...args]);
      procs.push(p);
      p.endInput();
      const { code } = await p.exited;
      expect(code, args.join(' ')).toBe(2);
      expect(p.errLines[0]).toBe(message);
      expect(p.lines).toEqual([]);
    }
    const help = new LineProcess('chat-load', [LOAD_JS, '--help']);
    procs.push(help);
    help.endInput();
    expect((await help.exited).code).toBe(0);
    expect(help.lines[0]).toBe('Usage: chat-load --port P [options]');
  });

  it('starts no client after --connect-max and reports the rest as not attempted, not as failures', async () => {
    const irc = await slowJoinIrc(30);
    // 2 at a time and 30 ms per join: about 20 of 200 fit in 300 ms.
    const r = await runLoad([
      '--proto',
      'irc',
      '--port',
      String(irc.port),
      '--clients',
      '200',
      '--hold',
      '100ms',
      '--connecting',
      '2',
      '--connect-max',
      '300ms',
    ]);
    expect(r.notAttempted).toBeGreaterThan(0);
    expect(r.connected).toBeGreaterThan(0);
    expect(r.connected + r.notAttempted).toBe(200);
    expect([r.failedToConnect, r.falseDrops]).toEqual([0, 0]);
    // Those started before the limit were waited for, and no other client reached the server.
    expect(irc.joined()).toBe(r.connected);
    expect(irc.accepted()).toBe(r.connected);
  });
});

/** A minimal IRC server that answers JOIN `delayMs` late and records how many clients were waiting at once. */
async function slowJoinIrc(delayMs: number) {
  let waiting = 0;
  let most = 0;
  let joined = 0;
  let accepted = 0;
  const server = net.createServer((sock) => {
    accepted++;
    waiting++;
    most = Math.max(most, waiting);
    let nick = '';
    let rest = '';
    sock.on('error', () => undefined);
    sock.on('data', (chunk) => {
      const lines = (rest + chunk.toString('latin1')).split('\r\n');
      rest = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('NICK ')) nick = line.slice(5);
        else if (line.startsWith('USER ')) sock.write(`:fake 001 ${nick} :welcome\r\n`);
        else if (line.startsWith('JOIN ')) {
          setTimeout(() => {
            waiting--;
            joined++;
            sock.write(`:${nick}!u@h JOIN #bench\r\n:fake 366 ${nick} #bench :End of NAMES list\r\n`);
          }, delayMs);
        }
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    most: () => most,
    joined: () => joined,
    accepted: () => accepted,
  };
}
