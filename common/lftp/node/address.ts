import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import { UsageError } from '../../errors.js';

/** "host:port" and "[v6]:port" as given on command lines. */
export function parseHostPort(value: string, what = 'address'): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(value) ?? /^([^:]+):(\d+)$/.exec(value);
  if (!m) throw new UsageError(`${what} must be HOST:PORT (or [IPv6]:PORT), got ${JSON.stringify(value)}`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new UsageError(`${what}: port ${port} is out of range (1-65535)`);
  return { host: m[1]!, port };
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * dgram's `lookup` for a server socket that only ever answers the literal
 * address a datagram came from. dns.lookup answers a literal through
 * process.nextTick, which put a tick and a closure on every data packet sent;
 * this answers at once and leaves names to dns.lookup.
 */
export function literalFirstLookup(hostname: string, options: LookupOneOptions, callback: LookupCallback): void {
  const family = isIP(hostname);
  if (family !== 0) {
    callback(null, hostname, family);
    return;
  }
  dnsLookup(hostname, options, callback);
}
