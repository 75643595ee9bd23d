/**
 * Sending the room log's append again until Redis answers (redis-room-log.ts): a script whose answer was lost
 * (the link dropped with it under way, or its answer came past the command's bound) may have run, or may still
 * run; the append script keeps its turn's token and answer (room-log-scripts.ts APPEND), so sending it again
 * stores nothing twice and gives the same ids, or stores it now if it never ran. It is sent again every RETRY_MS
 * for RESOLVE_MS after the first answer lost; past that the turn is in doubt (StoreError STORE_IN_DOUBT), and its
 * sender is told so.
 * A failure that says the script did not run (Redis refused it, or it never left the node) is the turn's answer
 * at once, as before.
 */
import { failedCommand } from '../cluster/redis-link.js';
import { StoreError } from './store-error.js';

/** How long a turn whose answer was lost is sent again before it is given up as in doubt. */
export const RESOLVE_MS = 5000;
const RETRY_MS = 200;

export async function sendUntilAnswered<T>(
  send: () => Promise<T>,
  opts: { resolveMs?: number; retryMs?: number } = {},
): Promise<T> {
  let lostSince: number | null = null;
  let last: unknown;
  for (;;) {
    try {
      return await send();
    } catch (err) {
      last = err;
      const what = failedCommand(err);
      // Refused, or never sent, with no earlier try in doubt: the script did not run.
      if (what !== 'unknown' && lostSince === null) throw err;
      lostSince ??= Date.now();
      // Refused after a try in doubt (out of memory, say): that try's fate is still unknown.
      if (what === 'refused' || Date.now() - lostSince >= (opts.resolveMs ?? RESOLVE_MS)) break;
      await new Promise((r) => setTimeout(r, opts.retryMs ?? RETRY_MS));
    }
  }
  throw new StoreError(
    'STORE_IN_DOUBT',
    `the cluster's Redis stopped answering while the messages were being stored (${(last as Error).message})`,
  );
}

/** A failed append as the store's error: in doubt (as it is), Redis out of memory (STORE_FULL), or failing (STORE_IO). */
export function appendFailure(err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const full = /OOM/.test((err as Error).message);
  return new StoreError(
    full ? 'STORE_FULL' : 'STORE_IO',
    `the cluster's Redis refused the messages: ${(err as Error).message}`,
  );
}
