/**
 * Lua scripts run on the cluster's Redis: each one step for every node (Redis
 * runs a script whole, nothing between its commands). Sent by hash (EVALSHA)
 * and only in full when the server does not have it yet (NOSCRIPT: a new or
 * restarted Redis).
 */
import { createHash } from 'node:crypto';
import type { RedisLink } from './redis-link.js';

export class LuaScript {
  private readonly sha: string;

  constructor(
    readonly name: string,
    private readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(link: RedisLink, keys: string[], args: Array<string | Buffer>): Promise<unknown> {
    try {
      return await link.evalSha(this.sha, { keys, arguments: args });
    } catch (err) {
      if (!/NOSCRIPT/.test((err as Error).message)) throw err;
      return link.eval(this.source, { keys, arguments: args });
    }
  }
}
