/**
 * One-time LFTP and HTTP tickets in shared memory: issued by the worker that owns the requesting chat session,
 * consumed by whichever worker the transfer reaches. Consuming is one compareExchange (ISSUED → ACTIVE): a ticket
 * works once, even if two workers see it at the same instant; it stays ACTIVE while its transfer runs (then USED),
 * so a session's tickets and running transfers together are capped across every worker. After the slots, the
 * ticket secret (the SecretSource's, process/secret-source.ts): a ticket's LFTP key is derived from it
 * (common/lftp/protect/keys.ts) and a ticket signed with it (ticket-signature.ts), in every worker alike.
 * A ticket also counts against its network (the address prefix, address-table.ts), so that many sessions from a
 * few addresses cannot take the whole table; a session that goes away gives back its unused tickets (revoke).
 */
import { randomBytes } from 'node:crypto';
import { SharedMutex } from '../../common/shared-mutex.js';
import { NICK_MAX_BYTES } from '../../common/unicode/nick-rule.js';
import { TICKETS_PER_SESSION, TICKET_TTL_MS } from './ticket-limits.js';
import { signedTicket } from './ticket-signature.js';
import {
  ACTIVE,
  ISSUED,
  LOCK_BYTES,
  SECRET_BYTES,
  SLOT_BYTES,
  START_BYTES,
  TICKET_BYTES,
  TicketSlots,
  USED,
  T64_EXPIRES,
  T_HOLDER,
  T_NAME_LEN,
  T_NAME_OFFSET,
  T_PREFIX,
  T_RUNNING,
  T_SESSION,
  T_STATE,
  T_TICKET_OFFSET,
  markTableStart,
  type TicketOp,
} from './ticket-slots.js';

export type { TicketOp } from './ticket-slots.js';

type No = { ok: false; reason: string };
type Found = { ok: true; slot: number; state: number; folder: boolean };
type Consumed = { ok: true; nick: string; slot: number };

/** An unused ticket given back (revokeAll), with its network's key (prefixKey; 0: none). */
export interface RevokedTicket {
  ticket: string;
  prefix: number;
}

export interface IssuedTicket {
  ticket: string;
  expiresAt: number;
}

export class TicketTable extends TicketSlots {
  /** Held while an exclusive ticket is checked and issued (the only place two steps must be one). */
  readonly mutex: SharedMutex;

  static create(capacity = 1024): TicketTable {
    const buffer = new SharedArrayBuffer(capacity * SLOT_BYTES + SECRET_BYTES + LOCK_BYTES + START_BYTES);
    new Uint8Array(buffer, capacity * SLOT_BYTES).set(randomBytes(SECRET_BYTES));
    markTableStart(buffer);
    return new TicketTable(buffer);
  }

  constructor(
    buffer: SharedArrayBuffer,
    /** The worker this view belongs to (it records who runs a transfer); -1 for the supervisor's. */
    private readonly worker = -1,
  ) {
    super(buffer);
    this.mutex = new SharedMutex(this.i32, this.lockWordIndex, undefined, 'the ticket table lock');
  }

  /**
   * Issues a ticket to a session: 'busy' when every slot holds a live ticket, 'limit' when the session already holds
   * `perSession` unused ones, 'prefix' when its network (prefixKey, 0: none) holds `prefix.max`. `exclusive`: not
   * while another session holds a live ticket for (op, name) ('held'; holder() says whose): two sessions asking at
   * once on two workers cannot both get one (a folder). Counted and issued under the table's lock: counting then
   * claiming without it let two workers each see 63 of a network's 64 and both issue (CI saw 257 of 4 × 64).
   */
  issue(...args: Parameters<TicketTable['issueHoldingLock']>): IssuedTicket | 'busy' | 'limit' | 'prefix' | 'held' {
    return this.mutex.withLock(() => this.issueHoldingLock(...args));
  }

  /** issue() for a caller that already holds `mutex`. */
  issueHoldingLock(
    op: TicketOp,
    name: string,
    nick: string,
    now: number,
    session = 0,
    perSession = TICKETS_PER_SESSION,
    prefix: { key: number; max: number } | null = null,
    exclusive = false,
  ): IssuedTicket | 'busy' | 'limit' | 'prefix' | 'held' {
    if (exclusive && this.holder(op, name, now, session) !== null) return 'held';
    const nameBytes = Buffer.from(name, 'utf8');
    if (nameBytes.length > 255) return 'busy';
    if (session !== 0 && this.heldBy(session, now) >= perSession) return 'limit';
    if (prefix && this.held(T_PREFIX, prefix.key, now) >= prefix.max) return 'prefix';
    const ticket = signedTicket(this.keySecret(), op, name, now);
    const expiresAt = now + TICKET_TTL_MS;
    const written = this.writeTicket(now, {
      op,
      nameBytes,
      nickBytes: Buffer.from(nick, 'utf8').subarray(0, NICK_MAX_BYTES),
      session,
      prefix: prefix?.key ?? 0,
      ticket,
      expiresAt,
    });
    return written ? { ticket: ticket.toString('hex'), expiresAt } : 'busy';
  }

