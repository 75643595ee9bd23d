/**
 * DNS rebinding: a page on evil.example can make its own name resolve to this
 * server's address, and the browser then treats the chat page, the files and
 * the dashboard as evil.example's, Origin and all (the Origin check compares
 * with a Host header the attacker chose). The defence is the Host header
 * itself: the web side answers only to names it was told are its own
 * (--web-host), by default the addresses it listens on, localhost, and this
 * machine's host name. An attacker's domain is none of them. The Origin
 * check itself (originAllowed, for WebSockets and uploads) is here too.
 */
import type { IncomingMessage } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';

/**
 * True when a browser request comes from a page this server served. Browsers
 * always send Origin with a WebSocket handshake; a request without one is not
 * from a page (curl, a script) and cannot ride on a user's session, so it passes.
 */
export function originAllowed(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const host = req.headers.host;
  if (!host) return false;
  return origin === `http://${host}` || origin === `https://${host}`;
}

export class HostAllowList {
  private readonly names: ReadonlySet<string>;

  constructor(names: Iterable<string>) {
    this.names = new Set([...names].map(normalise));
  }

  /**
   * The default for a server listening on listenHost: that address (every
   * interface's when it is a wildcard), localhost, and the host name.
   */
  static forListenAddress(listenHost: string, extra: readonly string[] = []): HostAllowList {
    const names = new Set<string>(['localhost', '127.0.0.1', '::1', ...extra]);
    const host = hostname();
    if (host) names.add(host).add(`${host}.local`);
    if (listenHost === '0.0.0.0' || listenHost === '::' || listenHost === '') {
      for (const list of Object.values(networkInterfaces()))
        for (const a of list ?? []) names.add(a.address.split('%')[0]!);
    } else {
      names.add(listenHost);
    }
    return new HostAllowList(names);
  }

  /** A Host header value ("name", "name:port", "[v6]:port") this server answers to; no header at all is not a browser. */
  allows(header: string | undefined): boolean {
    if (header === undefined) return true;
    return this.names.has(normalise(stripPort(header)));
  }

  /** For the refusal: what the server answers to. */
  describe(): string {
    return [...this.names].slice(0, 8).join(', ') + (this.names.size > 8 ? ', …' : '');
  }
}

function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end > 0 ? host.slice(1, end) : host;
  }
  const colon = host.lastIndexOf(':');
  // More than one colon without brackets: a bare IPv6 address, no port.
  return colon >= 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}

function normalise(name: string): string {
  const n = name.trim().toLowerCase().replace(/\.$/, '');
  return isIP(n) === 6 && n.startsWith('::ffff:') && n.includes('.') ? n.slice(7) : n;
}
