/** A process's resident memory and CPU time, from Linux's /proc (NaN once it is gone). */
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
