/**
 * The dashboard's cookie is signed with the SecretSource's secret (server/process/secret-source.ts): kept in the
 * data folder, so a restart of the server on the same folder keeps it valid; with --no-history (no folder) a
 * restart ends it. Also --node-id: a server started with one works as the default does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, stopAll, tempDir, type LineProcess, type ServerHandle } from '../helpers/processes.js';

const TOKEN = 'correct-horse-battery';
let procs: LineProcess[] = [];
afterEach(async () => {
  await stopAll(...procs);
  procs = [];
});

async function server(args: string[]): Promise<ServerHandle & { httpPort: number }> {
  const s = await startServer(['--workers', '2', '--admin-token', TOKEN, ...args]);
  procs.push(s);
  await s.waitFor(/dashboard at \/admin/);
  return s as ServerHandle & { httpPort: number };
}

async function cookieFrom(s: ServerHandle & { httpPort: number }): Promise<string> {
  const ok = await fetch(`http://127.0.0.1:${s.httpPort}/admin`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  expect(ok.status).toBe(200);
  return ok.headers.get('set-cookie')!.split(';')[0]!;
}

const withCookie = async (s: ServerHandle & { httpPort: number }, cookie: string) =>
  (await fetch(`http://127.0.0.1:${s.httpPort}/admin`, { headers: { Cookie: cookie } })).status;

describe('the signing secrets across a restart', () => {
  it('with a data folder the dashboard cookie outlives a restart; the secrets file is the owner’s only', async () => {
    const data = tempDir('chat-data');
    const first = await server(['--data', data, '--no-tls', '--node-id', 'eu-1']);
    const cookie = await cookieFrom(first);
    expect(await withCookie(first, cookie)).toBe(200);
    await stopAll(first);
    expect(statSync(join(data, 'server.secrets')).mode & 0o777).toBe(0o600);
    const second = await server(['--data', data, '--no-tls']);
    expect(await withCookie(second, cookie)).toBe(200);
  });

  it('with --no-history the secrets are new each run: a restart ends the cookie', async () => {
    const first = await server(['--no-history', '--no-tls']);
    const cookie = await cookieFrom(first);
    await stopAll(first);
    const second = await server(['--no-history', '--no-tls']);
    expect(await withCookie(second, cookie)).toBe(401);
  });
});
