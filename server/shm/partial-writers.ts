/**
 * Who writes each partial upload now, across every worker and both doors (an LFTP post and an HTTP resumable
 * upload continue the same partial, server/web/resumable-upload.ts): one writer per partial, because two would
 * write the same hidden file at their own offsets and record what each believes it holds, and the record of one
 * would lie about the bytes of the other. A partial is named by its resume key (server/files/lftp-resume.ts
 * resumeKey: the name and, on a chat server, the uploader's nick). Claiming is a search and a write under one
 * robust mutex, so two claims of one key at the same instant cannot both succeed. Each claim names the worker
 * that holds it and its door: a dead worker's claims are given back with its other shared state
 * (process/worker-repair.ts), and a post refused by another worker's LFTP transfer knows whom to ask to give way
 * (files/writer-claim.ts).
 */
import { SharedMutex } from '../../common/shared-mutex.js';
import { NICK_MAX_BYTES } from '../../common/unicode/nick-rule.js';

const H_LOCK = 0;
const HEADER_BYTES = 16;
/** A name (255 bytes at most), a separator, a nick. */
const KEY_BYTES = 256 + NICK_MAX_BYTES;
const ENTRY_BYTES = 12 + KEY_BYTES;
// Entry: the holder (i32: worker + 2; 0 free), the key's length (i32), the door (i32: DOORS' index), the key.
const E_HOLDER = 0;
const E_LEN = 1;
const E_DOOR = 2;
const E_KEY = 12;

/** The way a writer's bytes come in: an LFTP post, or an HTTP resumable upload (the web page's). */
export type WriterDoor = 'lftp' | 'http';
const DOORS: readonly WriterDoor[] = ['lftp', 'http'];

/** Who holds a claim: the worker (-1 outside the workers, as a standalone endpoint) and the door. */
export interface WriterHolder {
  worker: number;
  door: WriterDoor;
}

/**
 * What a worker answers when asked to end its transfer writing a partial for a new post of it (files/writer-claim.ts
 * giveWayOn): ended (the claim is given back), none (no transfer of its writes it now), other-address (one does, for
 * another address: it stays); the asker's own: timeout (no answer in time), gone (that worker is not running).
 */
export type GiveWay = 'ended' | 'none' | 'other-address' | 'timeout' | 'gone';

/** Partials being written at once on one server: as many as the ticket table has transfers. */
export const WRITERS_CAPACITY = 1024;

export type WriterClaim =
  | { ok: true; release(): void }
  | { ok: false; full: true }
  | { ok: false; full: false; holder: WriterHolder };

export class PartialWriters {
  readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly capacity: number;
  readonly mutex: SharedMutex;

  static create(capacity = WRITERS_CAPACITY): PartialWriters {
    return new PartialWriters(new SharedArrayBuffer(HEADER_BYTES + capacity * ENTRY_BYTES));
  }

  constructor(
    readonly buffer: SharedArrayBuffer,
    /** The worker this view belongs to (its claims are given back if it dies); -1 outside the workers. */
    private readonly worker = -1,
  ) {
    this.i32 = new Int32Array(buffer);
    this.u8 = new Uint8Array(buffer);
    this.capacity = (buffer.byteLength - HEADER_BYTES) / ENTRY_BYTES;
    this.mutex = new SharedMutex(this.i32, H_LOCK, undefined, 'the partial writers lock');
  }

  get lockWordIndex(): number {
    return H_LOCK;
  }

  /** Takes the partial `key` for this writer, unless another writer holds it (who) or every entry is taken (full). */
  claim(key: string, door: WriterDoor): WriterClaim {
    const bytes = Buffer.from(key, 'utf8');
    if (bytes.length > KEY_BYTES) throw new RangeError(`a partial's key is at most ${KEY_BYTES} bytes`);
    return this.mutex.withLock((): WriterClaim => {
      const held = this.find(bytes);
      if (held >= 0) {
        const worker = Atomics.load(this.i32, held / 4 + E_HOLDER) - 2;
        return { ok: false, full: false, holder: { worker, door: DOORS[Atomics.load(this.i32, held / 4 + E_DOOR)]! } };
      }
      const e = this.find(null);
      if (e < 0) return { ok: false, full: true };
      this.u8.set(bytes, e + E_KEY);
      Atomics.store(this.i32, e / 4 + E_LEN, bytes.length);
      Atomics.store(this.i32, e / 4 + E_DOOR, DOORS.indexOf(door));
      Atomics.store(this.i32, e / 4 + E_HOLDER, this.worker + 2);
      let released = false;
      return {
        ok: true,
        release: () => {
          if (released) return;
          released = true;
          this.mutex.withLock(() => Atomics.store(this.i32, e / 4 + E_HOLDER, 0));
        },
      };
    });
  }

  /** Whether a writer holds the partial `key` now (a question only: the answer may change the next instant). */
  held(key: string): boolean {
    const bytes = Buffer.from(key, 'utf8');
    return this.mutex.withLock(() => this.find(bytes) >= 0);
  }

  /** A worker died: its claims are given back (call from the supervisor, after repairing the lock). */
  releaseWorker(worker: number): void {
    for (let i = 0; i < this.capacity; i++) {
      const at = (HEADER_BYTES + i * ENTRY_BYTES) / 4 + E_HOLDER;
      Atomics.compareExchange(this.i32, at, worker + 2, 0);
    }
  }

  /** The byte offset of the entry holding key, or with null the first free one; -1: none. */
  private find(key: Buffer | null): number {
    for (let i = 0; i < this.capacity; i++) {
      const e = HEADER_BYTES + i * ENTRY_BYTES;
      const taken = Atomics.load(this.i32, e / 4 + E_HOLDER) !== 0;
      if (key === null) {
        if (!taken) return e;
        continue;
      }
      if (!taken || Atomics.load(this.i32, e / 4 + E_LEN) !== key.length) continue;
      if (key.equals(this.u8.subarray(e + E_KEY, e + E_KEY + key.length))) return e;
    }
    return -1;
  }
}
