// Where a connection's memory goes: chat-server (one worker, plain TCP, as the bench's chat suite runs it) is started
// under the inspector, N idle clients of the bench's load generator are connected (the chat protocol, or IRC to the
// door), and once they are all in, each thread's V8 heap is read after a full GC and the chat worker's heap snapshot is
// compared with one taken before, by constructor. Prints the process's RSS per connection beside the heaps', so that
// what lives in JS objects can be told from what the process holds elsewhere (native buffers, malloc's arenas).
//
//   npm run build && node scripts/heap-per-connection.mjs chat|irc N [--arenas K] [--default-room '#bench']
//
// --arenas K runs the server with MALLOC_ARENA_MAX=K (glibc's limit on malloc arenas; threads share them).
// Loopback only; the server and the load generator are killed at the end.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { arenas: { type: 'string' }, 'default-room': { type: 'string' } },
});
const [proto, count] = positionals;
const N = Number(count);
if (!['chat', 'irc'].includes(proto) || !Number.isInteger(N) || N < 1 || N > 20_000) {
  console.error('usage: node scripts/heap-per-connection.mjs chat|irc N [--arenas K] [--default-room ROOM]');
  process.exit(2);
}
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'heap-per-connection-'));
const server = spawn(
  process.execPath,
  [
    '--inspect=127.0.0.1:0',
    join(ROOT, 'dist/server/cli.js'),
    ...['--no-tls', '--host', '127.0.0.1', '--port', '0', '--workers', '1', '--max-clients', '20000', '--no-web'],
    ...['--files', join(work, 'files'), '--data', join(work, 'data'), '--log-file', join(work, 'log')],
    ...['--log-level', 'warn', '--flood-burst', '1000000', '--flood-rate', '1000000'],
    ...['--heartbeat-interval', '5s', '--heartbeat-timeout', '15s'],
    ...(values['default-room'] ? ['--default-room', values['default-room']] : []),
  ],
  {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...(values.arenas ? { MALLOC_ARENA_MAX: values.arenas } : {}) },
  },
);
let said = '';
server.stdout.on('data', (d) => (said += d));
server.stderr.on('data', (d) => (said += d));
const sayingOf = async (re) => {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    const m = re.exec(said);
    if (m) return m[1];
  }
  throw new Error(`the server never said ${re}:\n${said}`);
};
const inspector = await sayingOf(/Debugger listening on (ws:\/\/\S+)/);
const port = Number(await sayingOf(proto === 'irc' ? /irc on tcp [\d.]+:(\d+)/ : /listening on tcp [\d.]+:(\d+)/));

// The inspector: the process's session, and through it each thread's (NodeWorker).
const ws = new WebSocket(inspector);
await new Promise((resolve) => ws.on('open', resolve));
const answers = new Map();
const threadAnswers = new Map();
const threads = new Map();
const chunks = [];
let ids = 0;
ws.on('message', (raw) => {
  const m = JSON.parse(raw.toString());
  if (m.id && answers.has(m.id)) return answers.get(m.id)(m.result);
  if (m.method === 'NodeWorker.attachedToWorker')
    threads.set(m.params.workerInfo.url.replace(/.*\//, '').replace(/\.js$/, ''), m.params.sessionId);
  if (m.method !== 'NodeWorker.receivedMessageFromWorker') return;
  const w = JSON.parse(m.params.message);
  if (w.method === 'HeapProfiler.addHeapSnapshotChunk') chunks.push(w.params.chunk);
  else if (w.id && threadAnswers.has(w.id)) threadAnswers.get(w.id)(w.result);
});
const call = (method, params = {}) =>
  new Promise((resolve) => {
    const id = ++ids;
    answers.set(id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });
const inThread = (sessionId, method, params = {}) =>
  new Promise((resolve) => {
    const id = ++ids;
    threadAnswers.set(id, resolve);
    void call('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method, params }) });
  });
await call('NodeWorker.enable', { waitForDebuggerOnStart: false });
while (!threads.has('worker-main')) await new Promise((r) => setTimeout(r, 50));
const worker = threads.get('worker-main');

/** Each thread's V8 heap after a full GC (bytes used). */
async function heaps() {
  const out = {};
  for (const [name, sessionId] of threads) {
    await inThread(sessionId, 'HeapProfiler.enable');
    await inThread(sessionId, 'HeapProfiler.collectGarbage');
    out[name] = (await inThread(sessionId, 'Runtime.getHeapUsage')).usedSize;
  }
  await call('HeapProfiler.enable');
  await call('HeapProfiler.collectGarbage');
  out.supervisor = (await call('Runtime.getHeapUsage')).usedSize;
  return out;
}

/** The chat worker's heap, by constructor (objects and closures) or node type: count and self size. */
async function byConstructor() {
  chunks.length = 0;
  await inThread(worker, 'HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  const snap = JSON.parse(chunks.join(''));
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [type, name, size] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const by = new Map();
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const t = types[snap.nodes[i + type]];
    const key = t === 'object' || t === 'closure' ? `${t} ${snap.strings[snap.nodes[i + name]]}` : t;
    const e = by.get(key) ?? { n: 0, bytes: 0 };
    e.n++;
    e.bytes += snap.nodes[i + size];
    by.set(key, e);
  }
  return by;
}

const rssKb = () =>
  Number(
    execFileSync('ps', ['-o', 'rss=', '-p', String(server.pid)])
      .toString()
      .trim(),
  );
const heaps0 = await heaps();
const objects0 = await byConstructor();
const rss0 = rssKb();
const load = spawn(
  process.execPath,
  [
    ...[join(ROOT, 'dist/test/bench/chat-load.js'), '--proto', proto, '--port', String(port), '--clients', String(N)],
    ...['--hold', '600s', '--prefix', 'c', '--connecting', '32'],
  ],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
const established = () =>
  Number(
    execFileSync('sh', ['-c', `ss -Htn state established '( sport = :${port} )' | wc -l`])
      .toString()
      .trim(),
  );
while (established() < N) await new Promise((r) => setTimeout(r, 500));
// Their last registrations, joins and NAMES answered.
await new Promise((r) => setTimeout(r, 8000));
const heaps1 = await heaps();
const objects1 = await byConstructor();
const rss1 = rssKb();

const perConn = (bytes) => (bytes / N / 1000).toFixed(1);
console.log(`${proto}, ${N} idle clients${values.arenas ? `, MALLOC_ARENA_MAX=${values.arenas}` : ''}:`);
console.log(`  process RSS: ${perConn((rss1 - rss0) * 1024)} KB per connection`);
for (const [thread, used] of Object.entries(heaps1))
  console.log(`  ${thread} V8 heap after GC: ${perConn(used - (heaps0[thread] ?? 0))} KB per connection`);
console.log('  chat worker heap by constructor, per connection (largest first):');
const rows = [...objects1]
  .map(([key, e]) => [key, e.n - (objects0.get(key)?.n ?? 0), e.bytes - (objects0.get(key)?.bytes ?? 0)])
  .sort((a, b) => b[2] - a[2])
  .slice(0, 30);
for (const [key, n, bytes] of rows)
  console.log(`  ${String(Math.round(bytes / N)).padStart(7)} B ${(n / N).toFixed(2).padStart(6)} objects  ${key}`);
load.kill('SIGKILL');
server.kill('SIGKILL');
process.exit(0);
