/**
 * `npm run bench -- --suite cluster`: one chat over two nodes and Redis,
 * against one node, at equal load on this machine (issue 34): the fan-out
 * load (a room, ten senders at each rate) with its clients spread over the
 * nodes, deliveries/s and p99 side by side, the CPU Redis used, and the Redis
 * commands each message cost (INFO commandstats before and after), from
 * which BENCHMARKS.md models a larger cluster. Total workers are equal: one
 * node of two workers against two nodes of one.
 */
import { openRedis } from '../../server/cluster/open-redis.js';
import { closeRedis, type RedisLink } from '../../server/cluster/redis-link.js';
import { parseRedisUrl } from '../../server/cluster/redis-url.js';
import { freePort } from '../helpers/loopback.js';
import { procStat } from './proc.js';
import { start, type Daemon } from './sh.js';
import { linkedNgircd } from './ngircd-link.js';

export interface FanoutFigures {
  deliveriesPerSec: number;
  p50: number;
  p99: number;
  delivered: number;
  lost: number;
  duplicates: number;
  outOfOrder: number;
}

export interface ClusterContext {
  quick: boolean;
  record(suite: string, name: string, unit: string, values: number[], note?: string): void;
  log(line: string): void;
  chatServer(workers: number, hb?: string[], extra?: string[]): Promise<{ d: Daemon; port: number }>;
  /** The fan-out load on these ports (clients round them), the CPU of these pids summed; `irc`: spoken in IRC. */
  fanout(
    ports: number[],
    pids: number[],
    o: { room: number; rate: number; duration: string; prefix: string; irc?: boolean },
  ): Promise<FanoutFigures>;
  /** ngircd's binary (null: not installed, its side skipped) and a folder for its configurations. */
  ngircd: string | null;
  work: string;
  /** One ngircd as the fan-out suite runs it (null: not installed). */
  oneNgircd(): Promise<{ port: number; pid: number; stop(): Promise<void> } | null>;
}

