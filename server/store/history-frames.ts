/**
 * History as frames: stored entries in the wire's shape, cut into HISTORY
 * frames that each fit the largest frame body (an entry's text is at most
 * maxText, half a frame, so every frame holds at least one).
 */
import { FrameType } from '../../common/protocol.js';
import { encodeFrame } from '../../common/frame.js';
import type { HistoryEntry } from '../../common/messages.js';
import type { StoredEntry } from './history.js';

/** Room for the frame's own fields around its entries. */
const FRAME_OVERHEAD = 512;

/**
 * The message text one answer from the history carries at most (on joining,
 * to a HISTORY_REQUEST): 200 of the largest messages at the default
 * --max-frame fit (6.5 MB); with a larger --max-frame an answer stops there,
 * with `more`, instead of being 200 × 8 MB. At least one entry always goes.
 */
export const ANSWER_MAX_TEXT = 8 * 1024 * 1024;

/**
 * The entries (in id order) an answer keeps within `maxText` bytes of text:
 * the newest of them, or (paging forward) the oldest; `cut` when some did not fit.
 */
export function answerWithin(
  entries: StoredEntry[],
  keep: 'newest' | 'oldest',
  maxText = ANSWER_MAX_TEXT,
): { kept: StoredEntry[]; cut: boolean } {
  const n = entries.length;
  let taken = 0;
  for (let bytes = 0; taken < n; taken++) {
    bytes += Buffer.byteLength(entries[keep === 'newest' ? n - 1 - taken : taken]!.text);
    if (bytes > maxText && taken > 0) break;
  }
  return { kept: keep === 'newest' ? entries.slice(n - taken) : entries.slice(0, taken), cut: taken < n };
}

export function historyEntry(e: StoredEntry): HistoryEntry {
  const h: HistoryEntry = {
    id: e.id,
    ts: e.ts,
    from: e.from,
    text: e.text,
    action: e.kind === 'action' || e.kind === 'direct-action',
  };
  if (e.to !== undefined) h.to = e.to;
  return h;
}

/**
 * `where`: the answer's id and its room or pair; missed: what a resuming session missed.
 * An empty history is one frame with no entries. Each entry is turned into JSON once,
 * and the frames are put together from those pieces: a replay frames hundreds of thousands.
 */
export function historyFrames(
  where: { id?: number; room?: string; with?: string; missed?: true },
  entries: StoredEntry[],
  more: boolean,
  maxFrame: number,
): Buffer[] {
  const budget = maxFrame - FRAME_OVERHEAD;
  const chunks: string[][] = [[]];
  let size = 0;
  for (const e of entries) {
    const json = JSON.stringify(historyEntry(e));
    const bytes = Buffer.byteLength(json) + 1;
    if (size + bytes > budget && chunks.at(-1)!.length > 0) {
      chunks.push([]);
      size = 0;
    }
    chunks.at(-1)!.push(json);
    size += bytes;
  }
  // The fields around the entries, as encodeMessage would write them (the decoder does not care about their order).
  const head = JSON.stringify(where).slice(0, -1);
  const type = FrameType.HISTORY;
  return chunks.map((chunk, i) => {
    const body = `${head}${head.length > 1 ? ',' : ''}"entries":[${chunk.join(',')}],"done":${i === chunks.length - 1},"more":${more}}`;
    return encodeFrame(type, Buffer.from(body, 'utf8'));
  });
}
