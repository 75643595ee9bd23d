/**
 * One segment of the sequencer's turn being built (sequencer.ts): the
 * messages it stores, and the steps that post after their commit, in the
 * order the requests came.
 */
import type { RoomPost } from '../bus/room-message.js';
import type { NewEntry, StoredEntry } from './history.js';
import type { Segment } from './request-context.js';
import type { StoreError } from './store-error.js';

/** One segment being built: its messages, and the steps that post after the commit. */
export class SegmentBuilder implements Segment {
  readonly entries: NewEntry[] = [];
  readonly steps: Array<(stored: StoredEntry[] | null, failure: StoreError | null) => void> = [];
  /** Each entry's room message, while that is all the segment posts (null once anything else is). */
  posts: RoomPost[] | null = [];
  append(entry: NewEntry, then: (e: StoredEntry | null, failure: StoreError | null) => void, post?: RoomPost): void {
    const index = this.entries.push(entry) - 1;
    this.steps.push((stored, failure) => then(stored ? stored[index]! : null, failure));
    if (post) this.posts?.push(post);
    else this.posts = null;
  }
  later(fn: () => void): void {
    this.steps.push(() => fn());
    this.posts = null;
  }
}