  /** Unused, unexpired tickets issued to a session, and its transfers still running. */
  heldBy(session: number, now: number): number {
    return this.held(T_SESSION, session, now);
  }

  /** What an address prefix (prefixKey) holds, all its sessions together. */
  heldByPrefix(key: number, now: number): number {
    return this.held(T_PREFIX, key, now);
  }

  /**
   * The session went away (its connection lost, kept for a resume): its unused tickets are given back and no longer
   * work. Transfers already running go on. How many were given back.
   */
  revoke(session: number): number {
    return this.revokeAll(session).length;
  }

  /** revoke(), saying which tickets were given back, each with its network's key (for a cluster's counts). */
  revokeAll(session: number): RevokedTicket[] {
    const out: RevokedTicket[] = [];
    if (session === 0) return out;
    for (let s = 0; s < this.capacity; s++) {
      if (Atomics.load(this.i32, this.w32(s, T_SESSION)) !== session) continue;
      // A consume racing this either spent it first (ACTIVE: its transfer runs) or finds it gone.
      if (Atomics.compareExchange(this.i32, this.w32(s, T_STATE), ISSUED, USED) === ISSUED)
        out.push({ ticket: this.ticketAt(s), prefix: Atomics.load(this.i32, this.w32(s, T_PREFIX)) });
      // A folder's ticket whose transfer runs is not armed again when that ends (expiry 0: revoked).
      else if (this.stateAt(s) === ACTIVE) Atomics.store(this.i64, this.w64(s, T64_EXPIRES), 0n);
    }
    return out;
  }

  /**
   * A ticket just issued, given back before anyone had it (a cluster's count refused it): it no longer works or
   * counts. Only an unused one.
   */
  cancel(ticketHex: string): void {
    for (let s = 0; s < this.capacity; s++)
      if (this.stateAt(s) === ISSUED && this.ticketAt(s) === ticketHex) {
        Atomics.compareExchange(this.i32, this.w32(s, T_STATE), ISSUED, USED);
        return;
      }
  }

  /**
   * The transfer a spent ticket opened has ended: it no longer counts against its session. A folder's ticket (its
   * name ends in `/`) is armed again for the folder's next file, for another TICKET_TTL_MS, unless its session
   * went away meanwhile (revoke). So is the ticket of an HTTP download that was cut (`cut`), so that the browser's
   * own resume (a Range request to the same URL) works for that long. Whether it was armed again.
   */
  transferEnded(slot: number, now = Date.now(), cut = false): boolean {
    // Transfers may run at once on one ticket (a folder's files over parallel HTTP connections, a browser's
    // resume beside the download it continues): ACTIVE (never expired, never reused) until the last one ends,
    // and still held meanwhile (as armed again).
    if (this.oneLessRunning(slot) > 0) return true;
    const revoked = Atomics.load(this.i64, this.w64(slot, T64_EXPIRES)) === 0n;
    const folder =
      !revoked &&
      this.u8[this.at(slot, T_NAME_OFFSET) + Atomics.load(this.i32, this.w32(slot, T_NAME_LEN)) - 1] === 0x2f;
    const again = folder || (cut && !revoked);
    if (again) Atomics.store(this.i64, this.w64(slot, T64_EXPIRES), BigInt(now + TICKET_TTL_MS));
    const was = Atomics.compareExchange(this.i32, this.w32(slot, T_STATE), ACTIVE, again ? ISSUED : USED);
    if (was === ACTIVE) Atomics.store(this.i32, this.w32(slot, T_HOLDER), 0);
    // A folder's request counts itself, then makes it ACTIVE (consume): one that counted after this end, ACTIVE again.
    if (was === ACTIVE && again && Atomics.load(this.i32, this.w32(slot, T_RUNNING)) > 0)
      Atomics.compareExchange(this.i32, this.w32(slot, T_STATE), ISSUED, ACTIVE);
    // A resume that ran beside the cut download it continues (consume `resuming`) and ended whole: spent now.
    else if (was === ISSUED && !again) Atomics.compareExchange(this.i32, this.w32(slot, T_STATE), ISSUED, USED);
    return again;
  }

