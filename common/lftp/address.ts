/** "host:port" and "[v6]:port" as given on command lines. */
import { UsageError } from '../errors.js';

export function parseHostPort(value: string, what = 'address'): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(value) ?? /^([^:]+):(\d+)$/.exec(value);
  if (!m) throw new UsageError(`${what} must be HOST:PORT (or [IPv6]:PORT), got ${JSON.stringify(value)}`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new UsageError(`${what}: port ${port} is out of range (1-65535)`);
  return { host: m[1]!, port };
}
