/**
 * HISTORY_REQUEST pages from the cluster's room log (history-reads.ts asks):
 * the same plan and frames as the reader thread's, from entries read in one
 * or two round trips instead of a second database connection. A page is at
 * most MAX_HISTORY_LIMIT entries and ANSWER_MAX_TEXT bytes of text, so its
 * read is bounded as the reader thread's is.
 */
import type { ConversationKey, StoredEntry } from './history.js';
import type { HistoryReader } from './history-reader.js';
import {
  answerFrames,
  planFrom,
  type AnswerWhere,
  type PageAsk,
  type PagePlan,
  type ReadSource,
} from './history-pages.js';
import type { RoomLog } from './room-log.js';

/** Entries already read, as the ReadSource the plan and the frames are worked out from. */
function readOf(rows: StoredEntry[]): ReadSource {
  return {
    sizes: () => rows.map((e): [number, number] => [e.id, Buffer.byteLength(e.text)]),
    entries: (_conv, _parties, first, last) => rows.filter((e) => e.id >= first && e.id <= last),
  };
}

export class RedisReader implements HistoryReader {
  constructor(private readonly log: RoomLog) {}

  async plan(conv: ConversationKey, parties: readonly string[] | null, ask: PageAsk): Promise<PagePlan> {
    const only = parties ?? undefined;
    // In the order the page takes them: the newest first paging back, the oldest first paging forward.
    const rows =
      ask.since !== undefined
        ? (await this.log.since(conv, ask.since, ask.limit + 1, only)).filter((e) => e.id <= ask.upto)
        : (await this.log.before(conv, Math.min(ask.before ?? Infinity, ask.upto + 1), ask.limit + 1, only)).reverse();
    return planFrom(readOf(rows), conv, parties, ask);
  }

  async frames(
    conv: ConversationKey,
    parties: readonly string[] | null,
    plan: PagePlan,
    where: AnswerWhere,
    maxFrame: number,
  ): Promise<Buffer[]> {
    const rows = plan.count === 0 ? [] : await this.log.after(conv, plan.first - 1, plan.count, parties ?? undefined);
    return answerFrames(readOf(rows), conv, parties, plan, where, maxFrame);
  }

  close(): void {}
}
