/**
 * A cluster's secrets (secret-source.ts): one Redis key per secret, set once
 * by whichever node asks first (SET NX) and read by every node after, so that
 * a ticket issued on one node opens on another and a dashboard cookie made by
 * one is good on all. Read once per run and kept: a secret never changes
 * while the key lives (nothing expires it; deleting it by hand makes new
 * ones at the next start, ending every cookie).
 */
import { randomBytes } from 'node:crypto';
import { redisFailure } from '../cluster/cluster-error.js';
import type { RedisLink } from '../cluster/redis-link.js';
import { SECRET_BYTES, secretFromHex, type SecretName, type SecretSource } from './secret-source.js';

export class RedisSecrets implements SecretSource {
  private readonly kept = new Map<SecretName, Buffer>();

  constructor(
    private readonly link: RedisLink,
    /** The cluster's key prefix (cluster/keys.ts). */
    private readonly prefix: string,
  ) {}

  async secret(name: SecretName): Promise<Buffer> {
    let s = this.kept.get(name);
    if (!s) {
      const key = `${this.prefix}secret:${name}`;
      try {
        await this.link.set(key, randomBytes(SECRET_BYTES).toString('hex'), { condition: 'NX' });
        const kept = secretFromHex(await this.link.get(key));
        if (!kept)
          throw new Error(`${key} holds no secret (${SECRET_BYTES} bytes in hex): delete it, and it is made anew`);
        s = kept;
      } catch (err) {
        throw redisFailure(`cannot read the cluster's ${name} secret`, err);
      }
      this.kept.set(name, s);
    }
    return Buffer.from(s);
  }
}