/** Every Redis command's calls so far (INFO commandstats). */
async function commandCalls(link: RedisLink): Promise<Map<string, number>> {
  const info = await link.info('commandstats');
  return new Map([...info.matchAll(/cmdstat_([\w|]+):calls=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function clusterSuite(ctx: ClusterContext): Promise<void> {
  const port = await freePort();
  const redis = await start(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    /Ready to accept connections/,
  ).catch((err: Error) => {
    ctx.log(`cluster: skipped, redis-server did not start (apt-get install redis-server): ${err.message}`);
    return null;
  });
  if (!redis) return;
  const link = await openRedis(parseRedisUrl(`redis://127.0.0.1:${port}`));
  // The two light loads leave the two cores room, so that the hop's own delay shows in the p99 (at the heavier
  // ones one node alone has a p99 of 15-60 ms, the machine's); then the suite's fan-out rates.
  const loads: Array<{ room: number; rate: number }> = ctx.quick
    ? [{ room: 200, rate: 10 }]
    : [
        { room: 100, rate: 5 },
        { room: 1000, rate: 1 },
        { room: 1000, rate: 5 },
        { room: 1000, rate: 20 },
        { room: 1000, rate: 50 },
      ];
  const runs = ctx.quick ? 1 : 3;
  const duration = ctx.quick ? '5s' : '10s';
  ctx.log(
    `cluster: fan-out, 10 senders, ${loads.map((l) => `${l.rate} msg/s into ${l.room}`).join(', ')}: one node (2 workers) against two nodes (1 worker each) and Redis`,
  );
  try {
    for (const { room, rate } of loads) {
      const single: FanoutFigures[] = [];
      const two: FanoutFigures[] = [];
      const redisCpu: number[] = [];
      const perMessage: number[] = [];
      const breakdown: string[] = [];
      for (let i = 0; i < runs; i++) {
        const one = await ctx.chatServer(2);
        try {
          single.push(
            await ctx.fanout([one.port], [one.d.proc.pid!], { room, rate, duration, prefix: `s${rate}x${i}x` }),
          );
        } finally {
          await one.d.stop();
        }
        await link.flushAll();
        const url = `redis://127.0.0.1:${port}`;
        const nodes = [
          await ctx.chatServer(1, undefined, ['--redis', url, '--node-id', 'a']),
          await ctx.chatServer(1, undefined, ['--redis', url, '--node-id', 'b']),
        ];
        try {
          const calls0 = await commandCalls(link);
          const cpu0 = procStat(redis.proc.pid!).cpuSec;
          const pids = nodes.map((n) => n.d.proc.pid!);
          const f = await ctx.fanout(
            nodes.map((n) => n.port),
            pids,
            { room, rate, duration, prefix: `c${rate}x${i}x` },
          );
          redisCpu.push(((procStat(redis.proc.pid!).cpuSec - cpu0) / Math.max(1, f.delivered)) * 100_000 * 1000);
          const calls1 = await commandCalls(link);
          const diff = [...calls1]
            .map(([k, n]): [string, number] => [k, n - (calls0.get(k) ?? 0)])
            .filter(([, n]) => n > 0);
          const total = diff.reduce((a, [, n]) => a + n, 0);
          const sent = 10 * rate * (Number.parseInt(duration, 10) || 10);
          perMessage.push(total / sent);
          breakdown.push(
            diff
              .sort((a, b) => b[1] - a[1])
              .map(([k, n]) => `${k} ${(n / sent).toFixed(2)}`)
              .join(', '),
          );
          two.push(f);
        } finally {
          for (const n of nodes) await n.d.stop();
        }
      }
      const ircd = await ngircdRuns(ctx, { room, rate, duration, runs });
      const tag = `10×${rate} msg/s into ${room}`;
      const bad = (f: FanoutFigures) => f.lost + f.duplicates + f.outOfOrder;
      if (ircd) recordNgircd(ctx, tag, ircd);
      ctx.record(
        'cluster',
        `one node, ${tag}: deliveries/s`,
        '/s',
        single.map((f) => f.deliveriesPerSec),
      );
      ctx.record(
        'cluster',
        `two nodes + Redis, ${tag}: deliveries/s`,
        '/s',
        two.map((f) => f.deliveriesPerSec),
      );
      ctx.record('cluster', `two nodes ÷ one node, ${tag}: deliveries/s`, '×', [
        median(two.map((f) => f.deliveriesPerSec)) / median(single.map((f) => f.deliveriesPerSec)),
      ]);
      ctx.record(
        'cluster',
        `one node, ${tag}: latency p99`,
        'ms',
        single.map((f) => f.p99),
      );
      ctx.record(
        'cluster',
        `two nodes + Redis, ${tag}: latency p99`,
        'ms',
        two.map((f) => f.p99),
      );
      ctx.record('cluster', `p99 added by the hop, ${tag}`, 'ms', [
        median(two.map((f) => f.p99)) - median(single.map((f) => f.p99)),
      ]);
      ctx.record('cluster', `two nodes + Redis, ${tag}: lost + duplicated + out of order`, 'msgs', two.map(bad));
      ctx.record(
        'cluster',
        `Redis CPU per 100k deliveries, ${tag}`,
        'ms',
        redisCpu,
        'from the first connect to the last delivery',
      );
      ctx.record(
        'cluster',
        `Redis commands per message sent, ${tag}`,
        'cmds',
        perMessage,
        `all commands of both nodes from the first login to the last delivery, over the messages sent; per command: ${breakdown.join(' | ')}`,
      );
    }
  } finally {
    await closeRedis(link);
    await redis.stop();
  }
}

/** ngircd at the same load: one server, then two linked server to server with the clients split over them. */
async function ngircdRuns(
  ctx: ClusterContext,
  o: { room: number; rate: number; duration: string; runs: number },
): Promise<{ one: FanoutFigures[]; linked: FanoutFigures[] } | null> {
  if (!ctx.ngircd) {
    ctx.log('cluster: ngircd not installed (apt-get install ngircd): its side skipped');
    return null;
  }
  const one: FanoutFigures[] = [];
  const linked: FanoutFigures[] = [];
  for (let i = 0; i < o.runs; i++) {
    const single = await ctx.oneNgircd();
    if (!single) return null;
    try {
      one.push(await ctx.fanout([single.port], [single.pid], { ...o, prefix: `n${o.rate}x${i}x`, irc: true }));
    } finally {
      await single.stop();
    }
    const pair = await linkedNgircd(ctx.ngircd, ctx.work);
    try {
      linked.push(await ctx.fanout(pair.ports, pair.pids, { ...o, prefix: `l${o.rate}x${i}x`, irc: true }));
    } finally {
      await pair.stop();
    }
  }
  return { one, linked };
}

function recordNgircd(ctx: ClusterContext, tag: string, r: { one: FanoutFigures[]; linked: FanoutFigures[] }): void {
  const rate = (fs: FanoutFigures[]) => fs.map((f) => f.deliveriesPerSec);
  ctx.record('cluster', `one ngircd, ${tag}: deliveries/s`, '/s', rate(r.one));
  ctx.record('cluster', `two ngircd linked, ${tag}: deliveries/s`, '/s', rate(r.linked));
  ctx.record('cluster', `two ngircd linked ÷ one, ${tag}: deliveries/s`, '×', [
    median(rate(r.linked)) / median(rate(r.one)),
  ]);
  ctx.record(
    'cluster',
    `one ngircd, ${tag}: latency p99`,
    'ms',
    r.one.map((f) => f.p99),
  );
  ctx.record(
    'cluster',
    `two ngircd linked, ${tag}: latency p99`,
    'ms',
    r.linked.map((f) => f.p99),
  );
  ctx.record('cluster', `p99 added by ngircd's link, ${tag}`, 'ms', [
    median(r.linked.map((f) => f.p99)) - median(r.one.map((f) => f.p99)),
  ]);
  ctx.record(
    'cluster',
    `two ngircd linked, ${tag}: lost + duplicated + out of order`,
    'msgs',
    r.linked.map((f) => f.lost + f.duplicates + f.outOfOrder),
  );
}
