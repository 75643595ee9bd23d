/**
 * The shared session table: one SharedArrayBuffer mapped by the supervisor and
 * every worker. Fixed-size slots, one per session. Multi-word changes (claim,
 * rename, release) happen under the robust SharedMutex in the header; single
 * words are read and written with Atomics.load/store, without the lock.
 *
 * Layout (byte offsets, little-endian as the host; see docs/ARCHITECTURE.md):
 *   0      header: lock word, magic, capacity, active count, session id counter
 *   64     slots, SLOT_BYTES each (fields in slot-layout.ts)
 * Per-worker statistics live in a buffer of their own (worker-stats.ts).
 */
import { SharedMutex } from '../../common/shared-mutex.js';
import * as L from './slot-layout.js';
import { SlotState, TRANSPORTS, type ClaimResult, type NickConflict, type NickLookup, type RenameResult, type SessionInfo, type SlotCounters, type SlotRef, type Transport } from './slot-layout.js';
import { NICK_KEY_BYTES, foldKey, nickKeys, type NickKeys } from './nick-keys.js';
import { NICK_MAX_CHARS } from '../../common/unicode/nick-rule.js';

export { SLOT_BYTES, SlotState, TRANSPORTS } from './slot-layout.js';
export type { ClaimResult, NickConflict, NickLookup, RenameResult, SessionInfo, SlotCounters, SlotRef, Transport } from './slot-layout.js';
export const MAX_CAPACITY = 100_000;

const MAGIC = 0x43485431; // "CHT1"
const HEADER_BYTES = 64;
const H_LOCK = 0;
const H_MAGIC = 1;
const H_CAPACITY = 2;
const H_ACTIVE = 3;
const H_SESSION_SEQ = 4;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** Anything no nick could be (too long, spaces, controls) is nobody, without hashing or taking the lock. */
function couldBeNick(s: string): boolean {
  return s.length > 0 && s.length <= NICK_MAX_CHARS * 2 && !/[\s\p{Cc}]/u.test(s);
}

export class SessionTable {
  readonly i32: Int32Array;
  readonly i64: BigInt64Array;
  readonly u8: Uint8Array;
  readonly capacity: number;
  readonly mutex: SharedMutex;
  private readonly slotsOffset: number;
  /** Where the next free-slot search starts; a hint only, so not shared. */
  private freeHint = 0;

  static byteLength(capacity: number): number {
    return HEADER_BYTES + capacity * L.SLOT_BYTES;
  }

