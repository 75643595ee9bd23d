/**
 * What chat-server says and shows as it runs (issue 33, item 7 and the
 * console's minors): every web URL of its start-up line opens (no
 * http://0.0.0.0:9001/ that answers 421); started as `npm start` starts it,
 * ps shows it as chat-server; on a terminal, the drop line's durations are
 * formatted, the Ctrl-C hint names a command the console knows, and the log
 * never carries a field twice ("worker":"supervisor","worker":1).
 */
import http from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, stopAll, tempDir, type ServerHandle } from '../helpers/processes.js';
import { RawClient } from '../helpers/raw-client.js';
import { Tmux } from '../helpers/tmux.js';
import { until } from '../helpers/wait.js';
import { CONSOLE_COMMANDS } from '../../server/process/operator-console.js';

const servers: ServerHandle[] = [];
const terms: Tmux[] = [];
const peers: RawClient[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.destroy();
  for (const t of terms.splice(0)) t.kill();
  await stopAll(...servers.splice(0));
});

/** GET on 127.0.0.1 with the Host header a browser would send for url: the status (only loopback traffic). */
function statusFor(url: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host: new URL(url).host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
}

/** The URLs of the start-up line "web on URL, URL (chat page)". */
function webUrls(server: ServerHandle): string[] {
  const line = server.lines.find((l) => l.startsWith('web on ')) ?? '';
  return /^web on (.*) \(chat page/.exec(line)?.[1]?.split(', ') ?? [];
}

/** A log line's top-level keys, in order, duplicates kept (JSON.parse would keep only the last). */
function topKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"') {
      let j = i + 1;
      while (line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      if (depth === 1 && line[j + 1] === ':') keys.push(line.slice(i + 1, j));
      i = j;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return keys;
}

describe('chat-server as it runs', () => {
  it('every web URL of the start-up line opens: 127.0.0.1 and localhost; for 0.0.0.0 no 0.0.0.0, each name answered', async () => {
    const loopback = await startServer(['--workers', '1']);
    servers.push(loopback);
    const urls = webUrls(loopback);
    expect(urls).toEqual([`http://127.0.0.1:${loopback.httpPort}/`, `http://localhost:${loopback.httpPort}/`]);
    for (const u of urls) expect((await fetch(u)).status, u).toBe(200);

    // Listening on every interface, as by default; only loopback is connected to: each printed name as the Host.
    const wildcard = await startServer(['--workers', '1', '--host', '0.0.0.0']);
    servers.push(wildcard);
    expect(wildcard.lines[0]).toMatch(/^listening on tcp 0\.0\.0\.0:\d+ /);
    const names = webUrls(wildcard);
    expect(names[0]).toBe(`http://localhost:${wildcard.httpPort}/`);
    for (const u of names) {
      expect(new URL(u).hostname, u).not.toBe('0.0.0.0');
      expect(await statusFor(u, wildcard.httpPort!), u).toBe(200);
    }
  });

  it('on a terminal, started as npm start starts it: ps shows chat-server; the drop line formatted; the Ctrl-C hint names /shutdown; no log field twice', async () => {
    const dir = tempDir('console-minors');
    const status = join(dir, 'status');
    const log = join(dir, 'server.log');
    // `npm start` runs `node dist/server/cli.js`: a short command line, which the title must fit.
    const term = Tmux.start(
      [
        process.execPath,
        'dist/server/cli.js',
        '--no-tls',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--workers',
        '2',
        '--no-web',
        '--log-file',
        log,
        '--data',
        join(dir, 'data'),
        '--files',
        join(dir, 'files'),
        '--heartbeat-interval',
        '300ms',
        '--heartbeat-timeout',
        '1s',
      ],
      { statusFile: status, width: 160, height: 40, env: { XDG_STATE_HOME: dir } },
    );
    terms.push(term);
    const rows = await term.waitFor(
      (r) => r.some((l) => l.startsWith('listening on tcp')) && r.some((l) => l.startsWith('console>')),
      'the console prompt',
    );
    const port = Number(/listening on tcp [^:]+:(\d+)/.exec(rows.join('\n'))![1]);

    const pid = term.programPid();
    expect(pid).not.toBeNull();
    expect
      .soft(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '))
      .toMatch(/^chat-server --no-tls --host 127\.0\.0\.1 --port 0 --workers 2 /);

    // Two clients that never answer a heartbeat; one renames itself first.
    for (const nick of ['frozen', 'alice']) {
      const c = await RawClient.connect(port);
      peers.push(c);
      c.send({ type: 'HELLO', version: 2, nick });
      await c.waitFor((m) => m.type === 'WELCOME');
    }
    peers[1]!.send({ type: 'NICK', nick: 'alice2' });
    await until(
      () => existsSync(log) && readFileSync(log, 'utf8').includes('"msg":"nick changed"'),
      10_000,
      () => 'no "nick changed" in the log',
    );
    const dropped = await term.waitForText('* frozen lost connection');
    const drop = dropped.find((r) => r.includes('* frozen lost connection'))!;
    expect.soft(drop).toMatch(/\(no heartbeat answer for 1\.0s \(last answer \d+(\.\d)?s ago\)\)$/);
    expect.soft(drop).not.toMatch(/\d\.\d{3,}/);

    // A worker crashes: the supervisor's lines about it.
    term.type('/kill-worker 1');
    term.keys('Enter');
    await term.waitForText('! worker 1 exited');
    await until(
      () => existsSync(log) && readFileSync(log, 'utf8').includes('"msg":"worker restarted"'),
      15_000,
      () => 'no "worker restarted" in the log',
    );

    term.keys('C-c');
    const hint = (await term.waitForText('Ctrl-C again')).find((r) => r.includes('Ctrl-C again'))!;
    const named = /\(or (\/[\w-]+)\)/.exec(hint)?.[1];
    expect.soft(CONSOLE_COMMANDS).toContain(named);
    expect.soft(named).toBe('/shutdown');
    term.keys('C-c');
    await until(
      () => existsSync(status),
      15_000,
      () => term.screen().join('\n'),
    );
    expect(readFileSync(status, 'utf8').trim()).toBe('0');

    const lines = readFileSync(log, 'utf8').trim().split('\n');
    const twice = lines.filter((l) => new Set(topKeys(l)).size !== topKeys(l).length);
    expect.soft(twice).toEqual([]);
    const died = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'worker died');
    expect.soft(died).toMatchObject({ thread: 'supervisor', worker: 1 });
    const renamed = lines.find((l) => l.includes('"msg":"nick changed"')) ?? '';
    expect.soft(topKeys(renamed).filter((k) => k === 'nick')).toEqual(['nick']);
    expect.soft(JSON.parse(renamed || '{}')).toMatchObject({ nick: 'alice2', from: 'alice' });
  }, 60_000);
});
