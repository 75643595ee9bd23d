/**
 * The per-user upload quota (--max-upload-per-user) as the file service sees it: what a user has uploaded, a
 * reservation made before an upload's first byte, and the moves of a partial kept for resume. Asynchronous, as a
 * shared store's answers are: one node counts in its shared memory (`LedgerQuota`, over shm/upload-ledger.ts, its
 * answers ready at once); a cluster's node counts in Redis for every node (cluster/cluster-uploads.ts). The file
 * service never asks which one it has.
 */
import { LftpError } from '../../common/lftp/engine/errors.js';
import { formatBytes } from '../../common/units.js';
import type { UploadLedger } from '../shm/upload-ledger.js';

/** A reservation: taken (release() gives it back if the upload is not stored), or refused with what is used. */
export type QuotaReservation = { ok: true; release(): void } | { ok: false; used: number; full: boolean };

export interface UploadQuota {
  /** The most one user may upload. */
  readonly maxPerUser: number;
  /** What nick has uploaded (stored, in progress, and partials kept for resume). */
  used(nick: string): Promise<number>;
  /** Counts size against nick's quota unless it would pass it (`full`: no room to count one more user). */
  reserve(nick: string, size: number): Promise<QuotaReservation>;
  /** Moves nick's count by delta whatever the quota (a partial kept, one dropped; never below 0). */
  adjust(nick: string, delta: number): void;
}

/** One node's quota: the ledger its workers share. */
export class LedgerQuota implements UploadQuota {
  constructor(
    readonly ledger: UploadLedger,
    readonly maxPerUser: number,
  ) {}

  used(nick: string): Promise<number> {
    return Promise.resolve(this.ledger.used(nick));
  }

  reserve(nick: string, size: number): Promise<QuotaReservation> {
    return Promise.resolve(this.ledger.reserve(nick, size, this.maxPerUser));
  }

  adjust(nick: string, delta: number): void {
    this.ledger.adjust(nick, delta);
  }
}

/** Why `size` more does not fit nick's quota, which holds `used`. */
export function quotaText(quota: UploadQuota, nick: string, size: number, used: number): string {
  return `${nick} has uploaded ${formatBytes(used)} of the ${formatBytes(quota.maxPerUser)} one user may; ${formatBytes(size)} more does not fit`;
}

/** The quota's store did not answer (a cluster's Redis unreachable): the upload waits for a later try. */
function unreachable(err: unknown): LftpError {
  return new LftpError(
    'BUSY',
    `the server cannot count your uploads now (${(err as Error).message}); try again in a moment`,
  );
}

/** What nick has uploaded; LftpError BUSY when it cannot be asked. */
export function usedQuota(quota: UploadQuota, nick: string): Promise<number> {
  return quota.used(nick).catch((err: unknown) => {
    throw unreachable(err);
  });
}

/**
 * Counts an upload of `size` against nick's quota (none: nothing to count): the function that gives it back.
 * Throws LftpError NO_SPACE when it does not fit, BUSY when the quota cannot count it now.
 */
export async function reserveQuota(quota: UploadQuota | null, nick: string, size: number): Promise<() => void> {
  if (!quota) return () => undefined;
  const r = await quota.reserve(nick, size).catch((err: unknown) => {
    throw unreachable(err);
  });
  if (r.ok) return r.release;
  if (r.full)
    throw new LftpError('BUSY', 'the server is tracking uploads for as many users as it can; try again later');
  throw new LftpError('NO_SPACE', quotaText(quota, nick, size, r.used));
}
