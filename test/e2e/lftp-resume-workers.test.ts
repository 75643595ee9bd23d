/**
 * A post run again after its client was killed continues at once, whichever worker its SYN reaches (docs/LFTP.md,
 * "Resume"): a chat server's workers share the LFTP port and the kernel picks one per source port, so the earlier
 * transfer, which the server has not given up yet (its idle timeout is 30 s), may be on this worker or the other.
 * Either way it is ended ("a new upload of the same file took over") and the new post continues its partial.
 * Another address of the same user is still refused (BUSY) on either worker. Real servers, chat-client lftp post
 * with the chat's tickets, killed with SIGKILL, a rate-limited relay in front of the LFTP port (each client gets
 * its own upstream socket there, so each run has a new source port), all on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WsClient, ticketAsker, type Ticket } from '../helpers/raw-client.js';
import { CLIENT_JS, LineProcess, startServer, stopAll, tempDir, type ServerHandle } from '../helpers/processes.js';
import { until } from '../helpers/wait.js';
import { NO_IMPAIRMENT, startRelay, type Impairment, type Relay } from '../relay/relay.js';
import { held } from '../helpers/partials.js';

const SIZE = 24 * 2 ** 20;
/** What each run that is killed moves first (the partial grows by at least this). */
const STEP = 512 * 1024;
/** What the first run moves before it is killed: enough that a restart from 0 would show in the bytes moved. */
const FIRST = 8 * 2 ** 20;
/** Runs until one lands on the other worker: each lands there with probability 1/2, so 20 miss with 2^-20. */
const MAX_RUNS = 20;
const TOOK_OVER = 'transfer failed: a new upload of the same file took over';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let procs: LineProcess[] = [];
let peers: Array<{ destroy(): void }> = [];
let relays: Relay[] = [];
afterEach(async () => {
  for (const p of peers) p.destroy();
  await stopAll(...procs);
  for (const r of relays) await r.close().catch(() => undefined);
  [procs, peers, relays] = [[], [], []];
});

/** A line of the server's log (pino JSON). */
interface LogLine {
  time: string;
  worker?: number;
  transfer?: string;
  op?: string;
  from?: number;
  remote?: string;
  code?: string;
  msg: string;
}

