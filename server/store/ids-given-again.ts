/**
 * Noticing that the cluster's Redis gives ids again (redis-room-log.ts): it
 * lost what it had last been told (AOF everysec after a crash, a failover to
 * a replica that was behind) but kept its epoch. A node knows the highest id
 * of each conversation given in this epoch as far as it has seen: its own
 * appends, and the ids that went by on the bus. An append that returns an id
 * at or below that was given before.
 */
import type { StoredEntry } from './history.js';

export class IdsGivenAgain {
  /** The highest id this node appended in this epoch, per conversation. */
  private readonly appended = new Map<string, number>();
  /** Since an epoch change: each conversation's highest id the bus had seen then. */
  private floors: Map<string, number> | null = null;

  constructor(
    /** The highest id of the conversation the node's bus has let go by (0: none). */
    private readonly busSeen: (conv: string) => number,
  ) {}

  /**
   * The highest id of the conversation known to have been given in this epoch. The bus's order does not start
   * again with an epoch (cluster/ordered-delivery.ts): after a change, what it had seen of a conversation then is
   * a floor below which its figure says nothing of this epoch.
   */
  seen(conv: string): number {
    let bus = this.busSeen(conv);
    if (this.floors) {
      if (!this.floors.has(conv)) this.floors.set(conv, bus);
      if (bus <= this.floors.get(conv)!) bus = 0;
    }
    return Math.max(this.appended.get(conv) ?? 0, bus);
  }

  /** What an append stored; whether any of it was given before (`before`: seen() of each, asked before it). */
  stored(entries: readonly StoredEntry[], before: ReadonlyMap<string, number>): boolean {
    const again = entries.some((e) => e.id <= (before.get(e.conv) ?? 0));
    for (const e of entries) this.appended.set(e.conv, Math.max(this.appended.get(e.conv) ?? 0, e.id));
    return again;
  }

  /** A new epoch: ids start again, and what was seen is of the old one. */
  newEpoch(): void {
    this.appended.clear();
    this.floors = new Map();
  }
}
