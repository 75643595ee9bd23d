/**
 * `--redis URL` (or CHAT_REDIS_URL): where the cluster's Redis is.
 * redis://[user:pass@]HOST:PORT[/DB], or rediss:// for TLS. Checked before
 * anything starts, so that a typo is a usage error with the reason, not a
 * connection that retries for ever; the password never reaches a log line.
 */
import { ClusterError } from './cluster-error.js';

export interface RedisTarget {
  /** What the client connects with, password included. */
  url: string;
  tls: boolean;
  host: string;
  port: number;
  db: number;
  /** The URL with its password masked: what logs and start-up lines show. */
  shown: string;
}

const DEFAULT_PORT = 6379;
/** Redis's default number of databases is 16; a server may have more, so any non-negative integer passes here. */
const DB_PATTERN = /^\/(\d{1,5})?$/;

export function parseRedisUrl(text: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new ClusterError('REDIS_URL', `--redis: "${text}" is not a URL (redis://HOST:PORT[/DB] or rediss://…)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new ClusterError('REDIS_URL', `--redis: the scheme must be redis:// or rediss:// (TLS), not ${u.protocol}//`);
  if (u.hostname === '') throw new ClusterError('REDIS_URL', '--redis: the URL names no host');
  const path = u.pathname === '' ? '/' : u.pathname;
  const db = DB_PATTERN.exec(path);
  if (!db || u.search !== '' || u.hash !== '')
    throw new ClusterError(
      'REDIS_URL',
      `--redis: after HOST:PORT only /DB may follow (a database number), not ${path}${u.search}${u.hash}`,
    );
  const port = u.port === '' ? DEFAULT_PORT : Number(u.port);
  const shown = new URL(u.href);
  if (shown.password !== '') shown.password = '***';
  return {
    url: u.href,
    tls: u.protocol === 'rediss:',
    host: u.hostname,
    port,
    db: db[1] === undefined ? 0 : Number(db[1]),
    shown: shown.href,
  };
}
