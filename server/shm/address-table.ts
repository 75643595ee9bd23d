/**
 * Connections per remote address, across every worker: one SharedArrayBuffer
 * like the session table, so that the limits hold however the kernel spreads
 * one address's connections over the workers (reusePort hashes the source
 * port too). Three kinds are counted: chat connections that have not said
 * HELLO yet, chat sessions, and HTTP connections on the web port.
 *
 * Each entry keeps one count per kind per worker, so that when a worker dies
 * the supervisor can take back exactly what it held (releaseWorker), as it
 * frees the dead worker's session slots.
 *
 * Open addressing, at most MAX_PROBES places from an address's hash; an entry
 * whose counts fall to zero becomes a tombstone that the next address probing
 * there reuses. Everything happens under the table's own robust mutex.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { SharedMutex } from '../../common/shared-mutex.js';
import { fnv1a } from './fnv1a.js';

export const ADDRESS_KINDS = ['pending', 'session', 'http'] as const;
export type AddressKind = (typeof ADDRESS_KINDS)[number];

const MAGIC = 0x41445231; // "ADR1"
const H_LOCK = 0;
const H_MAGIC = 1;
const H_CAPACITY = 2;
const H_WORKERS = 3;
const HEADER_WORDS = 16;
// Entry words: state, hash, address length, then the address (ADDR_WORDS), then the counts.
const E_STATE = 0;
const E_HASH = 1;
const E_LEN = 2;
const E_ADDR = 3;
const ADDR_BYTES = 64;
const ADDR_WORDS = ADDR_BYTES / 4;
const E_COUNTS = E_ADDR + ADDR_WORDS;
const NEVER = 0;
const USED = 1;
const TOMBSTONE = 2;
const MAX_PROBES = 128;

const encoder = new TextEncoder();

/** IPv4 clients of a dual-stack socket appear as ::ffff:a.b.c.d; they are the same address. */
export function canonicalAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * The network an address is in, for the limits that one user with a few
 * addresses must not multiply (tickets, rooms made, registrations, history
 * by size): its /24 for IPv4 ("192.0.2.0/24"), its /64 for IPv6
 * ("2001:db8:0:1::/64"), as one provider hands them to one customer. Null
 * when it is not an address (a session brought back from the store has none
 * until it resumes).
 */