  static create(capacity: number): SessionTable {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
      throw new RangeError(`session table capacity must be 1-${MAX_CAPACITY}`);
    }
    const sab = new SharedArrayBuffer(SessionTable.byteLength(capacity));
    const i32 = new Int32Array(sab);
    i32[H_MAGIC] = MAGIC;
    i32[H_CAPACITY] = capacity;
    return new SessionTable(sab);
  }

  constructor(readonly buffer: SharedArrayBuffer) {
    this.i32 = new Int32Array(buffer);
    this.i64 = new BigInt64Array(buffer);
    this.u8 = new Uint8Array(buffer);
    if (this.i32[H_MAGIC] !== MAGIC) throw new Error('not a session table buffer');
    this.capacity = this.i32[H_CAPACITY]!;
    this.slotsOffset = HEADER_BYTES;
    this.mutex = new SharedMutex(this.i32, H_LOCK);
  }

  get lockWordIndex(): number {
    return H_LOCK;
  }

  activeCount(): number {
    return Atomics.load(this.i32, H_ACTIVE);
  }

  // ---- slot addressing -------------------------------------------------

  private w32(slot: number, field: number): number {
    return (this.slotsOffset + slot * L.SLOT_BYTES) / 4 + field;
  }
  private w64(slot: number, field: number): number {
    return (this.slotsOffset + slot * L.SLOT_BYTES) / 8 + field;
  }
  private byteAt(slot: number, offset: number): number {
    return this.slotsOffset + slot * L.SLOT_BYTES + offset;
  }

  state(slot: number): number {
    return Atomics.load(this.i32, this.w32(slot, L.S_STATE));
  }
  generation(slot: number): number {
    return Atomics.load(this.i32, this.w32(slot, L.S_GENERATION));
  }
  owner(slot: number): number {
    return Atomics.load(this.i32, this.w32(slot, L.S_OWNER));
  }
  /** True while the slot still holds the session that ref was issued for. */
  isCurrent(ref: SlotRef): boolean {
    return this.state(ref.slot) === SlotState.ACTIVE && this.generation(ref.slot) === ref.generation;
  }

  nick(slot: number): string {
    const len = Atomics.load(this.i32, this.w32(slot, L.S_NICK_LEN));
    const at = this.byteAt(slot, L.S_NICK_OFFSET);
    return utf8Decoder.decode(this.u8.slice(at, at + Math.min(len, L.S_NICK_BYTES)));
  }

  private keyEquals(slot: number, offset: number, key: Uint8Array): boolean {
    const at = this.byteAt(slot, offset);
    for (let i = 0; i < NICK_KEY_BYTES; i++) if (this.u8[at + i] !== key[i]) return false;
    return true;
  }

  private writeNick(slot: number, nick: string, keys: NickKeys): void {
    const bytes = utf8.encode(nick);
    if (bytes.length > L.S_NICK_BYTES) throw new RangeError('nick longer than a slot holds');
    this.u8.set(bytes, this.byteAt(slot, L.S_NICK_OFFSET));
    this.u8.set(keys.fold, this.byteAt(slot, L.S_FOLD_KEY_OFFSET));
    this.u8.set(keys.look, this.byteAt(slot, L.S_LOOK_KEY_OFFSET));
    Atomics.store(this.i32, this.w32(slot, L.S_NICK_LEN), bytes.length);
  }

  // ---- multi-word changes: call the *Locked forms with the mutex held ---

  /** Slot of the active session with this fold key (the same nick in any case), or -1. */
  findNickLocked(fold: Uint8Array): number {
    for (let s = 0; s < this.capacity; s++) {
      if (this.state(s) === SlotState.ACTIVE && this.keyEquals(s, L.S_FOLD_KEY_OFFSET, fold)) return s;
    }
    return -1;
  }

  /** The session other than `self` whose nick is this one or looks like it, or null. */
  conflictLocked(keys: NickKeys, self = -1): NickConflict | null {
    for (let s = 0; s < this.capacity; s++) {
      if (s === self || this.state(s) !== SlotState.ACTIVE) continue;
      const same = this.keyEquals(s, L.S_FOLD_KEY_OFFSET, keys.fold);
      if (same || this.keyEquals(s, L.S_LOOK_KEY_OFFSET, keys.look)) return { reason: 'NICK_TAKEN', holder: this.nick(s), same };
    }
    return null;
  }

  claimLocked(nick: string, keys: NickKeys, owner: number, transport: Transport, address: string, port: number, now: number): ClaimResult {
    const conflict = this.conflictLocked(keys);
    if (conflict) return { ok: false, ...conflict };
    let slot = -1;
    for (let i = 0; i < this.capacity; i++) {
      const s = (this.freeHint + i) % this.capacity;
      if (this.state(s) === SlotState.FREE) {
        slot = s;
        break;
      }
    }
    if (slot < 0) return { ok: false, reason: 'SERVER_FULL' };
    this.freeHint = (slot + 1) % this.capacity;
    const generation = (this.generation(slot) + 1) | 0;
    const sessionId = Atomics.add(this.i32, H_SESSION_SEQ, 1) + 1;
    // Owner first, state last: a worker dying half-way leaves a FREE slot, or an ACTIVE one that names it.
    Atomics.store(this.i32, this.w32(slot, L.S_OWNER), owner);
    Atomics.store(this.i32, this.w32(slot, L.S_GENERATION), generation);
    Atomics.store(this.i32, this.w32(slot, L.S_SESSION_ID), sessionId);
    this.writeNick(slot, nick, keys);
    const addr = utf8.encode(address).subarray(0, L.S_ADDR_BYTES);
    this.u8.fill(0, this.byteAt(slot, L.S_ADDR_OFFSET), this.byteAt(slot, L.S_ADDR_OFFSET) + L.S_ADDR_BYTES);
    this.u8.set(addr, this.byteAt(slot, L.S_ADDR_OFFSET));
    Atomics.store(this.i32, this.w32(slot, L.S_ADDR_LEN), addr.length);
    Atomics.store(this.i32, this.w32(slot, L.S_PORT), port);
    Atomics.store(this.i32, this.w32(slot, L.S_TRANSPORT), TRANSPORTS.indexOf(transport));
    Atomics.store(this.i32, this.w32(slot, L.S_RTT_US), -1);
    Atomics.store(this.i64, this.w64(slot, L.S64_CONNECTED_AT), BigInt(Math.round(now)));
    Atomics.store(this.i64, this.w64(slot, L.S64_LAST_SEEN), BigInt(Math.round(now)));
    Atomics.store(this.i64, this.w64(slot, L.S64_LAST_ACTIVE), BigInt(Math.round(now)));
    for (const f of [L.S64_MSGS_IN, L.S64_BYTES_IN, L.S64_MSGS_OUT, L.S64_BYTES_OUT]) Atomics.store(this.i64, this.w64(slot, f), 0n);
    Atomics.store(this.i32, this.w32(slot, L.S_STATE), SlotState.ACTIVE);
    Atomics.add(this.i32, H_ACTIVE, 1);
    return { ok: true, slot, generation, sessionId };
  }

  renameLocked(ref: SlotRef, nick: string, keys: NickKeys): RenameResult {
    if (!this.isCurrent(ref)) return 'GONE';
    const conflict = this.conflictLocked(keys, ref.slot);
    if (conflict) return conflict;
    this.writeNick(ref.slot, nick, keys);
    return 'ok';
  }

  releaseLocked(ref: SlotRef): boolean {
    if (!this.isCurrent(ref)) return false;
    Atomics.store(this.i32, this.w32(ref.slot, L.S_STATE), SlotState.FREE);
    Atomics.sub(this.i32, H_ACTIVE, 1);
    return true;
  }

  /** Frees every slot owned by worker; returns who they were (for "left" notices). */
  releaseOwnedByLocked(owner: number): Array<SlotRef & { nick: string }> {
    const freed: Array<SlotRef & { nick: string }> = [];
    for (let s = 0; s < this.capacity; s++) {
      if (this.state(s) === SlotState.ACTIVE && this.owner(s) === owner) {
        const ref = { slot: s, generation: this.generation(s) };
        freed.push({ ...ref, nick: this.nick(s) });
        this.releaseLocked(ref);
      }
    }
    return freed;
  }

  // ---- blocking wrappers for worker threads ----------------------------

  // Keys are computed before the lock is taken: hashing is the slow part.
  claim(nick: string, owner: number, transport: Transport, address: string, port: number, now: number): ClaimResult {
    const keys = nickKeys(nick);
    return this.mutex.withLock(() => this.claimLocked(nick, keys, owner, transport, address, port, now));
  }
  rename(ref: SlotRef, nick: string): RenameResult {
    const keys = nickKeys(nick);
    return this.mutex.withLock(() => this.renameLocked(ref, nick, keys));
  }
  release(ref: SlotRef): boolean {
    return this.mutex.withLock(() => this.releaseLocked(ref));
  }
  /** Nick lookup under the lock, so a concurrent rename cannot tear the bytes compared. */
  lookup(nick: string): NickLookup | null {
    if (!couldBeNick(nick)) return null;
    const fold = foldKey(nick);
    return this.mutex.withLock(() => this.lookupLocked(fold));
  }
  /** lookup() for the supervisor's thread, whose event loop must not block on the lock. */
  async lookupAsync(nick: string): Promise<NickLookup | null> {
    if (!couldBeNick(nick)) return null;
    const fold = foldKey(nick);
    return this.mutex.withLockAsync(() => this.lookupLocked(fold));
  }
  private lookupLocked(fold: Uint8Array): NickLookup | null {
    const s = this.findNickLocked(fold);
    return s < 0 ? null : { slot: s, generation: this.generation(s), owner: this.owner(s), nick: this.nick(s) };
  }

  // ---- single-word updates (no lock) -----------------------------------

  setLastSeen(slot: number, ms: number): void {
    Atomics.store(this.i64, this.w64(slot, L.S64_LAST_SEEN), BigInt(Math.round(ms)));
  }
  setLastActive(slot: number, ms: number): void {
    Atomics.store(this.i64, this.w64(slot, L.S64_LAST_ACTIVE), BigInt(Math.round(ms)));
  }
  setRtt(slot: number, ms: number): void {
    Atomics.store(this.i32, this.w32(slot, L.S_RTT_US), Math.max(0, Math.round(ms * 1000)));
  }
  /** Replaces the slot's counters with the owner's running totals. */
  storeCounters(slot: number, c: SlotCounters): void {
    Atomics.store(this.i64, this.w64(slot, L.S64_MSGS_IN), BigInt(c.msgsIn));
    Atomics.store(this.i64, this.w64(slot, L.S64_BYTES_IN), BigInt(c.bytesIn));
    Atomics.store(this.i64, this.w64(slot, L.S64_MSGS_OUT), BigInt(c.msgsOut));
    Atomics.store(this.i64, this.w64(slot, L.S64_BYTES_OUT), BigInt(c.bytesOut));
  }

  /** Reads one slot. Without the lock the nick may be mid-rename; callers that care hold it. */
  info(slot: number): SessionInfo | null {
    if (this.state(slot) !== SlotState.ACTIVE) return null;
    const at = this.byteAt(slot, L.S_ADDR_OFFSET);
    const addrLen = Atomics.load(this.i32, this.w32(slot, L.S_ADDR_LEN));
    const rttUs = Atomics.load(this.i32, this.w32(slot, L.S_RTT_US));
    const n64 = (f: number) => Number(Atomics.load(this.i64, this.w64(slot, f)));
    return {
      slot,
      generation: this.generation(slot),
      sessionId: Atomics.load(this.i32, this.w32(slot, L.S_SESSION_ID)),
      nick: this.nick(slot),
      owner: this.owner(slot),
      transport: TRANSPORTS[Atomics.load(this.i32, this.w32(slot, L.S_TRANSPORT))] ?? 'tcp',
      address: utf8Decoder.decode(this.u8.slice(at, at + addrLen)),
      port: Atomics.load(this.i32, this.w32(slot, L.S_PORT)),
      connectedAt: n64(L.S64_CONNECTED_AT),
      lastSeen: n64(L.S64_LAST_SEEN),
      lastActive: n64(L.S64_LAST_ACTIVE),
      rttMs: rttUs < 0 ? null : rttUs / 1000,
      msgsIn: n64(L.S64_MSGS_IN),
      bytesIn: n64(L.S64_BYTES_IN),
      msgsOut: n64(L.S64_MSGS_OUT),
      bytesOut: n64(L.S64_BYTES_OUT),
    };
  }

  /** All active sessions, in slot order. */
  snapshot(): SessionInfo[] {
    const out: SessionInfo[] = [];
    for (let s = 0; s < this.capacity; s++) {
      const info = this.info(s);
      if (info) out.push(info);
    }
    return out;
  }
}
