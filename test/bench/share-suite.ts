/**
 * Issue 36: how the default congestion controller shares a bottleneck, and what LFTP costs in CPU per packet.
 *  - share: LFTP and a kernel TCP stream started together on one 40 Mbit/s link with a 16-packet drop-tail
 *    queue (test/relay/shared-link.ts: the kernel's token bucket in a private network namespace), each flow's
 *    goodput over seconds 4-16; TCP as Reno (loss-based, what a loss-responsive LFTP must leave room for) and
 *    as the kernel's BBR (v1, which ignores loss); then two LFTP gets on the same link (Jain's index).
 *  - cpu: a protected get over loopback on each datagram path, with and without packed datagrams
 *    (LFTP_DPLPMTUD=0): the client's and the server's CPU time (user + system) per 1432-byte data packet.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { Daemon } from './sh.js';
import { procStat } from './proc.js';

export interface ShareContext {
  root: string;
  repeat: number;
  quick: boolean;
  record(suite: string, name: string, unit: string, values: number[], note?: string): unknown;
  log(line: string): void;
  skip(what: string, why: string): void;
  /** An LFTP server (--token) with this environment; its port. */
  lftpServer(extra: string[], access: string[], env: NodeJS.ProcessEnv): Promise<{ d: Daemon; port: number }>;
  /** A protected get of `name` by chat-client lftp: its exit, and the client's CPU seconds (user + system). */
  timedGet(port: number, env: NodeJS.ProcessEnv): Promise<{ cpuSec: number; mbps: number }>;
  fileBytes: number;
  nativeAvailable: boolean;
}

interface LinkResult {
  unavailable?: string;
  shares: number[];
  jain: number;
  flows: Array<{ kind: string; mbps: number }>;
}

function sharedLink(root: string, args: string[]): Promise<LinkResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(root, 'dist/test/relay/shared-link.js'), ...args],
      { timeout: 120_000 },
      (err: Error | null, stdout: string) => {
        const last = stdout.trim().split('\n').pop() ?? '';
        if (err && (err as { code?: number }).code !== 3) return reject(err);
        try {
          resolve(JSON.parse(last) as LinkResult);
        } catch {
          reject(new Error(`shared-link: ${last || (err?.message ?? 'no output')}`));
        }
      },
    );
  });
}

const LINK = ['--rate', '40mbit', '--queue', '16', '--seconds', '16', '--from', '4'];

export async function shareSuite(c: ShareContext): Promise<void> {
  c.log(
    `share: LFTP and kernel TCP on one 40 Mbit/s link, 16-packet queue, goodput over seconds 4-16; ${c.repeat} run(s)`,
  );
  for (const [label, args] of [
    ['LFTP and TCP Reno', ['--flows', 'lftp,tcp', '--tcp-cc', 'reno']],
    ['LFTP and TCP BBR (the kernel BBR, v1)', ['--flows', 'lftp,tcp', '--tcp-cc', 'bbr']],
    ['two LFTP gets', ['--flows', 'lftp,lftp']],
  ] as const) {
    const lftpShare: number[] = [];
    const jains: number[] = [];
    const notes: string[] = [];
    for (let i = 0; i < c.repeat; i++) {
      const r = await sharedLink(c.root, [...LINK, ...args]);
      if (r.unavailable) {
        c.skip(`share: ${label}`, r.unavailable);
        return;
      }
      lftpShare.push(100 * r.shares[0]!);
      jains.push(r.jain);
      notes.push(r.flows.map((f) => `${f.kind} ${f.mbps.toFixed(1)}`).join(' / '));
      c.log(`    ${label}: ${notes.at(-1)} Mbit/s`);
    }
    c.record('share', `${label}: the first LFTP flow's share`, '%', lftpShare, `Mbit/s: ${notes.join(' | ')}`);
    c.record('share', `${label}: Jain's fairness index`, '', jains);
  }
}

export async function cpuSuite(c: ShareContext): Promise<void> {
  const packets = Math.ceil(c.fileBytes / 1432);
  c.log(`cpu: a protected ${c.fileBytes / 2 ** 20} MiB get over loopback, CPU per 1432-byte data packet, each side`);
  const paths: Array<[string, NodeJS.ProcessEnv]> = [
    ...(c.nativeAvailable ? [['native batch', {}] as [string, NodeJS.ProcessEnv]] : []),
    ['fallback dgram', { LFTP_NATIVE: '0' }],
  ];
  for (const [path, env] of paths) {
    for (const [packing, extra] of [
      ['packed datagrams (DPLPMTUD)', {}],
      ['one packet a datagram (LFTP_DPLPMTUD=0)', { LFTP_DPLPMTUD: '0' }],
    ] as const) {
      const both = { ...env, ...extra };
      const server = await c.lftpServer([], ['--token', 'bench token'], both);
      const clientUs: number[] = [];
      const serverUs: number[] = [];
      const speed: number[] = [];
      try {
        for (let i = 0; i < c.repeat; i++) {
          const before = procStat(server.d.proc.pid!).cpuSec;
          const r = await c.timedGet(server.port, both);
          const spent = procStat(server.d.proc.pid!).cpuSec - before;
          clientUs.push((r.cpuSec / packets) * 1e6);
          serverUs.push((spent / packets) * 1e6);
          speed.push(r.mbps);
        }
      } finally {
        await server.d.stop();
      }
      const at = `${path}, ${packing}`;
      c.record('cpu', `client (receiver) CPU per data packet, ${at}`, 'µs', clientUs);
      c.record('cpu', `server (sender) CPU per data packet, ${at}`, 'µs', serverUs);
      c.record('cpu', `goodput of those gets, ${at}`, 'MiB/s', speed);
    }
  }
}
