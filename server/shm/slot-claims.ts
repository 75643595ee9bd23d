/**
 * A session table's slots changing hands under its lock: a claim (a free slot,
 * if the nick is not one in use or a look-alike of one), a rename (by the
 * nick's owner: ending the session that held it), a release, and the
 * connection fields a claim, a resume or a take-over writes. Call them with the
 * table's mutex held: session-table.ts takes it, and adds away and resume.
 */
import * as L from './slot-layout.js';
import {
  SlotState,
  TRANSPORTS,
  type ClaimResult,
  type HeldSession,
  type NickConflict,
  type RenameResult,
  type SlotRef,
  type Transport,
} from './slot-layout.js';
import type { NickKeys } from './nick-keys.js';
import { H_ACTIVE, H_MOST, SessionSlots } from './session-slots.js';

/** The header word counting sessions, so that each has an id of its own (session-table.ts lays out the header). */
const H_SESSION_SEQ = 4;

const utf8 = new TextEncoder();

/** Where a new session comes from: a connection (ACTIVE), or the store bringing back one that was away when the server stopped (AWAY, no owner). */
export interface NewSession {
  nick: string;
  owner: number;
  transport: Transport;
  address: string;
  port: number;
  now: number;
  /** The resume token's hash (resume-token.ts), or null: this session cannot be resumed (version 1, --no-history). */
  token: Uint8Array | null;
  away?: boolean;
  /** An away session's: since when (wall ms; default now). */
  awaySince?: number;
}

export class SlotClaims extends SessionSlots {
  /** Where the next free-slot search starts; a hint only, so not shared. */
  private freeHint = 0;

  /** Slot of the session (connected or away) with this fold key (the same nick in any case), or -1. */
  findNickLocked(fold: Uint8Array): number {
    for (let s = 0; s < this.capacity; s++) {
      if (this.held(s) && this.keyEquals(s, L.S_FOLD_KEY_OFFSET, fold)) return s;
    }
    return -1;
  }

  /** The slot, other than `self` and `skip`, whose nick is this one or looks like it, or -1. */
  private conflictSlotLocked(keys: NickKeys, self = -1, skip = -1): number {
    for (let s = 0; s < this.capacity; s++) {
      if (s === self || s === skip || !this.held(s)) continue;
      if (this.keyEquals(s, L.S_FOLD_KEY_OFFSET, keys.fold) || this.keyEquals(s, L.S_LOOK_KEY_OFFSET, keys.look))
        return s;
    }
    return -1;
  }

  /** The session other than `self` whose nick is this one or looks like it (and whether it is away), or null. */
  conflictLocked(keys: NickKeys, self = -1): NickConflict | null {
    const s = this.conflictSlotLocked(keys, self);
    if (s < 0) return null;
    const conflict: NickConflict = {
      reason: 'NICK_TAKEN',
      holder: this.nick(s),
      same: this.keyEquals(s, L.S_FOLD_KEY_OFFSET, keys.fold),
    };
    if (this.state(s) === SlotState.AWAY) conflict.awaySince = this.awaySince(s);
    return conflict;
  }

  /**
   * The slot, other than `self`, of the session holding this very nick (in any case), when nothing else is in the
   * way of taking it (a session whose nick it only looks like); or -1. Its owner, who gave the password, may take it.
   */
  protected ownNickLocked(keys: NickKeys, self = -1): number {
    const s = this.conflictSlotLocked(keys, self);
    if (s < 0 || !this.keyEquals(s, L.S_FOLD_KEY_OFFSET, keys.fold)) return -1;
    return this.conflictSlotLocked(keys, self, s) < 0 ? s : -1;
  }

  /** Who holds the slot now, connected or away. */
  protected heldLocked(slot: number): HeldSession {
    return {
      slot,
      generation: this.generation(slot),
      owner: this.owner(slot),
      nick: this.nick(slot),
      away: this.state(slot) === SlotState.AWAY,
    };
  }

