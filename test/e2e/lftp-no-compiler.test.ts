/**
 * A machine without a C compiler (issue 36): the addon's build step fails and says so, install goes on, and
 * LFTP runs on dgram + node:crypto, which --version and the server's start-up line say; protected transfers
 * both ways are byte-identical. A broken addon (a file that does not load) is one line on stderr, not a crash.
 * The machine is simulated: CC names no program, and the built addon is looked for where none was built.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CLIENT_JS,
  ROOT,
  SERVER_JS,
  runLftpClient,
  startLftpServer,
  startServer,
  stopAll,
  tempDir,
  type ServerHandle,
} from '../helpers/processes.js';

let server: ServerHandle | undefined;
// The missing addon is what is simulated: a run with LFTP_NATIVE=0 (CI's fallback pass) must not decide instead.
const forced = process.env.LFTP_NATIVE;
delete process.env.LFTP_NATIVE;
afterAll(async () => {
  await stopAll(server);
  delete process.env.LFTP_NATIVE_ADDON;
  if (forced !== undefined) process.env.LFTP_NATIVE = forced;
});

function version(program: string): string[] {
  const r = spawnSync(process.execPath, [program, '--version'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  return r.stdout.trim().split('\n');
}

async function roundTrip(token: string): Promise<string[]> {
  const files = tempDir('lftp-nocc-files');
  const work = tempDir('lftp-nocc-work');
  const data = randomBytes(3 * 1024 * 1024 + 17);
  writeFileSync(join(files, 'down.bin'), data);
  writeFileSync(join(work, 'up.bin'), data);
  await stopAll(server);
  server = await startLftpServer(files, ['--token', token]);
  const target = `127.0.0.1:${server.port}`;
  const get = await runLftpClient(['get', target, 'down.bin', '--token', token], { cwd: work });
  expect(get.code, get.err.join('\n')).toBe(0);
  expect(readFileSync(join(work, 'down.bin')).equals(data)).toBe(true);
  const post = await runLftpClient(['post', target, join(work, 'up.bin'), 'up.bin', '--token', token], { cwd: work });
  expect(post.code, post.err.join('\n')).toBe(0);
  expect(readFileSync(join(files, 'up.bin')).equals(data)).toBe(true);
  return [...get.err, ...post.err];
}

describe('LFTP on a machine without a C compiler', () => {
  it('the build step is skipped with one line, and everything runs on dgram + node:crypto', async () => {
    const out = tempDir('lftp-nocc-build');
    const build = spawnSync(process.execPath, [join(ROOT, 'scripts/build-native.mjs')], {
      encoding: 'utf8',
      env: { ...process.env, CC: '/nonexistent/cc', LFTP_NATIVE_OUT: out },
    });
    expect(build.status).toBe(0);
    expect(build.stdout.trim()).toMatch(/^lftp native addon not built \(.*\): LFTP will use dgram \+ node:crypto$/);
    const addon = join(out, 'lftp_batch.node');
    expect(existsSync(addon)).toBe(false);

    process.env.LFTP_NATIVE_ADDON = addon; // the processes below look for the addon where none was built
    const fallback =
      'lftp datagrams: dgram + node:crypto, one datagram per call (no addon was built: no C compiler at install?)';
    expect(version(SERVER_JS)[1]).toBe(fallback);
    expect(version(CLIENT_JS)[1]).toBe(fallback);
    const err = await roundTrip('no compiler here');
    expect(server!.lines).toContain(fallback);
    expect(err.filter((l) => l.startsWith('lftp: dgram'))).toEqual([]); // a missing addon is no news at run time
    // The chat server's start-up lines say it too (its LFTP endpoints live in its workers).
    const chat = await startServer(['--no-web', '--workers', '1']);
    try {
      expect(await chat.waitFor(/^lftp datagrams: /, 5_000)).toBe(fallback);
    } finally {
      await stopAll(chat);
    }
  });

  it('a broken addon (it does not load) is one line on stderr, and the transfer runs on the fallback', async () => {
    const broken = join(tempDir('lftp-broken'), 'lftp_batch.node');
    writeFileSync(broken, 'not a shared object');
    process.env.LFTP_NATIVE_ADDON = broken;
    expect(version(CLIENT_JS)[1]).toMatch(
      /^lftp datagrams: dgram \+ node:crypto, one datagram per call \(addon failed to load: /,
    );
    const err = await roundTrip('broken addon');
    expect(err.filter((l) => l.startsWith('lftp: dgram + node:crypto')).length).toBe(2); // one per client run
  });
});
