/**
 * What can go wrong between a node and the cluster's Redis: a URL that cannot
 * be one (REDIS_URL, a usage error), a Redis that cannot be reached at start
 * (REDIS_UNREACHABLE), another live node with this node's id
 * (NODE_ID_IN_USE), live nodes of another format generation
 * (CLUSTER_GENERATION: generation.ts), and a command that failed once it was running
 * (REDIS_FAILED: the link dropped, the server refused), or was under way on
 * a connection that the link's watchdog dropped as silent (REDIS_SILENT:
 * link-watchdog.ts; nobody knows whether Redis ran it).
 */
import { ExitCode, HeartbeatChatError } from '../../common/errors.js';

export type ClusterErrorCode =
  | 'REDIS_URL'
  | 'REDIS_UNREACHABLE'
  | 'REDIS_FAILED'
  | 'REDIS_SILENT'
  | 'NODE_ID_IN_USE'
  | 'CLUSTER_GENERATION';

export class ClusterError extends HeartbeatChatError {
  constructor(
    override readonly code: ClusterErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
  }

  override get exitCode(): ExitCode {
    return this.code === 'REDIS_URL' ? ExitCode.USAGE : ExitCode.FAILURE;
  }
}

/** A Redis command's failure as a ClusterError (one already is stays as it is). */
export function redisFailure(what: string, err: unknown): ClusterError {
  if (err instanceof ClusterError) return err;
  return new ClusterError('REDIS_FAILED', `${what}: ${(err as Error).message}`, { cause: err });
}
