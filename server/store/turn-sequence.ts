/**
 * The append every RoomLog shares (room-log.ts): turns are stored one after
 * another, a turn handed in while another is stored waiting for it, and each
 * is published once, after its commit or with the refusal, before the next
 * is stored. What differs between logs is only how a turn is stored, the
 * epoch its ids belong to, and (a cluster's) how its publication is wrapped.
 */
import type { NewEntry, StoredEntry } from './history.js';
import type { Appended, LogTurn } from './room-log.js';
import { asStoreError, type StoreError } from './store-error.js';

export type Publish = (turn: LogTurn, stored: Appended | null, failure: StoreError | null) => void;

export class TurnSequence {
  private last: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: (entries: readonly NewEntry[], turn: LogTurn) => Promise<StoredEntry[]>,
    private readonly epoch: () => string,
    private readonly publish: Publish = (turn, stored, failure) => turn.publish(stored, failure),
  ) {}

  append(turn: LogTurn): Promise<Appended> {
    const done = this.last.then(
      () => this.commit(turn),
      () => this.commit(turn),
    );
    this.last = done.catch(() => undefined);
    return done;
  }

  private async commit(turn: LogTurn): Promise<Appended> {
    let entries: StoredEntry[] = [];
    try {
      if (turn.entries.length > 0) entries = await this.store(turn.entries, turn);
    } catch (err) {
      const failure = asStoreError(err);
      this.publish(turn, null, failure);
      throw failure;
    }
    const stored = { entries, epoch: this.epoch() };
    this.publish(turn, stored, null);
    return stored;
  }
}
