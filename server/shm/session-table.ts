/**
 * The shared session table: one SharedArrayBuffer mapped by the supervisor,
 * every worker and the store thread. Fixed-size slots, one per session.
 * Multi-word changes (claim, rename, away, resume, release) happen under the
 * robust SharedMutex in the header (claim, rename and release: slot-claims.ts);
 * single words are read and written with Atomics.load/store, without the lock
 * (session-slots.ts).
 *
 * A slot is FREE, ACTIVE (a connection has it) or AWAY (its connection was
 * lost and the session waits --resume-window for it to come back: the nick
 * stays taken, direct messages to it are stored). Only the store thread
 * frees an AWAY slot at the window's end; any worker may take one over with
 * the session's resume token, or with its registered nick's password
 * (claimAsOwner), which gives the slot a new generation; /identify with the
 * password ends it (renameLocked asOwner).
 *
 * Layout (byte offsets, little-endian as the host; see docs/ARCHITECTURE.md):
 *   0      header: lock word, magic, capacity, held count, session id counter
 *   64     slots, SLOT_BYTES each (fields in slot-layout.ts)
 * Per-worker statistics live in a buffer of their own (worker-stats.ts).
 */
import { SharedMutex } from '../../common/shared-mutex.js';
import * as L from './slot-layout.js';
import {
  SlotState,
  type ClaimResult,
  type NickLookup,
  type RenameResult,
  type ResumeResult,
  type SlotRef,
} from './slot-layout.js';
import { foldKey, nickKeys, type NickKeys } from './nick-keys.js';
import { NICK_MAX_CHARS } from '../../common/unicode/nick-rule.js';
import { HEADER_BYTES } from './session-slots.js';
import { SlotClaims, type NewSession } from './slot-claims.js';

export { SLOT_BYTES, SlotState, TRANSPORTS } from './slot-layout.js';
export type {
  ClaimResult,
  HeldSession,
  NickConflict,
  NickLookup,
  RenameResult,
  ResumeResult,
  SessionInfo,
  SlotCounters,
  SlotRef,
  Transport,
} from './slot-layout.js';
export const MAX_CAPACITY = 100_000;

const MAGIC = 0x43485432; // "CHT2": slots with resume tokens
const H_LOCK = 0;
const H_MAGIC = 1;
const H_CAPACITY = 2;

/** Anything no nick could be (too long, spaces, controls) is nobody, without hashing or taking the lock. */
function couldBeNick(s: string): boolean {
  return s.length > 0 && s.length <= NICK_MAX_CHARS * 2 && !/[\s\p{Cc}]/u.test(s);
}

/** A held slot's session as it was when a worker died: away if it can be resumed, else freed. */
export type OrphanedSession = SlotRef & { nick: string; away: boolean };

export class SessionTable extends SlotClaims {
  readonly mutex: SharedMutex;

  static byteLength(capacity: number): number {
    return HEADER_BYTES + capacity * L.SLOT_BYTES;
  }

