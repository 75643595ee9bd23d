/**
 * A session table's slots as anyone reads them: where each field is, the
 * single words that are read and written with Atomics alone (heartbeat
 * times, counters), and whole-slot reads for the console, WHO and the
 * dashboard (every held slot: connected or away). The changes that take the lock are session-table.ts and
 * slot-claims.ts.
 */
import * as L from './slot-layout.js';
import { SlotState, TRANSPORTS, type SessionInfo, type SlotCounters, type SlotRef } from './slot-layout.js';
import { NICK_KEY_BYTES, type NickKeys } from './nick-keys.js';

export const HEADER_BYTES = 64;
export const H_ACTIVE = 3;
/** The most sessions held at once since the table was made (raised by each claim, under the lock). */
export const H_MOST = 5;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

export class SessionSlots {
  readonly i32: Int32Array;
  readonly i64: BigInt64Array;
  readonly u8: Uint8Array;
  protected readonly slotsOffset = HEADER_BYTES;

  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly capacity: number,
  ) {
    this.i32 = new Int32Array(buffer);
    this.i64 = new BigInt64Array(buffer);
    this.u8 = new Uint8Array(buffer);
  }

  /** Sessions holding a slot, connected or away: the online count (WELCOME's users). */
  activeCount(): number {
    return Atomics.load(this.i32, H_ACTIVE);
  }

  /** The most sessions this table has held at once (LUSERS' local max). */
  mostCount(): number {
    return Atomics.load(this.i32, H_MOST);
  }

  // ---- slot addressing -------------------------------------------------

  protected w32(slot: number, field: number): number {
    return (this.slotsOffset + slot * L.SLOT_BYTES) / 4 + field;
  }
  protected w64(slot: number, field: number): number {
    return (this.slotsOffset + slot * L.SLOT_BYTES) / 8 + field;
  }
  protected byteAt(slot: number, offset: number): number {
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
  /** True while the slot still holds the session that ref was issued for, connected. */
  isCurrent(ref: SlotRef): boolean {
    return this.state(ref.slot) === SlotState.ACTIVE && this.generation(ref.slot) === ref.generation;
  }
  /** Connected or away: the nick is held either way. */
  protected held(slot: number): boolean {
    const s = this.state(slot);
    return s === SlotState.ACTIVE || s === SlotState.AWAY;
  }

  nick(slot: number): string {
    const len = Atomics.load(this.i32, this.w32(slot, L.S_NICK_LEN));
    const at = this.byteAt(slot, L.S_NICK_OFFSET);
    return utf8Decoder.decode(this.u8.slice(at, at + Math.min(len, L.S_NICK_BYTES)));
  }

  protected keyEquals(slot: number, offset: number, key: Uint8Array): boolean {
    return this.keyEqualsN(slot, offset, key, NICK_KEY_BYTES);
  }

  protected writeNick(slot: number, nick: string, keys: NickKeys): void {
    const bytes = utf8.encode(nick);
    if (bytes.length > L.S_NICK_BYTES) throw new RangeError('nick longer than a slot holds');
    this.u8.set(bytes, this.byteAt(slot, L.S_NICK_OFFSET));
    this.u8.set(keys.fold, this.byteAt(slot, L.S_FOLD_KEY_OFFSET));
    this.u8.set(keys.look, this.byteAt(slot, L.S_LOOK_KEY_OFFSET));
    Atomics.store(this.i32, this.w32(slot, L.S_NICK_LEN), bytes.length);
  }

  /** The session's resume token, hashed (resume-token.ts); all zero: none. */
  protected tokenEquals(slot: number, offset: number, hash: Uint8Array): boolean {
    return hash.length === L.S_TOKEN_BYTES && this.keyEqualsN(slot, offset, hash, L.S_TOKEN_BYTES);
  }
  protected keyEqualsN(slot: number, offset: number, key: Uint8Array, n: number): boolean {
    const at = this.byteAt(slot, offset);
    for (let i = 0; i < n; i++) if (this.u8[at + i] !== key[i]) return false;
    return true;
  }
  protected writeBytes(slot: number, offset: number, bytes: Uint8Array | null, n: number): void {
    const at = this.byteAt(slot, offset);
    this.u8.fill(0, at, at + n);
    if (bytes) this.u8.set(bytes.subarray(0, n), at);
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

  /** When an AWAY slot's session went away (wall ms). */
  awaySince(slot: number): number {
    return Number(Atomics.load(this.i64, this.w64(slot, L.S64_AWAY_SINCE)));
  }

  /** Reads one connected slot; null when it is FREE or AWAY. Without the lock the nick may be mid-rename; callers that care hold it. */
  info(slot: number): SessionInfo | null {
    return this.state(slot) === SlotState.ACTIVE ? this.read(slot) : null;
  }

  /** Reads one held slot, connected or away (null when FREE). */
  private read(slot: number): SessionInfo | null {
    const state = this.state(slot);
    if (state !== SlotState.ACTIVE && state !== SlotState.AWAY) return null;
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
      away: state === SlotState.AWAY,
      awaySince: state === SlotState.AWAY ? n64(L.S64_AWAY_SINCE) : null,
    };
  }

  /**
   * Every session, connected or away, in slot order: the sessions WHO, the operator's /list and the dashboard
   * show, as many as activeCount() counts (docs/PROTOCOL.md, "Who is online").
   */
  snapshot(): SessionInfo[] {
    const out: SessionInfo[] = [];
    for (let s = 0; s < this.capacity; s++) {
      const info = this.read(s);
      if (info) out.push(info);
    }
    return out;
  }
}
