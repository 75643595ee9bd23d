/**
 * What the IRC door knows of its sessions that the chat protocol does not
 * carry (the USER ident and real name, the AWAY message, the registered
 * nick it is logged in to), shared by every worker of the node: a WHOIS on
 * one worker of an IRC user on another reads it here (docs/IRC.md, "WHO
 * and WHOIS"). One entry per session slot, as the session table numbers
 * them, tagged with the slot's generation: an entry of a session that ended
 * (its worker died, or it was never cleared) names no later session of the
 * slot.
 *
 * Only the worker that owns a session writes its entry, so there is no
 * lock: a sequence word, odd while a write is under way, lets a reader on
 * another worker take a consistent copy (a seqlock), retrying while a write
 * is in progress.
 */
import type { SlotRef } from './slot-layout.js';

/** Bytes of each field (UTF-8; longer text is cut at a character boundary). */
export const IDENT_BYTES = 16;
export const REALNAME_BYTES = 128;
export const ACCOUNT_BYTES = 128;
/** AWAYLEN (200 characters) of up to 4 bytes. */
export const AWAY_BYTES = 800;

// Entry: generation (i32), seq (i32), four lengths (i32; -1: absent), then the fields.
const W_GENERATION = 0;
const W_SEQ = 1;
const W_LENGTHS = 2;
const HEADER_BYTES = 24;
const FIELDS = [IDENT_BYTES, REALNAME_BYTES, ACCOUNT_BYTES, AWAY_BYTES] as const;
const OFFSETS = FIELDS.map((_, i) => HEADER_BYTES + FIELDS.slice(0, i).reduce((a, b) => a + b, 0));
export const ENTRY_BYTES = HEADER_BYTES + FIELDS.reduce((a, b) => a + b, 0);
const ENTRY_WORDS = ENTRY_BYTES / 4;
/** A reader retries this often while the owner is writing, then takes nothing (shows the nick only). */
const READ_TRIES = 64;
/** No session has generation -1: an entry with it is empty. */
const EMPTY = -1;

export interface SharedPerson {
  ident: string;
  realname: string;
  account?: string;
  awayMessage?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 of text, at most max bytes, cut where a character starts. */
function bytesOf(text: string, max: number): Uint8Array {
  const all = encoder.encode(text);
  if (all.length <= max) return all;
  let end = max;
  while (end > 0 && (all[end]! & 0xc0) === 0x80) end--;
  return all.subarray(0, end);
}

export class IrcPeopleTable {
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  readonly capacity: number;

  /** One entry per session slot (the session table's capacity). */
  static create(capacity: number): IrcPeopleTable {
    const table = new IrcPeopleTable(new SharedArrayBuffer(capacity * ENTRY_BYTES));
    for (let s = 0; s < capacity; s++) table.i32[s * ENTRY_WORDS + W_GENERATION] = EMPTY;
    return table;
  }

  constructor(readonly buffer: SharedArrayBuffer) {
    this.i32 = new Int32Array(buffer);
    this.u8 = new Uint8Array(buffer);
    this.capacity = buffer.byteLength / ENTRY_BYTES;
  }

  /** The session at `at` is this person now (its owner only). */
  write(at: SlotRef, p: SharedPerson): void {
    if (!this.has(at.slot)) return;
    const w = at.slot * ENTRY_WORDS;
    const base = at.slot * ENTRY_BYTES;
    Atomics.add(this.i32, w + W_SEQ, 1);
    const values = [p.ident, p.realname, p.account, p.awayMessage];
    values.forEach((v, i) => {
      if (v === undefined) return void Atomics.store(this.i32, w + W_LENGTHS + i, -1);
      const bytes = bytesOf(v, FIELDS[i]!);
      this.u8.set(bytes, base + OFFSETS[i]!);
      Atomics.store(this.i32, w + W_LENGTHS + i, bytes.length);
    });
    Atomics.store(this.i32, w + W_GENERATION, at.generation);
    Atomics.add(this.i32, w + W_SEQ, 1);
  }

  /** The session at `at` ended: its entry is empty (only if it is still that session's). */
  clear(at: SlotRef): void {
    if (!this.has(at.slot)) return;
    const w = at.slot * ENTRY_WORDS;
    Atomics.compareExchange(this.i32, w + W_GENERATION, at.generation, EMPTY);
  }

  /** The person the session at `at` is, if its owner wrote one (null: none, or another session's). */
  read(at: SlotRef): SharedPerson | null {
    if (!this.has(at.slot)) return null;
    const w = at.slot * ENTRY_WORDS;
    const base = at.slot * ENTRY_BYTES;
    for (let i = 0; i < READ_TRIES; i++) {
      const seq = Atomics.load(this.i32, w + W_SEQ);
      if (seq % 2 === 1) continue;
      if (Atomics.load(this.i32, w + W_GENERATION) !== at.generation) return null;
      const fields = FIELDS.map((max, f) => {
        const len = Atomics.load(this.i32, w + W_LENGTHS + f);
        if (len < 0) return undefined;
        // Copied before it is decoded: the owner may write again while this reads.
        return this.u8.slice(base + OFFSETS[f]!, base + OFFSETS[f]! + Math.min(len, max));
      });
      if (Atomics.load(this.i32, w + W_SEQ) !== seq) continue;
      const [ident, realname, account, away] = fields.map((b) => (b === undefined ? undefined : decoder.decode(b)));
      return {
        ident: ident ?? '',
        realname: realname ?? '',
        ...(account !== undefined ? { account } : {}),
        ...(away !== undefined ? { awayMessage: away } : {}),
      };
    }
    return null;
  }

  private has(slot: number): boolean {
    return Number.isInteger(slot) && slot >= 0 && slot < this.capacity;
  }
}
