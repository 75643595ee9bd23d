/**
 * The resume suite's folders over the chat server's own HTTP side (lftp-resume-suite.ts), to set beside LFTP's and
 * rsync's: a chat-server (--no-tls, as LFTP runs --open and rsync's daemon is plain) serving the folder LFTP
 * posted, one folder ticket asked for over a WebSocket chat session, then curl: the manifest, and every file from
 * one `-K` config (test/helpers/http-folder.ts), over one kept-alive connection, and again with --parallel.
 * Only get: the HTTP side receives single files, not folders.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeManifest } from '../../common/lftp/node/folder-manifest.js';
import type { ServerMessage } from '../../common/protocol.js';
import { curlConfig, folderUrl } from '../helpers/http-folder.js';
import { WsClient } from '../helpers/raw-client.js';

export interface HttpSide {
  base: string;
  session(): Promise<ChatSession>;
  stop(): Promise<void>;
}

interface ChatSession {
  /** A folder ticket for `name/` (one per session). */
  ticket(name: string): Promise<string>;
  close(): void;
}

/** Connections `--parallel` may open: well under the 32 one address may hold. */
export const CURL_PARALLEL = 8;

const exited = (p: ChildProcess) => new Promise<number>((r) => p.on('exit', (code) => r(code ?? -1)));

/** A chat-server whose files are `files` (chatSession asks it for tickets), or why not. */
export async function startHttpSide(root: string, files: string, work: string): Promise<HttpSide | string> {
  if (spawnSync('curl', ['--version']).error) return 'curl is not installed (Debian: apt-get install curl)';
  const args = ['--no-tls', '--no-history', '--host', '127.0.0.1', '--port', '0', '--files', files];
  const p = spawn(process.execPath, [join(root, 'dist/server/cli.js'), ...args, '--log-file', join(work, 'h.log')]);
  p.stderr.resume();
  const port = await new Promise<number>((resolve, reject) => {
    p.on('exit', () => reject(new Error('chat-server exited')));
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += String(d);
      const m = /web on http:\/\/[\d.]+:(\d+)\//.exec(out);
      if (m) resolve(Number(m[1]));
    });
  });
  return {
    base: `http://127.0.0.1:${port}`,
    session: () => chatSession(port),
    stop: async () => {
      p.kill('SIGTERM');
      await exited(p);
    },
  };
}

let sessions = 0;

/**
 * A chat session on the web port, one per folder: the suite blocks its event loop for many seconds while it writes
 * a folder's files, longer than a session lives without answering heartbeats. Its heartbeats are answered while
 * it lives (a folder's fetch), all but tickets let go.
 */
async function chatSession(port: number): Promise<ChatSession> {
  const ws = await WsClient.connect(port);
  ws.send({ type: 'HELLO', version: 2, nick: `bench${++sessions}` });
  await ws.waitFor((m) => m.type === 'WELCOME');
  const beat = setInterval(() => {
    const all = ws.received.splice(0);
    for (const m of all) if (m.type === 'HEARTBEAT') ws.send({ type: 'HEARTBEAT_ACK', seq: m.seq, ts: m.ts });
    ws.received.push(...all.filter((m) => m.type === 'TICKET'));
  }, 500);
  return {
    ticket: async (name) => {
      ws.send({ type: 'TICKET_REQUEST', id: 1, op: 'get', name: `${name}/` });
      const t = (await ws.waitFor((m) => m.type === 'TICKET')) as Extract<ServerMessage, { type: 'TICKET' }>;
      if (!t.ok) throw new Error(`no ticket for ${name}/: ${t.code} ${t.message}`);
      return t.ticket;
    },
    close: () => {
      clearInterval(beat);
      ws.destroy();
    },
  };
}

/**
 * The folder `name` fetched into `into`, timed from the manifest's request to curl's exit: seconds. `parallel`:
 * curl --parallel with CURL_PARALLEL connections, else one connection, the files one after another.
 */
export async function curlFolder(
  http: HttpSide,
  name: string,
  into: string,
  expected: number,
  parallel: boolean,
): Promise<number> {
  const session = await http.session();
  try {
    return await fetchFolder(http.base, await session.ticket(name), name, into, expected, parallel);
  } finally {
    session.close();
  }
}

async function fetchFolder(
  base: string,
  ticket: string,
  name: string,
  into: string,
  expected: number,
  parallel: boolean,
): Promise<number> {
  const config = join(into, `${name}.curl`);
  const t0 = performance.now();
  const res = await fetch(folderUrl(base, name, '', ticket));
  if (!res.ok) throw new Error(`the manifest of ${name}/: HTTP ${res.status} ${await res.text()}`);
  const m = decodeManifest(Buffer.from(await res.arrayBuffer()), name);
  writeFileSync(config, curlConfig(base, m, ticket, into));
  const more = parallel ? ['--parallel', '--parallel-max', String(CURL_PARALLEL)] : [];
  const code = await exited(spawn('curl', ['-sS', '--fail', ...more, '-K', config], { stdio: 'ignore' }));
  const s = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`curl -K of ${name}/ exited with ${code}`);
  const got = readdirSync(join(into, name)).length;
  if (got !== expected) throw new Error(`curl fetched ${got} files of ${name}/, not ${expected}`);
  rmSync(join(into, name), { recursive: true, force: true });
  rmSync(config, { force: true });
  return s;
}
