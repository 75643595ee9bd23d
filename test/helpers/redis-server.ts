/**
 * A real redis-server for a test: started on 127.0.0.1 at a free port, in a
 * folder of its own, and killed when the test file ends (cleanup.ts kills
 * every LineProcess left). Debian's redis-server (scripts/ensure-test-packages.sh
 * installs it); nothing is assumed running.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { closeRedis, type RedisLink } from '../../server/cluster/redis-link.js';
import { openRedis } from '../../server/cluster/open-redis.js';
import { parseRedisUrl } from '../../server/cluster/redis-url.js';
import { LineProcess, tempDir } from './processes.js';
import { freePort } from './loopback.js';

export interface RedisUnderTest {
  port: number;
  url: string;
  dir: string;
  proc: LineProcess;
  /** Stops it (SIGTERM: it saves nothing, persistence is off unless asked) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts redis-server; `extra` are more of its options (`--appendonly yes`, say). `port`: that port (a restart at
 * the same address); otherwise a free one.
 */
export async function startRedis(
  extra: string[] = [],
  opts: { port?: number; dir?: string } = {},
): Promise<RedisUnderTest> {
  const dir = opts.dir ?? tempDir('redis');
  for (let attempt = 0; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...extra];
    const proc = new LineProcess(`redis-server:${port}`, args, { program: 'redis-server' });
    try {
      await proc.waitFor(/Ready to accept connections/, 10_000);
    } catch (err) {
      proc.kill();
      await proc.exited;
      if (attempt < 3 && opts.port === undefined && proc.lines.some((l) => /Address already in use/.test(l))) continue;
      throw err;
    }
    return {
      port,
      url: `redis://127.0.0.1:${port}`,
      dir,
      proc,
      stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
        proc.kill(signal);
        await proc.exited;
      },
    };
  }
}

export interface SentinelSetUnderTest {
  master: RedisUnderTest;
  replica: RedisUnderTest;
  sentinel: LineProcess;
  /** redis-sentinel://127.0.0.1:PORT/mymaster */
  url: string;
  stop(): Promise<void>;
}

/**
 * A master, its replica and one Sentinel watching them (quorum 1), quick to act: the master is thought down after
 * 1 s without an answer, and a failover may take 3 s. The Sentinel writes its own config file (it must).
 */
export async function startSentinelSet(): Promise<SentinelSetUnderTest> {
  const master = await startRedis();
  const replica = await startRedis(['--replicaof', '127.0.0.1', String(master.port)]);
  await replica.proc.waitFor(/MASTER <-> REPLICA sync: Finished with success/, 10_000);
  const dir = tempDir('sentinel');
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor mymaster 127.0.0.1 ${master.port} 1`,
        'sentinel down-after-milliseconds mymaster 1000',
        'sentinel failover-timeout mymaster 3000',
        'sentinel parallel-syncs mymaster 1',
        '',
      ].join('\n'),
    );
    const sentinel = new LineProcess(`redis-sentinel:${port}`, [conf], { program: 'redis-sentinel' });
    try {
      await sentinel.waitFor(/\+monitor master mymaster/, 10_000);
    } catch (err) {
      sentinel.kill();
      await sentinel.exited;
      if (attempt < 3 && sentinel.lines.some((l) => /Address already in use/.test(l))) continue;
      throw err;
    }
    return {
      master,
      replica,
      sentinel,
      url: `redis-sentinel://127.0.0.1:${port}/mymaster`,
      stop: async () => {
        sentinel.kill('SIGTERM');
        await sentinel.exited;
        await Promise.all([master.stop(), replica.stop()]);
      },
    };
  }
}

/**
 * For a test file: one redis-server for all its tests (started before the first, stopped after the last) and a link
 * to it; another() opens more, closed with it.
 */
export function redisPerFile(): {
  readonly redis: RedisUnderTest;
  readonly link: RedisLink;
  another(): Promise<RedisLink>;
} {
  let redis: RedisUnderTest | null = null;
  const links: RedisLink[] = [];
  const open = async () => {
    const l = await openRedis(parseRedisUrl(redis!.url));
    links.push(l);
    return l;
  };
  beforeAll(async () => {
    redis = await startRedis();
    await open();
  });
  afterAll(async () => {
    await Promise.all(links.map(closeRedis));
    await redis?.stop();
  });
  return {
    get redis() {
      return redis!;
    },
    get link() {
      return links[0]!;
    },
    another: open,
  };
}