const logOf = (s: ServerHandle): LogLine[] =>
  readFileSync(s.logFile, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
const startedPosts = (s: ServerHandle) => logOf(s).filter((l) => l.msg === 'transfer started' && l.op === 'post');

/** A server of `workers`, alice's chat session on its WebSocket (her tickets), her file, a relay to the LFTP port. */
async function setup(workers: number) {
  const files = tempDir('workers-resume-files');
  const s = (await startServer(['--workers', String(workers), '--files', files])) as ServerHandle & {
    httpPort: number;
  };
  procs.push(s);
  const ws = await WsClient.connect(s.httpPort);
  peers.push(ws);
  ws.send({ type: 'HELLO', version: 1, nick: 'alice' });
  await ws.waitFor((m) => m.type === 'WELCOME');
  const ask = ticketAsker(ws);
  const ticket = (): Promise<Ticket> => ask('post', 'up.bin', SIZE);
  const src = join(tempDir('workers-resume-src'), 'up.bin');
  const data = randomBytes(SIZE);
  writeFileSync(src, data);
  const lftpPort = (await ticket()).port;
  const relay = async (rate: Impairment, host?: string) => {
    const r = await startRelay({
      listenHost: '127.0.0.1',
      listenPort: 0,
      targetHost: '127.0.0.1',
      targetPort: lftpPort,
      seed: 7,
      up: rate,
      down: { ...NO_IMPAIRMENT },
      ...(host !== undefined ? { sourceHost: host } : {}),
    });
    relays.push(r);
    return r;
  };
  /** `chat-client lftp post` of the file through `via`, with a new ticket. */
  const post = async (via: Relay) => {
    const t = await ticket();
    const args = ['post', `127.0.0.1:${via.port}`, src, 'up.bin', '--ticket', t.ticket, '--ticket-key', t.key];
    const p = new LineProcess('lftp post', [CLIENT_JS, 'lftp', ...args]);
    procs.push(p);
    p.endInput();
    return p;
  };
  return { s, files, data, relay, post };
}

const said = (p: LineProcess) => [...p.lines, ...p.errLines].join(' | ');

/** Waits for the server's `n`th post to start (run by `p`), and says where. */
async function nthStart(s: ServerHandle, n: number, p: LineProcess): Promise<LogLine> {
  await until(
    () => startedPosts(s).length >= n || p.exitCode !== undefined,
    30_000,
    () => `post ${n} never started: ${said(p)}`,
  );
  const line = startedPosts(s)[n - 1];
  if (!line) throw new Error(`post ${n} ended before it started (exit ${p.exitCode}): ${said(p)}`);
  return line;
}

/** The server's log lines of one transfer (its key: address|port|conn). */
const linesOf = (s: ServerHandle, transfer: string) => logOf(s).filter((l) => l.transfer === transfer);

/** The earlier transfer's end, as its worker logged it: taken over (never its idle timeout). */
async function tookOver(s: ServerHandle, earlier: LogLine): Promise<LogLine> {
  await until(
    () => linesOf(s, earlier.transfer!).some((l) => l.msg.startsWith('transfer failed')),
    10_000,
    () => `the transfer ${earlier.transfer} never ended: ${JSON.stringify(linesOf(s, earlier.transfer!))}`,
  );
  const ends = linesOf(s, earlier.transfer!).filter((l) => l.msg.startsWith('transfer'));
  expect(ends.map((l) => l.msg)).toEqual(['transfer started', TOOK_OVER]);
  const end = ends[1]!;
  expect(end.worker).toBe(earlier.worker);
  return end;
}

/** Kills `p` once the partial holds `step` more than `from`; what it holds then. */
async function killAfter(files: string, from: number, step: number, p: LineProcess): Promise<number> {
  await until(
    () => held(files) >= from + step || p.exitCode !== undefined,
    30_000,
    () => `the partial holds ${held(files)} bytes, not ${from + step}: ${said(p)}`,
  );
  expect(p.exitCode).toBeUndefined();
  p.kill('SIGKILL');
  await p.exited;
  return held(files);
}

describe('a post run again after its client was killed continues at once, on either worker', () => {
  it('its SYN on the other worker ends the earlier transfer there and continues the partial', async () => {
    const { s, files, data, relay, post } = await setup(2);
    const rate = { ...NO_IMPAIRMENT, rateBps: 4e6 };
    const via = await relay(rate);
    let runner = await post(via);
    let earlier = await nthStart(s, 1, runner);
    let kept = await killAfter(files, 0, FIRST, runner);
    const seen = { same: 0, other: 0 };
    for (let n = 2; n <= MAX_RUNS + 1; n++) {
      runner = await post(via);
      const now = await nthStart(s, n, runner);
      // Continued from the partial: all it held when its client was killed (the earlier transfer records it as it
      // ends), and what the relay still delivered after.
      expect(now.from).toBeGreaterThanOrEqual(kept);
      const end = await tookOver(s, earlier);
      // The earlier transfer was ended before the new one started (the claim passes only once it is given back).
      expect(end.time <= now.time).toBe(true);
      if (now.worker === earlier.worker) {
        seen.same++;
        earlier = now;
        kept = await killAfter(files, now.from!, STEP, runner);
        continue;
      }
      seen.other++;
      // On the other worker: it runs to the end, and only the missing part crosses.
      rate.rateBps = 0;
      expect(await runner.exit(60_000)).toBe(0);
      const moved = via.perClient().at(-1)!.up;
      console.log(
        `resumed on the other worker at ${now.from} of ${SIZE}: ${moved} bytes crossed (${JSON.stringify(seen)})`,
      );
      expect(moved).toBeGreaterThanOrEqual(SIZE - now.from!);
      expect(moved).toBeLessThan((SIZE - now.from!) * 1.05 + 2 ** 20);
      await until(
        () => linesOf(s, now.transfer!).some((l) => l.msg === 'transfer complete'),
        10_000,
        () => `the new transfer's end was never logged: ${JSON.stringify(linesOf(s, now.transfer!))}`,
      );
      break;
    }
    expect(seen.other, `${MAX_RUNS} runs, all on worker ${earlier.worker}`).toBe(1);
    expect(sha(readFileSync(join(files, 'up.bin')))).toBe(sha(data));
    expect(readdirSync(files).filter((n) => n.startsWith('.'))).toEqual([]);
  }, 180_000);

  it('on one worker too: the new post ends the earlier transfer and continues at once', async () => {
    const { s, files, data, relay, post } = await setup(1);
    const rate = { ...NO_IMPAIRMENT, rateBps: 4e6 };
    const via = await relay(rate);
    const first = await post(via);
    const earlier = await nthStart(s, 1, first);
    const kept = await killAfter(files, 0, FIRST, first);
    const again = await post(via);
    const now = await nthStart(s, 2, again);
    expect(now.from).toBeGreaterThanOrEqual(kept);
    const end = await tookOver(s, earlier);
    expect(end.time <= now.time).toBe(true);
    rate.rateBps = 0;
    expect(await again.exit(60_000)).toBe(0);
    expect(sha(readFileSync(join(files, 'up.bin')))).toBe(sha(data));
  }, 120_000);

  it("the same user's post from another address is refused on either worker, and the running one goes on", async () => {
    const { s, files, data, relay, post } = await setup(2);
    const rate = { ...NO_IMPAIRMENT, rateBps: 2e6 };
    const running = await post(await relay(rate));
    const holder = await nthStart(s, 1, running);
    await until(
      () => held(files) >= STEP,
      30_000,
      () => `the partial holds ${held(files)}: ${said(running)}`,
    );
    // 127.0.0.2 is this machine too: to the server, another address of alice's.
    const elsewhere = await relay({ ...NO_IMPAIRMENT }, '127.0.0.2');
    const refusedOn = new Set<number>();
    for (let n = 1; n <= MAX_RUNS && refusedOn.size < 2; n++) {
      const p = await post(elsewhere);
      expect(await p.exit(30_000)).toBe(4);
      expect(said(p)).toMatch(/BUSY: "up\.bin" is being received already \(an LFTP post writes its partial\)/);
      const refusal = await (async () => {
        await until(
          () => logOf(s).filter((l) => l.code === 'BUSY').length >= n,
          10_000,
          () => `refusal ${n} was never logged`,
        );
        return logOf(s).filter((l) => l.code === 'BUSY')[n - 1]!;
      })();
      expect(refusal.remote).toMatch(/^127\.0\.0\.2:/);
      refusedOn.add(refusal.worker!);
      expect(running.exitCode).toBeUndefined();
    }
    expect([...refusedOn].sort()).toEqual([0, 1]);
    rate.rateBps = 0;
    expect(await running.exit(60_000)).toBe(0);
    expect(linesOf(s, holder.transfer!).map((l) => l.msg)).not.toContain(TOOK_OVER);
    expect(sha(readFileSync(join(files, 'up.bin')))).toBe(sha(data));
  }, 180_000);
});
