/**
 * What a dead worker held in shared memory, given back: the locks its thread
 * held (robust-mutex repair), its sessions (kept away if they can be resumed,
 * else freed), and its addresses, tickets and sockets.
 */
import { SharedMutex } from '../../common/shared-mutex.js';
import type { OrphanedSession } from '../shm/session-table.js';
import type { SharedParts } from './worker-config.js';
import type { DeadWorker } from './worker-pool.js';

export interface WorkerRepair {
  /** It held the session table's lock: released. */
  lockRepaired: boolean;
  /** It held the address table's lock: released. */
  addressLockRepaired: boolean;
  /** Its sessions as they were: away if they can be resumed, else freed. */
  orphans: OrphanedSession[];
}

export async function releaseDeadWorker(shared: SharedParts, dead: DeadWorker): Promise<WorkerRepair> {
  const { table, addresses } = shared;
  const lockRepaired = SharedMutex.releaseIfHeldBy(table.i32, table.lockWordIndex, dead.threadId);
  const orphans = await table.mutex.withLockAsync(() => table.orphanOwnedByLocked(dead.index));
  const addressLockRepaired = SharedMutex.releaseIfHeldBy(addresses.i32, addresses.lockWordIndex, dead.threadId);
  await addresses.releaseWorker(dead.index);
  SharedMutex.releaseIfHeldBy(shared.tickets.i32, shared.tickets.lockWordIndex, dead.threadId);
  shared.tickets.releaseWorker(dead.index);
  SharedMutex.releaseIfHeldBy(shared.writers.i32, shared.writers.lockWordIndex, dead.threadId);
  shared.writers.releaseWorker(dead.index);
  shared.sockets.releaseWorker(dead.index);
  for (const t of [shared.uploads, shared.throttle])
    SharedMutex.releaseIfHeldBy(new Int32Array(t.buffer), t.lockWordIndex, dead.threadId);
  return { lockRepaired, addressLockRepaired, orphans };
}
