/**
 * Bytes each user has uploaded since the server started, across every worker
 * (an upload may arrive over LFTP on any worker's socket or over HTTP): the
 * per-user quota (--max-upload-per-user). A user is a nick, by its case fold
 * (server/shm/nick-keys.ts); with registered nicks it will be an account.
 *
 * An upload reserves its announced size before a byte is written and gives
 * it back if it is not stored, so two concurrent uploads cannot both fit in
 * the room one has left (a dead worker's uploads in progress stay counted:
 * the supervisor only repairs the lock). Open addressing over fixed 32-byte entries, all under
 * one robust mutex; entries are never removed (what was stored stays
 * counted), so a full table refuses new users rather than forgetting old ones.
 */
import { SharedMutex } from '../../common/shared-mutex.js';
import { NICK_KEY_BYTES, foldKey } from './nick-keys.js';

const MAGIC = 0x55504c31; // "UPL1"
const H_LOCK = 0;
const H_MAGIC = 1;
const H_CAPACITY = 2;
const HEADER_BYTES = 64;
const ENTRY_BYTES = 32;
// Entry: state (i32), hash (i32), key (16 bytes), bytes (f64 at 24).
const E_STATE = 0;
const E_HASH = 1;
const E_KEY_BYTE = 8;
const E_BYTES_F64 = 3;
const USED = 1;
const MAX_PROBES = 256;

/** Users the ledger can remember (512 KiB of shared memory). */
export const LEDGER_CAPACITY = 16_384;

export type Reservation = { ok: true; release(): void } | { ok: false; used: number; full: boolean };

export class UploadLedger {
  readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly f64: Float64Array;
  private readonly capacity: number;
  private readonly mutex: SharedMutex;

  static create(capacity = LEDGER_CAPACITY): UploadLedger {
    const cap = 2 ** Math.ceil(Math.log2(Math.max(64, capacity)));
    const sab = new SharedArrayBuffer(HEADER_BYTES + cap * ENTRY_BYTES);
    const i32 = new Int32Array(sab);
    i32[H_MAGIC] = MAGIC;
    i32[H_CAPACITY] = cap;
    return new UploadLedger(sab);
  }

  constructor(readonly buffer: SharedArrayBuffer) {
    this.i32 = new Int32Array(buffer);
    this.u8 = new Uint8Array(buffer);
    this.f64 = new Float64Array(buffer);
    if (this.i32[H_MAGIC] !== MAGIC) throw new Error('not an upload ledger buffer');
    this.capacity = this.i32[H_CAPACITY]!;
    this.mutex = new SharedMutex(this.i32, H_LOCK, undefined, 'the upload ledger lock');
  }

  get lockWordIndex(): number {
    return H_LOCK;
  }

  /** What nick has uploaded (stored and in progress). */
  used(nick: string): number {
    const key = foldKey(nick);
    return this.mutex.withLock(() => {
      const e = this.find(key, false);
      return e < 0 ? 0 : this.f64[e / 8 + E_BYTES_F64]!;
    });
  }

  /** Counts size against nick's quota, unless it would pass it; release() gives it back (an upload not stored). */
  reserve(nick: string, size: number, quota: number): Reservation {
    const key = foldKey(nick);
    return this.mutex.withLock((): Reservation => {
      const e = this.find(key, true);
      if (e < 0) return { ok: false, used: 0, full: true };
      const at = e / 8 + E_BYTES_F64;
      const used = this.f64[at]!;
      if (used + size > quota) return { ok: false, used, full: false };
      this.f64[at] = used + size;
      let released = false;
      return {
        ok: true,
        release: () => {
          if (released) return;
          released = true;
          this.mutex.withLock(() => {
            this.f64[at] = Math.max(0, this.f64[at]! - size);
          });
        },
      };
    });
  }

  /**
   * Moves nick's count by delta, whatever the quota: a partial upload kept for resume stays counted after its
   * transfer is cut (delta > 0), one dropped is given back (delta < 0; never below 0).
   */
  adjust(nick: string, delta: number): void {
    const key = foldKey(nick);
    this.mutex.withLock(() => {
      const e = this.find(key, delta > 0);
      if (e >= 0) this.f64[e / 8 + E_BYTES_F64] = Math.max(0, this.f64[e / 8 + E_BYTES_F64]! + delta);
    });
  }

  /** The byte offset of key's entry; with create, a new one. -1: none (full around this hash). */
  private find(key: Uint8Array, create: boolean): number {
    const hash = key[0]! | (key[1]! << 8) | (key[2]! << 16) | (key[3]! << 24) | 0;
    for (let p = 0; p < Math.min(MAX_PROBES, this.capacity); p++) {
      const e = HEADER_BYTES + ((hash + p) & (this.capacity - 1)) * ENTRY_BYTES;
      const state = this.i32[e / 4 + E_STATE];
      if (state === USED) {
        if (this.i32[e / 4 + E_HASH] === hash && this.keyEquals(e, key)) return e;
        continue;
      }
      if (!create) return -1;
      this.i32[e / 4 + E_STATE] = USED;
      this.i32[e / 4 + E_HASH] = hash;
      this.u8.set(key, e + E_KEY_BYTE);
      this.f64[e / 8 + E_BYTES_F64] = 0;
      return e;
    }
    return -1;
  }

  private keyEquals(e: number, key: Uint8Array): boolean {
    for (let i = 0; i < NICK_KEY_BYTES; i++) if (this.u8[e + E_KEY_BYTE + i] !== key[i]) return false;
    return true;
  }
}