  claimLocked(n: NewSession, keys: NickKeys): ClaimResult {
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
    Atomics.store(this.i32, this.w32(slot, L.S_SESSION_ID), sessionId);
    this.writeNick(slot, n.nick, keys);
    this.writeBytes(slot, L.S_TOKEN_OFFSET, n.token, L.S_TOKEN_BYTES);
    this.writeBytes(slot, L.S_PREV_TOKEN_OFFSET, null, L.S_TOKEN_BYTES);
    for (const f of [L.S64_MSGS_IN, L.S64_BYTES_IN, L.S64_MSGS_OUT, L.S64_BYTES_OUT])
      Atomics.store(this.i64, this.w64(slot, f), 0n);
    Atomics.store(this.i64, this.w64(slot, L.S64_CONNECTED_AT), BigInt(Math.round(n.now)));
    Atomics.store(this.i64, this.w64(slot, L.S64_AWAY_SINCE), BigInt(Math.round(n.away ? (n.awaySince ?? n.now) : 0)));
    this.connectLocked(slot, generation, n, n.away ? SlotState.AWAY : SlotState.ACTIVE);
    const held = Atomics.add(this.i32, H_ACTIVE, 1) + 1;
    if (held > Atomics.load(this.i32, H_MOST)) Atomics.store(this.i32, H_MOST, held);
    return { ok: true, slot, generation, sessionId };
  }

  /** Before any claim: where the slot's generations start (SessionTable.create). */
  protected seedGeneration(slot: number, generation: number): void {
    Atomics.store(this.i32, this.w32(slot, L.S_GENERATION), generation | 0);
  }

  /** Who holds the slot now (a claim, or a resume): owner first, state last, so a worker dying half-way leaves a slot that names it. */
  protected connectLocked(
    slot: number,
    generation: number,
    n: Omit<NewSession, 'nick' | 'token'>,
    state: number,
  ): void {
    Atomics.store(this.i32, this.w32(slot, L.S_OWNER), n.owner);
    Atomics.store(this.i32, this.w32(slot, L.S_GENERATION), generation);
    const addr = utf8.encode(n.address).subarray(0, L.S_ADDR_BYTES);
    this.writeBytes(slot, L.S_ADDR_OFFSET, addr, L.S_ADDR_BYTES);
    Atomics.store(this.i32, this.w32(slot, L.S_ADDR_LEN), addr.length);
    Atomics.store(this.i32, this.w32(slot, L.S_PORT), n.port);
    Atomics.store(this.i32, this.w32(slot, L.S_TRANSPORT), TRANSPORTS.indexOf(n.transport));
    Atomics.store(this.i32, this.w32(slot, L.S_RTT_US), -1);
    Atomics.store(this.i64, this.w64(slot, L.S64_LAST_SEEN), BigInt(Math.round(n.now)));
    Atomics.store(this.i64, this.w64(slot, L.S64_LAST_ACTIVE), BigInt(Math.round(n.now)));
    Atomics.store(this.i32, this.w32(slot, L.S_STATE), state);
  }

  /**
   * A new nick for the session. asOwner (it gave the nick's password: /identify): the session holding this very
   * nick, connected or away, is ended (its slot freed) and the nick is this one's; the caller ends it in the store.
   */
  renameLocked(ref: SlotRef, nick: string, keys: NickKeys, asOwner = false): RenameResult {
    if (!this.isCurrent(ref)) return 'GONE';
    const held = asOwner ? this.ownNickLocked(keys, ref.slot) : -1;
    if (held >= 0) {
      const replaced = this.heldLocked(held);
      this.freeLocked(held);
      this.writeNick(ref.slot, nick, keys);
      return { reason: 'REPLACED', replaced };
    }
    const conflict = this.conflictLocked(keys, ref.slot);
    if (conflict) return conflict;
    this.writeNick(ref.slot, nick, keys);
    return 'ok';
  }

  releaseLocked(ref: SlotRef): boolean {
    if (!this.isCurrent(ref)) return false;
    this.freeLocked(ref.slot);
    return true;
  }

  protected freeLocked(slot: number): void {
    this.writeBytes(slot, L.S_TOKEN_OFFSET, null, L.S_TOKEN_BYTES);
    this.writeBytes(slot, L.S_PREV_TOKEN_OFFSET, null, L.S_TOKEN_BYTES);
    Atomics.store(this.i32, this.w32(slot, L.S_STATE), SlotState.FREE);
    Atomics.sub(this.i32, H_ACTIVE, 1);
  }
}