  /**
   * `firstGeneration`: where every slot's generations start. A cluster's node starts each run somewhere else, so
   * that a session key of its previous run (node/slot:generation) still in flight on the bus or held by another
   * node names no session of this run.
   */
  static create(capacity: number, firstGeneration = 0): SessionTable {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
      throw new RangeError(`session table capacity must be 1-${MAX_CAPACITY}`);
    }
    const sab = new SharedArrayBuffer(SessionTable.byteLength(capacity));
    const i32 = new Int32Array(sab);
    i32[H_MAGIC] = MAGIC;
    i32[H_CAPACITY] = capacity;
    const table = new SessionTable(sab);
    for (let s = 0; s < capacity; s++) table.seedGeneration(s, firstGeneration);
    return table;
  }

  constructor(buffer: SharedArrayBuffer) {
    const i32 = new Int32Array(buffer);
    if (i32[H_MAGIC] !== MAGIC) throw new Error('not a session table buffer');
    super(buffer, i32[H_CAPACITY]!);
    this.mutex = new SharedMutex(this.i32, H_LOCK);
  }

  get lockWordIndex(): number {
    return H_LOCK;
  }

  // ---- multi-word changes: call the *Locked forms with the mutex held ---

  /**
   * The connection is lost but the session may come back: AWAY, no owner,
   * same generation. False if it cannot be resumed (no token), is not this
   * session any more, or its address already has `maxPerAddress` sessions
   * away (one user dropping sessions must not fill the table with them).
   */
  awayLocked(ref: SlotRef, maxPerAddress = Infinity, now = Date.now()): boolean {
    if (!this.isCurrent(ref) || !this.hasToken(ref.slot)) return false;
    if (Number.isFinite(maxPerAddress) && this.awayFromLocked(ref.slot) >= maxPerAddress) return false;
    Atomics.store(this.i64, this.w64(ref.slot, L.S64_AWAY_SINCE), BigInt(Math.round(now)));
    Atomics.store(this.i32, this.w32(ref.slot, L.S_OWNER), -1);
    Atomics.store(this.i32, this.w32(ref.slot, L.S_STATE), SlotState.AWAY);
    return true;
  }

  /** The resume window ended (the store thread): an AWAY slot that is still this session is freed. */
  releaseAwayLocked(ref: SlotRef): boolean {
    if (this.state(ref.slot) !== SlotState.AWAY || this.generation(ref.slot) !== ref.generation) return false;
    this.freeLocked(ref.slot);
    return true;
  }

  /**
   * A connection came back with a resume token: the session whose token it is
   * (away, or still connected if the old connection has not noticed it is
   * dead) moves to the new connection with a new generation, and the token
   * is replaced by `next`. The old one is kept to tell "used" from "unknown".
   */
  resumeLocked(token: Uint8Array, next: Uint8Array, to: Omit<NewSession, 'nick' | 'token' | 'away'>): ResumeResult {
    for (let s = 0; s < this.capacity; s++) {
      if (!this.held(s)) continue;
      if (this.tokenEquals(s, L.S_PREV_TOKEN_OFFSET, token)) return { ok: false, reason: 'USED' };
      if (!this.tokenEquals(s, L.S_TOKEN_OFFSET, token)) continue;
      const previous = { slot: s, generation: this.generation(s), owner: this.owner(s) };
      const generation = (previous.generation + 1) | 0;
      this.rotateTokenLocked(s, next);
      this.connectLocked(s, generation, to, SlotState.ACTIVE);
      return {
        ok: true,
        slot: s,
        generation,
        previous,
        sessionId: Atomics.load(this.i32, this.w32(s, L.S_SESSION_ID)),
        nick: this.nick(s),
      };
    }
    return { ok: false, reason: 'UNKNOWN' };
  }

  /**
   * HELLO for a registered nick with its password (docs/PROTOCOL.md, "Registered nicks"): the session that holds
   * this very nick, away or still connected, is its owner's. 'take-over' (version 2): it moves to this connection
   * as a resume does (the same slot, id and nick, a new generation; `n.token` replaces its token, which is spent).
   * 'replace' (version 1, which cannot carry its rooms): it ends (its slot freed) and a new one is claimed. A nick
   * held by nobody is claimed; one that only looks like another's is refused, as claim does.
   */
  claimAsOwnerLocked(n: NewSession, keys: NickKeys, how: 'take-over' | 'replace'): ClaimResult {
    const held = this.ownNickLocked(keys);
    if (held < 0) return this.claimLocked(n, keys);
    const was = this.heldLocked(held);
    if (how === 'replace') {
      this.freeLocked(held);
      const r = this.claimLocked(n, keys);
      return r.ok ? { ...r, replaced: was } : r;
    }
    const generation = (was.generation + 1) | 0;
    this.rotateTokenLocked(held, n.token);
    this.connectLocked(held, generation, n, SlotState.ACTIVE);
    return {
      ok: true,
      slot: held,
      generation,
      sessionId: Atomics.load(this.i32, this.w32(held, L.S_SESSION_ID)),
      taken: was,
    };
  }

  /** The slot's token is spent (kept, to tell "used" from "unknown") and `next` is its token from now on. */
  private rotateTokenLocked(slot: number, next: Uint8Array | null): void {
    const at = this.byteAt(slot, L.S_TOKEN_OFFSET);
    this.writeBytes(slot, L.S_PREV_TOKEN_OFFSET, this.u8.slice(at, at + L.S_TOKEN_BYTES), L.S_TOKEN_BYTES);
    this.writeBytes(slot, L.S_TOKEN_OFFSET, next, L.S_TOKEN_BYTES);
  }

  /** The held slot whose current token this is (the store thread, restoring), or -1. */
  findTokenLocked(token: Uint8Array): number {
    for (let s = 0; s < this.capacity; s++) if (this.held(s) && this.tokenEquals(s, L.S_TOKEN_OFFSET, token)) return s;
    return -1;
  }

  /** Sessions away whose address is this slot's. */
  private awayFromLocked(slot: number): number {
    const len = Atomics.load(this.i32, this.w32(slot, L.S_ADDR_LEN));
    const addr = this.u8.subarray(this.byteAt(slot, L.S_ADDR_OFFSET), this.byteAt(slot, L.S_ADDR_OFFSET) + len);
    let n = 0;
    for (let s = 0; s < this.capacity; s++) {
      if (
        s !== slot &&
        this.state(s) === SlotState.AWAY &&
        Atomics.load(this.i32, this.w32(s, L.S_ADDR_LEN)) === len &&
        this.keyEqualsN(s, L.S_ADDR_OFFSET, addr, len)
      )
        n++;
    }
    return n;
  }

  /** The session's resume token hash (a copy), or null when it has none or is not this session any more. */
  tokenOf(ref: SlotRef): Uint8Array | null {
    return this.mutex.withLock(() => {
      if (!this.isCurrent(ref) || !this.hasToken(ref.slot)) return null;
      const at = this.byteAt(ref.slot, L.S_TOKEN_OFFSET);
      return this.u8.slice(at, at + L.S_TOKEN_BYTES);
    });
  }

  private hasToken(slot: number): boolean {
    const at = this.byteAt(slot, L.S_TOKEN_OFFSET);
    for (let i = 0; i < L.S_TOKEN_BYTES; i++) if (this.u8[at + i] !== 0) return true;
    return false;
  }

  /** A worker died: its sessions that can be resumed go AWAY, the others are freed; who they were (for notices). */
  orphanOwnedByLocked(owner: number): OrphanedSession[] {
    const out: OrphanedSession[] = [];
    for (let s = 0; s < this.capacity; s++) {
      if (this.state(s) !== SlotState.ACTIVE || this.owner(s) !== owner) continue;
      const ref = { slot: s, generation: this.generation(s) };
      const away = this.awayLocked(ref);
      if (!away) this.releaseLocked(ref);
      out.push({ ...ref, nick: this.nick(s), away });
    }
    return out;
  }

  // ---- blocking wrappers for worker threads ----------------------------

  // Keys are computed before the lock is taken: hashing is the slow part.
  claim(s: NewSession): ClaimResult {
    const keys = nickKeys(s.nick);
    return this.mutex.withLock(() => this.claimLocked(s, keys));
  }
  claimAsOwner(s: NewSession, how: 'take-over' | 'replace'): ClaimResult {
    const keys = nickKeys(s.nick);
    return this.mutex.withLock(() => this.claimAsOwnerLocked(s, keys, how));
  }
  /** asOwner: the session gave the nick's password; whoever holds this very nick is ended (renameLocked). */
  rename(ref: SlotRef, nick: string, asOwner = false): RenameResult {
    const keys = nickKeys(nick);
    return this.mutex.withLock(() => this.renameLocked(ref, nick, keys, asOwner));
  }
  release(ref: SlotRef): boolean {
    return this.mutex.withLock(() => this.releaseLocked(ref));
  }
  away(ref: SlotRef, maxPerAddress = Infinity, now = Date.now()): boolean {
    return this.mutex.withLock(() => this.awayLocked(ref, maxPerAddress, now));
  }
  releaseAway(ref: SlotRef): boolean {
    return this.mutex.withLock(() => this.releaseAwayLocked(ref));
  }
  resume(token: Uint8Array, next: Uint8Array, to: Omit<NewSession, 'nick' | 'token' | 'away'>): ResumeResult {
    return this.mutex.withLock(() => this.resumeLocked(token, next, to));
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
}
