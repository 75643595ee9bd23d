/**
 * Who holds which nick, and where a session is: what must become
 * cluster-wide when the server spans nodes (issue 34). Asynchronous, as a
 * shared store's answers are; today `LocalNickRegistry` answers from this
 * node's session table (shm/session-table.ts), whose lock makes a claim,
 * a resume and a rename each one step for every thread. A cluster's
 * registry claims a nick once for all nodes (a Redis script: the look-alike
 * check and the claim in one step) and answers lookups with the node the
 * session is on.
 *
 * Slot-level steps that only the node holding the session takes (it goes
 * away, ends, its counters) stay on the session table.
 */
import type {
  ClaimResult,
  RenameResult,
  ResumeResult,
  SessionInfo,
  SessionTable,
  SlotRef,
} from '../shm/session-table.js';
import type { NewSession } from '../shm/slot-claims.js';
import type { SessionAddress } from './room-bus.js';

/** A resume's new place: the session's connection, wherever it has come back. */
export type ResumeTo = Omit<NewSession, 'nick' | 'token' | 'away'>;

/** A session holding a nick, wherever it lives, with the nick as it has it. */
export type NickHolder = SessionAddress & { nick: string };

export interface NickRegistry {
  /** A new session with this nick, unless someone has it or one that looks like it (NICK_TAKEN), or no room. */
  claim(s: NewSession): Promise<ClaimResult>;
  /** The nick's owner logged in with its password: whoever holds this very nick is taken over or replaced. */
  claimAsOwner(s: NewSession, how: 'take-over' | 'replace'): Promise<ClaimResult>;
  /** The session whose resume token hashes to `token`, moved to `to` with the next token's hash. */
  resume(token: Uint8Array, next: Uint8Array, to: ResumeTo): Promise<ResumeResult>;
  /** The session's new nick, unless taken (asOwner: its holder, if any, is replaced). */
  rename(ref: SlotRef, nick: string, asOwner?: boolean): Promise<RenameResult>;
  /** The session holding this nick (any case), or null. */
  lookup(nick: string): Promise<NickHolder | null>;
  /** Every session online, connected or away (WHO, /list, the dashboard). */
  who(): Promise<SessionInfo[]>;
  /** How many sessions there are, as last known without waiting (WELCOME says it; a cluster's is up to WHO's cache old). */
  online(): number;
  /** How many nodes serve the chat (their lease lives), as last known without waiting: 1 for a single node. */
  nodes(): number;
}

/** The single node's registry: its session table, shared by its threads. */
export class LocalNickRegistry implements NickRegistry {
  constructor(
    private readonly table: SessionTable,
    /** This node's id: the sessions in the table are on it. */
    private readonly node: string,
  ) {}

  online(): number {
    return this.table.activeCount();
  }

  nodes(): number {
    return 1;
  }

  claim(s: NewSession): Promise<ClaimResult> {
    return settled(() => this.table.claim(s));
  }

  claimAsOwner(s: NewSession, how: 'take-over' | 'replace'): Promise<ClaimResult> {
    return settled(() => this.table.claimAsOwner(s, how));
  }

  resume(token: Uint8Array, next: Uint8Array, to: ResumeTo): Promise<ResumeResult> {
    return settled(() => this.table.resume(token, next, to));
  }

  rename(ref: SlotRef, nick: string, asOwner = false): Promise<RenameResult> {
    return settled(() => this.table.rename(ref, nick, asOwner));
  }

  /** lookupAsync: the supervisor's thread asks too, and its event loop must not block on the lock. */
  async lookup(nick: string): Promise<NickHolder | null> {
    const found = await this.table.lookupAsync(nick);
    return found && { ...found, node: this.node };
  }

  who(): Promise<SessionInfo[]> {
    return settled(() => this.table.snapshot());
  }
}

/** A synchronous step as a promise: what it throws rejects it. */
function settled<T>(step: () => T): Promise<T> {
  try {
    return Promise.resolve(step());
  } catch (err) {
    return Promise.reject(err as Error);
  }
}
