// Where a connection's RSS goes, thread by thread: chat-server (plain TCP, as the bench's chat suite runs it) is started
// under the inspector, and before and after N idle clients of the bench's load generator connect (the chat protocol, or
// IRC to the door), it reads, without forcing anything first: the process's RSS and its mappings by kind
// (/proc/PID/smaps: malloc's main heap, other anonymous memory, files), each thread's V8 heap (v8.getHeapStatistics:
// what V8 has committed and touched, against what its objects use) by space, and glibc's malloc_stats() (through gdb,
// if it is installed: what each malloc arena holds from the system, against what is in use). Then it collects garbage in
// every thread and reads them all again, and once more after malloc_trim(0). No heap snapshot is taken: building one allocates in the thread's native heap.
//
//   npm run build && node scripts/memory-per-thread.mjs chat|irc N [--workers W] [--default-room '#bench']
//
// Loopback only; the server and the load generator are killed at the end.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { workers: { type: 'string', default: '1' }, 'default-room': { type: 'string' } },
});
const [proto, count] = positionals;
const N = Number(count);
if (!['chat', 'irc'].includes(proto) || !Number.isInteger(N) || N < 1 || N > 20_000) {
  console.error('usage: node scripts/memory-per-thread.mjs chat|irc N [--workers W] [--default-room ROOM]');
  process.exit(2);
}
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'memory-per-thread-'));
const server = spawn(
  process.execPath,
  [
    '--inspect=127.0.0.1:0',
    join(ROOT, 'dist/server/cli.js'),
    ...['--no-tls', '--host', '127.0.0.1', '--port', '0', '--workers', values.workers, '--max-clients', '20000'],
    ...['--no-web', '--files', join(work, 'files'), '--data', join(work, 'data'), '--log-file', join(work, 'log')],
    ...['--log-level', 'warn', '--flood-burst', '1000000', '--flood-rate', '1000000'],
    ...['--heartbeat-interval', '5s', '--heartbeat-timeout', '15s'],
    ...(values['default-room'] ? ['--default-room', values['default-room']] : []),
  ],
  { stdio: ['pipe', 'pipe', 'pipe'] },
);
let said = '';
server.stdout.on('data', (d) => (said += d));
server.stderr.on('data', (d) => (said += d));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sayingOf = async (re) => {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(100)) {
    const m = re.exec(said);
    if (m) return m[1];
  }
  throw new Error(`the server never said ${re}:\n${said}`);
};
const inspector = await sayingOf(/Debugger listening on (ws:\/\/\S+)/);
const port = Number(await sayingOf(proto === 'irc' ? /irc on tcp [\d.]+:(\d+)/ : /listening on tcp [\d.]+:(\d+)/));

