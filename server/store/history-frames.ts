/**
 * History as frames: stored entries in the wire's shape, cut into HISTORY
 * frames that each fit the largest frame body (an entry's text is at most
 * maxText, half a frame, so every frame holds at least one).
 */
import { encodeMessage, type ServerMessage } from '../../common/protocol.js';
import type { HistoryEntry } from '../../common/messages.js';
import type { StoredEntry } from './history.js';

/** Room for the frame's own fields around its entries. */
const FRAME_OVERHEAD = 512;

export function historyEntry(e: StoredEntry): HistoryEntry {
  const h: HistoryEntry = { id: e.id, ts: e.ts, from: e.from, text: e.text, action: e.kind === 'action' };
  if (e.to !== undefined) h.to = e.to;
  return h;
}

/** `where`: the answer's id and its room or pair; missed: what a resuming session missed. An empty history is one frame with no entries. */
export function historyFrames(where: { id?: number; room?: string; with?: string; missed?: true }, entries: StoredEntry[], more: boolean, maxFrame: number): Buffer[] {
  const budget = maxFrame - FRAME_OVERHEAD;
  const chunks: HistoryEntry[][] = [[]];
  let size = 0;
  for (const e of entries.map(historyEntry)) {
    const bytes = Buffer.byteLength(JSON.stringify(e)) + 1;
    if (size + bytes > budget && chunks.at(-1)!.length > 0) {
      chunks.push([]);
      size = 0;
    }
    chunks.at(-1)!.push(e);
    size += bytes;
  }
  return chunks.map((chunk, i) => encodeMessage({ type: 'HISTORY', ...where, entries: chunk, done: i === chunks.length - 1, more } satisfies ServerMessage));
}
