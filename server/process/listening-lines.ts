/** What the server prints once it listens: its ports, whether they are encrypted, where the files are. */
import { hostname, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';

export interface Listening {
  host: string;
  workers: number;
  port: number;
  lftpPort: number;
  httpPort: number | null;
  /** The IRC door's port, or null (--no-irc). */
  ircPort?: number | null;
  /** The certificate's line (certificate.ts startTls), or null: plain TCP and HTTP. */
  tlsLine: string | null;
  filesDir: string;
  admin: boolean;
  /** Which datagram path LFTP takes (common/lftp/native/load.ts datagramPath). */
  datagramPath?: string;
}

/** This machine as the web side sees it (os.networkInterfaces, os.hostname); tests give their own. */
export interface Machine {
  hostname: string;
  interfaces: NodeJS.Dict<Array<{ address: string; family: string | number; internal: boolean }>>;
}

const THIS_MACHINE = (): Machine => ({ hostname: hostname(), interfaces: networkInterfaces() });

export function listeningLines(l: Listening, machine: Machine = THIS_MACHINE()): string[] {
  const tls = l.tlsLine !== null;
  const lines = [
    `listening on tcp ${l.host}:${l.port} (${l.workers} worker${l.workers === 1 ? '' : 's'}${tls ? ', TLS' : ', no TLS'})`,
  ];
  if (l.tlsLine) lines.push(l.tlsLine);
  lines.push(`lftp on udp ${l.host}:${l.lftpPort}, sharing ${l.filesDir}`);
  if (l.datagramPath) lines.push(`lftp datagrams: ${l.datagramPath}`);
  if (l.ircPort != null) lines.push(`irc on tcp ${l.host}:${l.ircPort} (${tls ? 'TLS' : 'no TLS'})`);
  if (l.httpPort !== null)
    lines.push(
      `web on ${webUrls(l.host, l.httpPort, tls, '/', machine).join(', ')} (chat page${l.admin ? '; dashboard at /admin' : ''})`,
    );
  return lines;
}

/**
 * URLs of the web side that open: names it answers to (server/web/host-check.ts HostAllowList.forListenAddress:
 * the addresses it listens on, localhost, this machine's host name) that reach the address it listens on. A
 * wildcard (0.0.0.0, ::) is no address to browse to: localhost, this machine's addresses (IPv6 ones only when
 * listening on ::; no link-local one, which needs a zone no URL carries) and its host name. 127.0.0.1 or ::1:
 * itself and localhost. Any other address or name: itself.
 */
export function webUrls(host: string, port: number, tls: boolean, path = '/', machine = THIS_MACHINE()): string[] {
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  const names: string[] = [];
  if (wildcard) {
    names.push('localhost');
    for (const list of Object.values(machine.interfaces))
      for (const a of list ?? []) {
        const v6 = a.family === 'IPv6' || a.family === 6;
        if (a.internal || (v6 && (host !== '::' || /^fe80:/i.test(a.address)))) continue;
        names.push(a.address.split('%')[0]!);
      }
    if (machine.hostname) names.push(machine.hostname);
  } else {
    names.push(host);
    if (isLoopback(host)) names.push('localhost');
  }
  const scheme = tls ? 'https' : 'http';
  return [...new Set(names)].map((name) => `${scheme}://${isIP(name) === 6 ? `[${name}]` : name}:${port}${path}`);
}

/** Where localhost leads (127.0.0.1, or ::1; a browser tries both). */
function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === '::1';
}
