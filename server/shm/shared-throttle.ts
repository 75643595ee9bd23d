/**
 * The records of server/auth-throttle.ts in shared memory, so that every
 * worker (each serves some of an address's connections: reusePort spreads
 * them) books an address's wrong tries in one place: five free tries per
 * address, not five per worker. Open addressing within MAX_PROBES places of
 * the address's hash; when those are all taken, the record idle longest among
 * them is forgotten (the bound on memory whoever guesses). Everything happens
 * under the table's own robust mutex.
 */
import { SharedMutex } from '../../common/shared-mutex.js';
import type { ThrottleRecord, ThrottleRecords } from '../auth-throttle.js';
import { canonicalAddress } from './address-table.js';
import { fnv1a } from './fnv1a.js';

const MAGIC = 0x54485231; // "THR1"
const H_LOCK = 0;
const H_MAGIC = 1;
const H_CAPACITY = 2;
const H_SIZE = 3;
const HEADER_WORDS = 4;
// Int32 words per entry: used flag, failures, address length, the address.
const E_USED = 0;
const E_FAILURES = 1;
const E_LEN = 2;
const E_ADDR = 3;
const ADDR_BYTES = 64;
const ENTRY_WORDS = E_ADDR + ADDR_BYTES / 4;
// Float64 per entry: locked until, last failure.
const F_LOCKED = 0;
const F_LAST = 1;
const MAX_PROBES = 32;

const encoder = new TextEncoder();

export class SharedThrottleRecords implements ThrottleRecords {
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly f64: Float64Array;
  private readonly capacity: number;
  readonly mutex: SharedMutex;

  static create(capacity = 4096): SharedThrottleRecords {
    const cap = 2 ** Math.ceil(Math.log2(Math.max(64, capacity)));
    const intBytes = (HEADER_WORDS + cap * ENTRY_WORDS) * 4;
    const sab = new SharedArrayBuffer(Math.ceil(intBytes / 8) * 8 + cap * 16);
    const i32 = new Int32Array(sab);
    i32[H_MAGIC] = MAGIC;
    i32[H_CAPACITY] = cap;
    return new SharedThrottleRecords(sab);
  }

  constructor(readonly buffer: SharedArrayBuffer) {
    this.i32 = new Int32Array(buffer);
    if (this.i32[H_MAGIC] !== MAGIC) throw new Error('not a throttle table buffer');
    this.capacity = this.i32[H_CAPACITY]!;
    this.u8 = new Uint8Array(buffer);
    const floatsAt = Math.ceil(((HEADER_WORDS + this.capacity * ENTRY_WORDS) * 4) / 8) * 8;
    this.f64 = new Float64Array(buffer, floatsAt, this.capacity * 2);
    this.mutex = new SharedMutex(this.i32, H_LOCK, undefined, 'the throttle table lock');
  }

  get lockWordIndex(): number {
    return H_LOCK;
  }

  get size(): number {
    return Atomics.load(this.i32, H_SIZE);
  }

  get(address: string): ThrottleRecord | undefined {
    const key = this.key(address);
    return this.mutex.withLock(() => {
      const slot = this.find(key);
      return slot < 0 ? undefined : this.read(slot);
    });
  }

  update(address: string, fn: (r: ThrottleRecord | undefined) => ThrottleRecord | undefined): void {
    const key = this.key(address);
    this.mutex.withLock(() => {
      const slot = this.find(key);
      const next = fn(slot < 0 ? undefined : this.read(slot));
      if (!next) {
        if (slot >= 0) this.free(slot);
        return;
      }
      this.write(slot >= 0 ? slot : this.place(key), key, next);
    });
  }

  private key(address: string): Uint8Array {
    return encoder.encode(canonicalAddress(address)).subarray(0, ADDR_BYTES);
  }
  private entry(slot: number): number {
    return HEADER_WORDS + slot * ENTRY_WORDS;
  }
  private matches(slot: number, key: Uint8Array): boolean {
    const e = this.entry(slot);
    if (this.i32[e + E_USED] !== 1 || this.i32[e + E_LEN] !== key.length) return false;
    const at = (e + E_ADDR) * 4;
    for (let i = 0; i < key.length; i++) if (this.u8[at + i] !== key[i]) return false;
    return true;
  }
  private find(key: Uint8Array): number {
    const start = fnv1a(key) & (this.capacity - 1);
    for (let p = 0; p < MAX_PROBES; p++) {
      const slot = (start + p) & (this.capacity - 1);
      if (this.matches(slot, key)) return slot;
    }
    return -1;
  }
  /** A free place near the hash, or else the one there that failed longest ago. */
  private place(key: Uint8Array): number {
    const start = fnv1a(key) & (this.capacity - 1);
    let oldest = start;
    for (let p = 0; p < MAX_PROBES; p++) {
      const slot = (start + p) & (this.capacity - 1);
      if (this.i32[this.entry(slot) + E_USED] !== 1) return slot;
      if (this.f64[slot * 2 + F_LAST]! < this.f64[oldest * 2 + F_LAST]!) oldest = slot;
    }
    this.free(oldest);
    return oldest;
  }
  private read(slot: number): ThrottleRecord {
    return {
      failures: this.i32[this.entry(slot) + E_FAILURES]!,
      lockedUntil: this.f64[slot * 2 + F_LOCKED]!,
      lastAt: this.f64[slot * 2 + F_LAST]!,
    };
  }
  private write(slot: number, key: Uint8Array, r: ThrottleRecord): void {
    const e = this.entry(slot);
    if (this.i32[e + E_USED] !== 1) {
      this.u8.set(key, (e + E_ADDR) * 4);
      this.i32[e + E_LEN] = key.length;
      this.i32[e + E_USED] = 1;
      Atomics.add(this.i32, H_SIZE, 1);
    }
    this.i32[e + E_FAILURES] = r.failures;
    this.f64[slot * 2 + F_LOCKED] = r.lockedUntil;
    this.f64[slot * 2 + F_LAST] = r.lastAt;
  }
  private free(slot: number): void {
    const e = this.entry(slot);
    if (this.i32[e + E_USED] !== 1) return;
    this.i32[e + E_USED] = 0;
    Atomics.sub(this.i32, H_SIZE, 1);
  }
}
