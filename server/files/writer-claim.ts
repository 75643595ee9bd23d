/**
 * A resuming post's writer claim on its partial (docs/LFTP.md, "Resume"): taken, or taken over from the same
 * uploader's earlier upload from the same address, whose client was cut (most likely this is that client run
 * again) and which the server has not given up yet: ended on this endpoint, or on the worker whose endpoint runs
 * it (a chat server's workers share the UDP port, and the kernel picks one per source port, so a client run again
 * lands on another worker about half the time). Anyone else's writer refuses the post (BUSY): another address, an
 * HTTP upload (a browser's TCP connection ends with its process, so one still writing is alive), or an earlier
 * upload that did not give way within the bounded wait.
 */
import { LftpError } from '../../common/lftp/engine/errors.js';
import type { GiveWay } from '../shm/partial-writers.js';
import type { FileService } from './file-service.js';
import type { Entry } from './lftp-entry.js';
import type { OtherWorkers } from './lftp-server-api.js';

/** What the endpoint the SYN reached offers: its own transfers (giveWayOn its transfers writing partials), the other workers. */
export interface WriterHandoff {
  giveWay(key: string, address: string): Promise<GiveWay>;
  others: OtherWorkers | undefined;
}

/**
 * A new post of the partial `key` from `address` takes over: the endpoint's transfer writing it (`writing`, by
 * key) from that address is ended, and the answer comes once its partial is recorded and its writer claim given
 * back. A transfer from another address is left running.
 */
export async function giveWayOn(writing: ReadonlyMap<string, Entry>, key: string, address: string): Promise<GiveWay> {
  const earlier = writing.get(key);
  if (!earlier) return 'none';
  if (earlier.remote.address !== address) return 'other-address';
  earlier.driver.apply((c) => c.abort('a new upload of the same file took over'));
  await earlier.finished;
  await earlier.sinkClosed;
  return 'ended';
}

export async function claimWriter(
  files: Pick<FileService, 'tryClaimPartial' | 'claimPartial'>,
  handoff: WriterHandoff,
  /** `key`: the partial's resumeKey (lftp-resume.ts) of `name` by `owner`. */
  r: { key: string; name: string; owner: string | undefined; address: string },
): Promise<() => void> {
  const { key } = r;
  await handoff.giveWay(key, r.address);
  const first = files.tryClaimPartial(r.name, r.owner, 'lftp');
  if (typeof first === 'function') return first;
  const others = handoff.others;
  if (first !== null && first.door === 'lftp' && others && first.worker >= 0 && first.worker !== others.self) {
    // The holder answers once its transfer's partial is recorded and the claim given back, or says why not.
    const answer = await others.giveWay(first.worker, key, r.address);
    if (answer === 'timeout')
      throw new LftpError(
        'BUSY',
        `${JSON.stringify(r.name)} is being received already, and that upload did not stop within ${others.waitMs / 1000} s; try again`,
      );
  }
  // Whoever holds it now (another address's upload, an HTTP upload, a post that came first) refuses this one.
  return files.claimPartial(r.name, r.owner, 'lftp');
}
