/**
 * Which entries of the cluster's bus stream a node takes (cluster-bus.ts). Another node's, once: an entry written
 * twice after a failed write (the same run and seq) is taken once. Its own, never: they were delivered here before
 * they were written, except a turn given up in doubt (its append script's answer lost, store/append-retry.ts)
 * whose script ran after all: its entry, written by the script with the ids it made, is delivered here when it
 * comes by, once, as another node's would be.
 */
import type { BatchHead } from './bus-ops.js';

export class TakenEntries {
  /** Per node: the run and seq last taken. */
  private readonly taken = new Map<string, { run: string; seq: number }>();
  /** The places (seqs) of this node's turns given up in doubt. */
  private readonly doubted = new Set<number>();
  duplicates = 0;

  constructor(
    private readonly node: string,
    /** This run of the node's bus. */
    private readonly run: string,
  ) {}

  /** This node's turn with place `seq` was given up in doubt. */
  inDoubt(seq: number): void {
    this.doubted.add(seq);
  }

  /** Whether the entry with this head is not to be taken; `stored`: an append script wrote it (its ids beside it). */
  skip(head: BatchHead, stored: boolean): boolean {
    if (head.node === this.node)
      return !(stored && head.run === this.run && head.seq !== undefined && this.doubted.delete(head.seq));
    if (head.run === undefined || head.seq === undefined) return false;
    const before = this.taken.get(head.node);
    if (before && before.run === head.run && before.seq >= head.seq) {
      this.duplicates++;
      return true;
    }
    this.taken.set(head.node, { run: head.run, seq: head.seq });
    return false;
  }
}
