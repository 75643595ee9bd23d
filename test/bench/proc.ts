/** A process's and the machine's CPU figures from Linux's /proc. */
import { readFileSync } from 'node:fs';

export interface ProcStat {
  rssKb: number;
  userSec: number;
  sysSec: number;
  /** userSec + sysSec */
  cpuSec: number;
}

/** USER_HZ: /proc reports CPU time in these ticks; 100 on every Linux architecture Node runs on. */
const TICKS_PER_SEC = 100;

/** A process's resident memory and CPU time (NaN once it is gone). */
export function procStat(pid: number): ProcStat {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
    // The name (field 2) may hold spaces; utime and stime are fields 14 and 15, so 11 and 12 after it.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const userSec = Number(stat[11]) / TICKS_PER_SEC;
    const sysSec = Number(stat[12]) / TICKS_PER_SEC;
    return { rssKb, userSec, sysSec, cpuSec: userSec + sysSec };
  } catch {
    return { rssKb: NaN, userSec: NaN, sysSec: NaN, cpuSec: NaN };
  }
}

/** The machine's CPU time counters from /proc/stat (user … steal). */
export function cpuCounters(): number[] {
  return readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
}

/** Steal time (CPU the hypervisor gave to someone else) since `before`, in % of all CPU time. */
export function stealSince(before: number[]): number {
  const now = cpuCounters();
  const total = now.reduce((a, x, k) => a + x - before[k]!, 0);
  return total > 0 ? (100 * (now[7]! - before[7]!)) / total : NaN;
}
