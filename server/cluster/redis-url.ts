/**
 * `--redis URL` (or CHAT_REDIS_URL): where the cluster's Redis is.
 * redis://[user:pass@]HOST:PORT[/DB], or rediss:// for TLS, or
 * redis-sentinel://[user:pass@]HOST:PORT[,HOST:PORT...]/MASTER[/DB]: the
 * Sentinels that know which server is the master named MASTER now
 * (sentinel-link.ts follows a failover). Checked before anything starts, so
 * that a typo is a usage error with the reason, not a connection that retries
 * for ever; the password never reaches a log line.
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
  /** redis-sentinel://: the Sentinels to ask (host, port: the first of them) and the master's name. */
  sentinel?: { nodes: Array<{ host: string; port: number }>; name: string; auth: string };
}

const DEFAULT_SENTINEL_PORT = 26379;
const SENTINEL = /^redis-sentinel:\/\/(?:([^@/]*)@)?([^/]+)\/([^/]+?)(?:\/(\d{1,5}))?\/?$/;

function parseSentinelUrl(text: string): RedisTarget {
  const m = SENTINEL.exec(text);
  if (!m)
    throw new ClusterError(
      'REDIS_URL',
      `--redis: "${withoutPassword(text)}" is not redis-sentinel://HOST:PORT[,HOST:PORT...]/MASTER[/DB]`,
    );
  const nodes = m[2]!.split(',').map((hp) => {
    const at = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(hp);
    const port = at?.[2] === undefined ? DEFAULT_SENTINEL_PORT : Number(at[2]);
    if (!at || port < 1 || port > 65535)
      throw new ClusterError('REDIS_URL', `--redis: "${hp}" is not a Sentinel's HOST:PORT`);
    return { host: at[1]!.replace(/^\[|\]$/g, ''), port };
  });
  const auth = m[1] ?? '';
  const masked = auth.includes(':') ? `${auth.slice(0, auth.indexOf(':'))}:***@` : auth ? `${auth}@` : '';
  return {
    url: text,
    tls: false,
    host: nodes[0]!.host,
    port: nodes[0]!.port,
    db: m[4] === undefined ? 0 : Number(m[4]),
    shown: `redis-sentinel://${masked}${m[2]}/${m[3]}${m[4] === undefined ? '' : `/${m[4]}`}`,
    sentinel: { nodes, name: decodeURIComponent(m[3]!), auth },
  };
}

const DEFAULT_PORT = 6379;
/** Redis's default number of databases is 16; a server may have more, so any non-negative integer passes here. */
const DB_PATTERN = /^\/(\d{1,5})?$/;

export function parseRedisUrl(text: string): RedisTarget {
  if (text.startsWith('redis-sentinel://')) return parseSentinelUrl(text);
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new ClusterError(
      'REDIS_URL',
      `--redis: "${withoutPassword(text)}" is not a URL (redis://HOST:PORT[/DB] or rediss://…)`,
    );
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new ClusterError(
      'REDIS_URL',
      `--redis: the scheme must be redis://, rediss:// (TLS) or redis-sentinel://, not ${u.protocol}//`,
    );
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

/** The text with what may be a password (between // and the last @ before the host) masked, for error messages. */
function withoutPassword(text: string): string {
  return text.replace(/\/\/[^/]*@/, '//***@');
}
