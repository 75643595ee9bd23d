/**
 * The TCP sockets a process holds, by the address at the other end: its
 * descriptors (/proc/PID/fd, socket:[inode]) matched with the kernel's table
 * of IPv4 TCP sockets (/proc/net/tcp); and the datagrams the kernel dropped at
 * a process's UDP sockets (/proc/net/udp's drops). A socket appears from the server's
 * accept() on, so this says what the server has taken, not what the kernel
 * queued for it. Linux only; IPv4 only (the tests and benchmarks use 127/8).
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** /proc/net/tcp's "0100157F" (little-endian hex) as "127.21.0.1". */
function ipv4(hex: string): string {
  return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
}

/** The socket inodes among a process's descriptors. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed while we looked
    }
  }
  return inodes;
}

/** The remote addresses of the TCP connections process `pid` holds (one entry per socket). */
export function peersOf(pid: number): string[] {
  const inodes = socketInodes(pid);
  // By inode: the kernel's table is read in pieces while it changes, so a socket may be listed twice.
  const peers = new Map<string, string>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode; st 0A is a listening socket.
    if (f.length < 10 || f[3] === '0A' || !inodes.has(f[9]!)) continue;
    peers.set(f[9]!, ipv4(f[2]!.split(':')[0]!));
  }
  return [...peers.values()];
}

/** How many TCP connections process `pid` holds from peers that `match` takes. */
export function socketsFrom(pid: number, match: (address: string) => boolean): number {
  return peersOf(pid).filter(match).length;
}

/**
 * Datagrams the kernel dropped at the UDP sockets processes `pids` hold now (their receive buffers were full):
 * losses a test through loopback did not make, which the transfer then had to repair.
 */
export function udpDropsOf(pids: number[]): number {
  const inodes = new Set(pids.flatMap((pid) => [...socketInodes(pid)]));
  let drops = 0;
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 13 && inodes.has(f[9]!)) drops += Number(f[12]);
    }
  }
  return drops;
}