  /** Counts one transfer of the slot's ticket ended: how many still run (never below 0: an end said twice is once). */
  private oneLessRunning(slot: number): number {
    const at = this.w32(slot, T_RUNNING);
    for (;;) {
      const n = Atomics.load(this.i32, at);
      if (n <= 0) return 0;
      if (Atomics.compareExchange(this.i32, at, n, n - 1) === n) return n - 1;
    }
  }

  /** A worker died: its transfers are over (from the supervisor; a ticket's holder is its last taker). */
  releaseWorker(worker: number): void {
    for (let s = 0; s < this.capacity; s++)
      if (this.stateAt(s) === ACTIVE && Atomics.load(this.i32, this.w32(s, T_HOLDER)) === worker + 1) {
        Atomics.store(this.i32, this.w32(s, T_RUNNING), 0);
        this.transferEnded(s);
      }
  }

  /**
   * Uses a ticket for (op, name): returns the nick it was issued to, or why not; a wrong op or name does not burn
   * it. `resuming`: a browser's resume of a download may use a get's ticket still running (http-download.ts: why).
   */
  consume(ticketHex: string, op: TicketOp, name: string, now: number, resuming = false): Consumed | No {
    const found = this.find(ticketHex, op, name, now, resuming && op === 'get');
    if (!found.ok) return found;
    const { slot: s, state, folder } = found;
    const cas = () => Atomics.compareExchange(this.i32, this.w32(s, T_STATE), ISSUED, ACTIVE);
    if (!folder && state === ISSUED && cas() !== ISSUED) return { ok: false, reason: 'ticket already used' };
    Atomics.add(this.i32, this.w32(s, T_RUNNING), 1);
    if (folder) Atomics.store(this.i64, this.w64(s, T64_EXPIRES), BigInt(now + TICKET_TTL_MS));
    if (folder) cas();
    Atomics.store(this.i32, this.w32(s, T_HOLDER), this.worker + 1);
    return { ok: true, nick: this.nickAt(s), slot: s };
  }

  /** Whose a ticket for (op, name) is, if it would work now, without spending it (an HTTP upload's HEAD). */
  peek(ticketHex: string, op: TicketOp, name: string, now: number): { ok: true; nick: string } | No {
    const found = this.find(ticketHex, op, name, now);
    if (!found.ok) return found;
    if (found.state !== ISSUED) return { ok: false, reason: 'ticket already used' };
    return { ok: true, nick: this.nickAt(found.slot) };
  }

  private find(ticketHex: string, op: TicketOp, name: string, now: number, running = false): Found | No {
    if (!/^[0-9a-f]{32}$/.test(ticketHex)) return { ok: false, reason: 'malformed ticket' };
    const ticket = Buffer.from(ticketHex, 'hex');
    for (let s = 0; s < this.capacity; s++) {
      const state = this.stateAt(s);
      if (state !== ISSUED && state !== ACTIVE) continue;
      const off = this.at(s, T_TICKET_OFFSET);
      if (!ticket.equals(Buffer.from(this.u8.subarray(off, off + TICKET_BYTES)))) continue;
      const opHere = this.opAt(s);
      const nameHere = this.textAt(s, T_NAME_OFFSET, T_NAME_LEN);
      // A folder's ticket (`DIR/`) opens the folder's manifest and each of its files, several transfers at once
      // (a client has up to 4 of them in flight: one running does not keep the next file's SYN out).
      const folder = nameHere.endsWith('/');
      if (state === ACTIVE && !folder && !running) continue;
      // A folder's ticket does not expire while one of its transfers runs (unless revoked: expiry 0).
      const expires = Number(Atomics.load(this.i64, this.w64(s, T64_EXPIRES)));
      if (expires < now && !(folder && state === ACTIVE && expires !== 0))
        return { ok: false, reason: 'ticket expired' };
      if (opHere !== op || (folder ? !name.startsWith(nameHere) : nameHere !== name))
        return { ok: false, reason: `ticket is for ${opHere} ${JSON.stringify(nameHere)}` };
      return { ok: true, slot: s, state, folder };
    }
    return { ok: false, reason: 'unknown or already used ticket' };
  }

  /** The nick holding a live ticket for (op, name) not `notSession`'s (unused, or running): one folder upload at a time. */
  holder(op: TicketOp, name: string, now: number, notSession: number): string | null {
    for (let s = 0; s < this.capacity; s++) {
      const state = this.stateAt(s);
      const expires = Number(Atomics.load(this.i64, this.w64(s, T64_EXPIRES)));
      const live = state === ACTIVE ? expires !== 0 : state === ISSUED && expires >= now;
      if (!live || Atomics.load(this.i32, this.w32(s, T_SESSION)) === notSession) continue;
      if (this.opAt(s) === op && this.textAt(s, T_NAME_OFFSET, T_NAME_LEN) === name) return this.nickAt(s);
    }
    return null;
  }
}