export function addressPrefix(address: string): string | null {
  const a = canonicalAddress(address).split('%')[0]!;
  if (isIPv4(a)) return `${a.slice(0, a.lastIndexOf('.'))}.0/24`;
  if (!isIPv6(a)) return null;
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const groups = (part: string | undefined) =>
    (part ? part.split(':') : []).flatMap((g) => {
      if (!g.includes('.')) return [parseInt(g, 16)];
      const [b0, b1, b2, b3] = g.split('.').map(Number) as [number, number, number, number];
      return [(b0 << 8) | b1, (b2 << 8) | b3];
    });
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  const all = [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
  return `${all
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

export class AddressTable {
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  readonly capacity: number;
  readonly workers: number;
  private readonly entryWords: number;
  readonly mutex: SharedMutex;

  static create(capacity: number, workers: number): AddressTable {
    const cap = 2 ** Math.ceil(Math.log2(Math.max(64, capacity)));
    const entryWords = E_COUNTS + ADDRESS_KINDS.length * workers;
    const sab = new SharedArrayBuffer((HEADER_WORDS + cap * entryWords) * 4);
    const i32 = new Int32Array(sab);
    i32[H_MAGIC] = MAGIC;
    i32[H_CAPACITY] = cap;
    i32[H_WORKERS] = workers;
    return new AddressTable(sab);
  }

  constructor(readonly buffer: SharedArrayBuffer) {
    this.i32 = new Int32Array(buffer);
    this.u8 = new Uint8Array(buffer);
    if (this.i32[H_MAGIC] !== MAGIC) throw new Error('not an address table buffer');
    this.capacity = this.i32[H_CAPACITY]!;
    this.workers = this.i32[H_WORKERS]!;
    this.entryWords = E_COUNTS + ADDRESS_KINDS.length * this.workers;
    this.mutex = new SharedMutex(this.i32, H_LOCK, undefined, 'the address table lock');
  }

  get lockWordIndex(): number {
    return H_LOCK;
  }

  /** Counts one more of `kind` for address on worker, unless the address already has `limit` of them (all workers together). */
  acquire(address: string, kind: AddressKind, worker: number, limit: number): boolean {
    const key = encoder.encode(canonicalAddress(address)).subarray(0, ADDR_BYTES);
    return this.mutex.withLock(() => {
      const e = this.find(key, true);
      if (e < 0) return false; // the table is full around this hash: refuse rather than count wrong
      if (this.total(e, kind) >= limit) {
        if (this.allZero(e)) this.i32[e + E_STATE] = TOMBSTONE;
        return false;
      }
      this.i32[this.countAt(e, kind, worker)]!++;
      return true;
    });
  }

  release(address: string, kind: AddressKind, worker: number): void {
    const key = encoder.encode(canonicalAddress(address)).subarray(0, ADDR_BYTES);
    this.mutex.withLock(() => {
      const e = this.find(key, false);
      if (e < 0) return;
      const at = this.countAt(e, kind, worker);
      if (this.i32[at]! > 0) this.i32[at]!--;
      if (this.allZero(e)) this.i32[e + E_STATE] = TOMBSTONE;
    });
  }

  /** What address has of kind, all workers together. */
  count(address: string, kind: AddressKind): number {
    const key = encoder.encode(canonicalAddress(address)).subarray(0, ADDR_BYTES);
    return this.mutex.withLock(() => {
      const e = this.find(key, false);
      return e < 0 ? 0 : this.total(e, kind);
    });
  }

  /** A worker died: everything it held goes (call with the lock free, after repairing it if the worker held it). */
  async releaseWorker(worker: number): Promise<void> {
    await this.mutex.withLockAsync(() => {
      for (let s = 0; s < this.capacity; s++) {
        const e = this.entry(s);
        if (this.i32[e + E_STATE] !== USED) continue;
        for (const kind of ADDRESS_KINDS) this.i32[this.countAt(e, kind, worker)] = 0;
        if (this.allZero(e)) this.i32[e + E_STATE] = TOMBSTONE;
      }
    });
  }

  private entry(slot: number): number {
    return HEADER_WORDS + slot * this.entryWords;
  }
  private countAt(e: number, kind: AddressKind, worker: number): number {
    return e + E_COUNTS + ADDRESS_KINDS.indexOf(kind) * this.workers + worker;
  }
  private total(e: number, kind: AddressKind): number {
    let n = 0;
    for (let w = 0; w < this.workers; w++) n += this.i32[this.countAt(e, kind, w)]!;
    return n;
  }
  private allZero(e: number): boolean {
    for (let i = e + E_COUNTS; i < e + this.entryWords; i++) if (this.i32[i] !== 0) return false;
    return true;
  }

  /** The entry holding key; with create, a new one where the probe first found room. -1: none. */
  private find(key: Uint8Array, create: boolean): number {
    const hash = fnv1a(key) | 0;
    let room = -1;
    for (let p = 0; p < Math.min(MAX_PROBES, this.capacity); p++) {
      const e = this.entry((hash + p) & (this.capacity - 1));
      const state = this.i32[e + E_STATE];
      if (state === USED && this.i32[e + E_HASH] === hash && this.keyEquals(e, key)) return e;
      if (state !== USED && room < 0) room = e;
      if (state === NEVER) break;
    }
    if (!create || room < 0) return -1;
    this.i32[room + E_STATE] = USED;
    this.i32[room + E_HASH] = hash;
    this.i32[room + E_LEN] = key.length;
    this.u8.set(key, (room + E_ADDR) * 4);
    this.i32.fill(0, room + E_COUNTS, room + this.entryWords);
    return room;
  }

  private keyEquals(e: number, key: Uint8Array): boolean {
    if (this.i32[e + E_LEN] !== key.length) return false;
    const at = (e + E_ADDR) * 4;
    for (let i = 0; i < key.length; i++) if (this.u8[at + i] !== key[i]) return false;
    return true;
  }
}
