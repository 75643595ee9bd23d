/**
 * A HISTORY_REQUEST's answer, worked out in two steps so that its cost is
 * known before the text is read (history-reads.ts charges it first): a plan
 * (which ids, how many bytes of text, from the ids and their sizes alone)
 * and then the entries themselves, as frames. Both read a ReadSource: the
 * reader thread's own read-only connection (history-reader-main.ts), or,
 * without one, the store's (unit tests, --no-history).
 */
import type { ConversationKey, StoredEntry } from './history.js';
import { ANSWER_MAX_TEXT, historyFrames } from './history-frames.js';

/** Which page: before an id (paging back; the newest first taken) or since a time (paging forward), up to `upto`. */
export interface PageAsk {
  before?: number;
  since?: number;
  /** The conversation's last id where the request took its place in the order: nothing later is in the answer. */
  upto: number;
  limit: number;
}

/** What an answer holds: ids first..last (count of them, none when 0), about `bytes` on the wire; `more` beyond. */
export interface PagePlan {
  first: number;
  last: number;
  count: number;
  bytes: number;
  more: boolean;
}

/** Where the answer's fields go: the request's id and its room or the other nick. */
export interface AnswerWhere {
  id: number;
  room?: string;
  with?: string;
}

export interface ReadSource {
  /**
   * The page's ids with their text's size in bytes, in the order the page takes them (the newest first paging
   * back, the oldest first paging forward), at most limit + 1 (one more says there is more). `parties`: only
   * the direct messages one of them took part in.
   */
  sizes(conv: ConversationKey, parties: readonly string[] | null, ask: PageAsk): Array<[id: number, bytes: number]>;
  /** The entries first..last, in id order. */
  entries(conv: ConversationKey, parties: readonly string[] | null, first: number, last: number): StoredEntry[];
}

/** Nothing kept (--no-history): every page is empty. */
export const EMPTY_SOURCE: ReadSource = { sizes: () => [], entries: () => [] };

/** An entry's fields around its text, in bytes, about (what the plan adds to the text's size). */
const ENTRY_OVERHEAD = 96;

/**
 * The plan from the sizes: at most `limit` entries and `maxText` bytes of text (at least one entry), the ones
 * nearest the end asked for (newest paging back, oldest paging forward); `more` when some were left.
 */
export function planPage(rows: Array<[number, number]>, limit: number, maxText = ANSWER_MAX_TEXT): PagePlan {
  let more = rows.length > limit;
  let text = 0;
  let taken = 0;
  for (const [, bytes] of rows.slice(0, limit)) {
    if (taken > 0 && text + bytes > maxText) {
      more = true;
      break;
    }
    text += bytes;
    taken++;
  }
  if (taken === 0) return { first: 0, last: 0, count: 0, bytes: 0, more };
  const ids = rows.slice(0, taken).map(([id]) => id);
  return {
    first: Math.min(...ids),
    last: Math.max(...ids),
    count: taken,
    bytes: text + ENTRY_OVERHEAD * taken,
    more,
  };
}

export function planFrom(source: ReadSource, conv: ConversationKey, parties: readonly string[] | null, ask: PageAsk) {
  return planPage(source.sizes(conv, parties, ask), ask.limit);
}

/** The answer as HISTORY frames (one with no entries when the plan is empty). */
export function answerFrames(
  source: ReadSource,
  conv: ConversationKey,
  parties: readonly string[] | null,
  plan: PagePlan,
  where: AnswerWhere,
  maxFrame: number,
): Buffer[] {
  const entries = plan.count === 0 ? [] : source.entries(conv, parties, plan.first, plan.last);
  return historyFrames(where, entries, plan.more, maxFrame);
}

/** An answer's frames in one buffer, to be handed from thread to thread without a copy (transferred). */
export interface PackedFrames {
  buffer: ArrayBuffer;
  lengths: number[];
}

export function packFrames(frames: Buffer[]): PackedFrames {
  const buffer = new ArrayBuffer(frames.reduce((n, f) => n + f.length, 0));
  const bytes = new Uint8Array(buffer);
  let at = 0;
  for (const f of frames) {
    bytes.set(f, at);
    at += f.length;
  }
  return { buffer, lengths: frames.map((f) => f.length) };
}

/** The frames again, as views of the one buffer. */
export function unpackFrames(packed: PackedFrames): Buffer[] {
  let at = 0;
  return packed.lengths.map((n) => {
    const f = Buffer.from(packed.buffer, at, n);
    at += n;
    return f;
  });
}

/** Frames as one transferable buffer: as they are when they are views of one whole buffer (unpackFrames), else copied. */
export function asPacked(frames: Buffer[]): PackedFrames {
  const buffer = frames[0]?.buffer;
  let at = 0;
  for (const f of frames) {
    if (f.buffer !== buffer || f.byteOffset !== at) return packFrames(frames);
    at += f.length;
  }
  return buffer instanceof ArrayBuffer && at === buffer.byteLength
    ? { buffer, lengths: frames.map((f) => f.length) }
    : packFrames(frames);
}