// The inspector: the process's session, and through it each thread's (NodeWorker), named by their script.
const ws = new WebSocket(inspector);
await new Promise((resolve) => ws.on('open', resolve));
const answers = new Map();
const threads = new Map();
let ids = 0;
ws.on('message', (raw) => {
  const m = JSON.parse(raw.toString());
  if (m.id && answers.has(m.id)) return answers.get(m.id)(m.result);
  if (m.method === 'NodeWorker.attachedToWorker') {
    const name = m.params.workerInfo.url.replace(/.*\//, '').replace(/\.js$/, '');
    let key = name;
    for (let i = 2; threads.has(key); i++) key = `${name}#${i}`;
    threads.set(key, m.params.sessionId);
  }
  if (m.method !== 'NodeWorker.receivedMessageFromWorker') return;
  const w = JSON.parse(m.params.message);
  if (w.id && answers.has(w.id)) answers.get(w.id)(w.result);
});
const call = (method, params = {}, sessionId = null) =>
  new Promise((resolve) => {
    const id = ++ids;
    answers.set(id, resolve);
    const msg = JSON.stringify({ id, method, params });
    if (sessionId === null) ws.send(msg);
    else
      ws.send(
        JSON.stringify({ id: ++ids, method: 'NodeWorker.sendMessageToWorker', params: { sessionId, message: msg } }),
      );
  });
await call('NodeWorker.enable', { waitForDebuggerOnStart: false });
while ([...threads.keys()].filter((t) => t.startsWith('worker-main')).length < Number(values.workers)) await sleep(50);

const V8_STATS = `JSON.stringify((() => { const v8 = process.getBuiltinModule('v8');
  return { heap: v8.getHeapStatistics(), spaces: v8.getHeapSpaceStatistics() }; })())`;
/** Each thread's V8 heap as V8 counts it; `gc` first collects garbage in it. */
async function v8Stats(gc) {
  const out = {};
  for (const [name, sessionId] of [['main', null], ...threads]) {
    if (gc) {
      await call('HeapProfiler.enable', {}, sessionId);
      await call('HeapProfiler.collectGarbage', {}, sessionId);
    }
    const r = await call('Runtime.evaluate', { expression: V8_STATS, returnByValue: true }, sessionId);
    out[name] = JSON.parse(r.result.value);
  }
  return out;
}

/** The process's resident memory (kB) by kind of mapping. */
function smaps() {
  const kinds = { total: 0, '[heap]': 0, anonymous: 0, files: 0, other: 0 };
  let kind = 'other';
  for (const line of readFileSync(`/proc/${server.pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head)
      kind =
        head[1] === '' ? 'anonymous' : head[1].startsWith('/') ? 'files' : head[1] === '[heap]' ? '[heap]' : 'other';
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) {
      kinds[kind] += Number(rss[1]);
      kinds.total += Number(rss[1]);
    }
  }
  return kinds;
}

/**
 * glibc's malloc_stats(), printed on the server's stderr when gdb calls it: per arena, system and in-use bytes. With
 * `trim`, malloc_trim(0) first: malloc gives back to the system every free page it can (the main heap's middle too).
 */
async function mallocStats(trim = false) {
  const from = said.length;
  try {
    const calls = [...(trim ? ['-ex', 'call (int)malloc_trim(0)'] : []), '-ex', 'call (void)malloc_stats()'];
    execFileSync('gdb', ['-p', String(server.pid), '-batch', ...calls], { stdio: 'ignore' });
  } catch {
    return null;
  }
  await sleep(300);
  const text = said.slice(from);
  const total = /Total \(incl\. mmap\):\s+system bytes\s+=\s+(\d+)\s+in use bytes\s+=\s+(\d+)/.exec(text);
  const arenas = [...text.matchAll(/Arena (\d+):\s+system bytes\s+=\s+(\d+)\s+in use bytes\s+=\s+(\d+)/g)];
  return (
    total && {
      system: Number(total[1]),
      inUse: Number(total[2]),
      arenas: arenas.map((a) => ({ system: Number(a[2]), inUse: Number(a[3]) })),
    }
  );
}

async function reading(gc, trim = false) {
  const v8 = await v8Stats(gc);
  const malloc = await mallocStats(trim);
  return { smaps: smaps(), v8, malloc };
}

await sleep(2000);
const before = await reading(false);
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
for (const deadline = Date.now() + 600_000; established() < N; await sleep(500))
  if (Date.now() > deadline) throw new Error(`only ${established()} of ${N} connected in 600 s`);
// Their last registrations, joins and NAMES answered.
await sleep(8000);
const after = await reading(false);
const afterGc = await reading(true);
const afterTrim = await reading(false, true);

const kb = (bytes) => (bytes / N / 1000).toFixed(1);
const perConn = (a, b) => kb((b - a) * 1024);
const show = (label, r) => {
  console.log(`${label}:`);
  console.log(
    `  RSS by mapping, per connection: ${Object.keys(r.smaps)
      .map((k) => `${k} ${perConn(before.smaps[k], r.smaps[k])} KB`)
      .join(', ')}`,
  );
  for (const [t, s] of Object.entries(r.v8)) {
    const b = before.v8[t];
    const space = (name, f) =>
      s.spaces.find((x) => x.space_name === name)[f] - b.spaces.find((x) => x.space_name === name)[f];
    console.log(
      `  ${t.padEnd(14)} V8 physical ${kb(s.heap.total_physical_size - b.heap.total_physical_size)} KB, ` +
        `committed ${kb(s.heap.total_heap_size - b.heap.total_heap_size)}, used ${kb(s.heap.used_heap_size - b.heap.used_heap_size)}, ` +
        `malloced ${kb(s.heap.malloced_memory - b.heap.malloced_memory)}, external ${kb(s.heap.external_memory - b.heap.external_memory)}; ` +
        `new space committed ${kb(space('new_space', 'physical_space_size'))}, old ${kb(space('old_space', 'physical_space_size'))} ` +
        `(used ${kb(space('old_space', 'space_used_size'))}), code ${kb(space('code_space', 'physical_space_size'))}`,
    );
  }
  if (r.malloc && before.malloc)
    console.log(
      `  malloc (${r.malloc.arenas.length} arenas): from the system ${kb(r.malloc.system - before.malloc.system)} KB, ` +
        `in use ${kb(r.malloc.inUse - before.malloc.inUse)} KB per connection; by arena (0: the main heap), ` +
        r.malloc.arenas
          .map((a, i) => [
            i,
            a.system - (before.malloc.arenas[i]?.system ?? 0),
            a.inUse - (before.malloc.arenas[i]?.inUse ?? 0),
          ])
          .filter(([, sys]) => Math.abs(sys) >= N * 500)
          .map(([i, sys, used]) => `${i}: ${kb(sys)} (in use ${kb(used)})`)
          .join(', '),
    );
};
console.log(`${proto}, ${N} idle clients, ${values.workers} worker(s); before: RSS ${before.smaps.total} kB`);
show('after they connected (nothing forced)', after);
show('after a full GC in every thread', afterGc);
show('after that and malloc_trim(0)', afterTrim);
load.kill('SIGKILL');
server.kill('SIGKILL');
process.exit(0);
