/**
 * The resume test the issue names (docs/LFTP.md, "Resume"): a 64 MiB get and a 64 MiB post, each cut five times
 * at random points by SIGKILL, of the client and of the server in turn, through the fault relay at 5 % loss
 * both ways (a 24 MB/s link), in open and protected (--token) mode; then run to the end. The bytes are identical, the partial
 * never appears under the final name, and after every restart what the relay forwarded in the data's direction
 * is at most what the receiver gained (its partial after, less before) plus one window, plus what a killed
 * receiver had not recorded yet (RECORD_EVERY_BYTES), plus the transfer's control packets: counted in bytes
 * with each packet's overhead (resumedBytesBound), as the relay has no MTU and both ends may pack packets.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_JS, LineProcess, startLftpServer, stopAll, tempDir, type ServerHandle } from '../helpers/processes.js';
import { NO_IMPAIRMENT, drained, resumedBytesBound, seededRandom, startRelay, type Relay } from '../relay/relay.js';
import { LFTP_DEFAULTS } from '../../common/lftp/defaults.js';
import { RECORD_EVERY_BYTES } from '../../common/lftp/node/resume-record.js';
import { until } from '../helpers/wait.js';
import { held } from '../helpers/partials.js';

const SIZE = 64 * 2 ** 20;
const MSS = LFTP_DEFAULTS.mss;
const WINDOW = LFTP_DEFAULTS.receiveCapacity;
const CONTROL = 32;
const CUTS = 5;
/**
 * The relay's link: 24 MB/s (bytes) with 5 % loss each way. Without a bottleneck, BBR's window at 5 % loss is
 * large enough that an RTO now and then resends a whole flight that was mostly delivered, and the duplicates
 * (the sender's business, not resume's) pass the bound: 34,855 datagrams for 29,304 missing packets in one run.
 */
const RATE = 24e6;
const LOSS = { ...NO_IMPAIRMENT, loss: 0.05 };
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const servers: ServerHandle[] = [];
afterAll(async () => stopAll(...servers));

async function relayTo(port: number, seed: number, rateBps: number): Promise<Relay> {
  return startRelay({
    listenHost: '127.0.0.1',
    listenPort: 0,
    targetHost: '127.0.0.1',
    targetPort: port,
    seed,
    up: { ...LOSS, rateBps },
    down: { ...LOSS, rateBps },
  });
}

/** Everything the relay took in has gone out (or was dropped): its counts are final. */
const settled = (r: Relay) => drained(r.stats.up) && drained(r.stats.down);

function client(args: string[]): LineProcess {
  const p = new LineProcess('lftp-client', [CLIENT_JS, 'lftp', ...args, '--quiet']);
  p.endInput();
  return p;
}

describe('resume: five random cuts of the client and the server, 5 % loss', () => {
  for (const op of ['get', 'post'] as const) {
    for (const mode of ['open', 'token'] as const) {
      it(`${op}, ${mode}: 64 MiB cut ${CUTS} times, then completed; after each restart at most the missing part and a window cross`, async () => {
        const seed = Math.floor(Math.random() * 2 ** 31);
        const rnd = seededRandom(seed);
        const files = tempDir(`cuts-${op}-${mode}`);
        const here = tempDir(`cuts-${op}-${mode}-local`);
        const serverArgs = mode === 'open' ? ['--open', '--cc', 'bbr'] : ['--token', 'cut token', '--cc', 'bbr'];
        const auth = mode === 'open' ? [] : ['--token', 'cut token'];
        const source = join(op === 'get' ? files : here, 'big.bin');
        writeFileSync(source, randomBytes(SIZE));
        const final = op === 'get' ? join(here, 'copy.bin') : join(files, 'big.bin');
        const receiver = op === 'get' ? here : files;
        const args = (port: number) =>
          op === 'get'
            ? ['get', `127.0.0.1:${port}`, 'big.bin', final, ...auth]
            : ['post', `127.0.0.1:${port}`, source, ...auth, '--cc', 'bbr'];
        const dataDir = (r: Relay) => (op === 'get' ? r.stats.down : r.stats.up);
        let server = await startLftpServer(files, serverArgs);
        servers.push(server);
        for (let cut = 0; cut < CUTS; cut++) {
          const killServer = cut % 2 === 1;
          const before = held(receiver);
          const target = Math.min(SIZE - 4 * 2 ** 20, before + (2 + rnd() * 8) * 2 ** 20);
          const relay = await relayTo(server.port, seed + cut, RATE);
          // A client whose server died gives up after 2 s of silence (its partial kept), not 30.
          const p = client([...args(relay.port), '--idle-timeout', '2s']);
          await until(
            () => held(receiver) >= target,
            60_000,
            () => `cut ${cut} (seed ${seed}): no ${target} bytes held (${held(receiver)})`,
          );
          if (killServer) {
            server.kill('SIGKILL');
            await server.exit();
            expect(await p.exit(30_000)).toBe(3); // PEER_TIMEOUT: the server went silent
            server = await startLftpServer(files, serverArgs);
            servers.push(server);
          } else {
            p.kill('SIGKILL');
            await p.exit();
          }
          await until(
            () => settled(relay),
            10_000,
            () => 'the relay does not drain',
          );
          await relay.close();
          expect(existsSync(final)).toBe(false);
          const gained = Math.max(0, held(receiver) - before);
          const sent = dataDir(relay).bytes;
          const bound = resumedBytesBound(gained, MSS, WINDOW + Math.ceil(RECORD_EVERY_BYTES / MSS) + CONTROL);
          console.log(
            `${op} ${mode} cut ${cut} (${killServer ? 'server' : 'client'} killed, seed ${seed}): ${sent} bytes crossed, receiver gained ${gained}`,
          );
          expect(sent).toBeLessThanOrEqual(bound);
        }
        const have = held(receiver);
        const relay = await relayTo(server.port, seed + CUTS, RATE);
        const p = client(args(relay.port));
        expect(await p.exit(120_000)).toBe(0);
        expect(p.errLines.join('\n')).toMatch(/lftp: resuming at/);
        await until(
          () => settled(relay),
          10_000,
          () => 'the relay does not drain',
        );
        await relay.close();
        expect(sha(readFileSync(final))).toBe(sha(readFileSync(source)));
        expect(readdirSync(receiver).filter((n) => n.startsWith('.'))).toEqual([]);
        const sent = dataDir(relay).bytes;
        console.log(`${op} ${mode} completed: ${sent} bytes crossed for ${SIZE - have} missing`);
        expect(sent).toBeLessThanOrEqual(resumedBytesBound(SIZE - have, MSS, WINDOW + CONTROL));
      }, 300_000);
    }
  }
});
