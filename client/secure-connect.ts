/**
 * The client's connection to the chat port, plain or TLS. With TLS the
 * server is trusted when its certificate is valid for the host name against
 * the system's CAs or --ca; failing that (a LAN server's own certificate),
 * on first use: its SHA-256 is remembered per host:port in known_hosts, as
 * SSH does, and a different one later is refused with a warning that says
 * how to accept it. Nothing (HELLO, a resume token) is written before the
 * server is trusted: the socket emits 'chat-ready' only then.
 */
import net from 'node:net';
import tls from 'node:tls';
import { appendFileSync } from 'node:fs';
import { HeartbeatChatError } from '../common/errors.js';
import { KnownHosts } from './known-hosts.js';

export interface ClientTls {
  /** --ca: the only certificates trusted (PEM); null: the system's CAs, then trust on first use. */
  ca: string | null;
  caFile: string | null;
  knownHosts: string;
  keylog: string | null;
}

/** A certificate the client will not trust: the connection ends, and it does not try again. */
export class UntrustedServer extends HeartbeatChatError {
  declare readonly code: 'TLS_UNTRUSTED';
  constructor(message: string) {
    super('TLS_UNTRUSTED', message);
  }
}

export function connectChat(host: string, port: number, t: ClientTls | null, say: (line: string) => void): net.Socket {
  if (!t) {
    const s = net.connect({ host, port, noDelay: true });
    s.once('connect', () => s.emit('chat-ready'));
    return s;
  }
  const servername = net.isIP(host) ? undefined : host;
  const s = tls.connect({
    host,
    port,
    ...(servername ? { servername } : {}),
    rejectUnauthorized: false,
    ...(t.ca ? { ca: t.ca } : {}),
  });
  s.setNoDelay(true);
  if (t.keylog) s.on('keylog', (line: Buffer) => appendFileSync(t.keylog!, line, { mode: 0o600 }));
  s.once('secureConnect', () => {
    const why = trust(s, host, port, t, say);
    if (why) s.destroy(new UntrustedServer(why));
    else s.emit('chat-ready');
  });
  return s;
}

/** null when the server is trusted; otherwise why not. */
function trust(s: tls.TLSSocket, host: string, port: number, t: ClientTls, say: (line: string) => void): string | null {
  if (s.authorized) return null;
  const reason = String(s.authorizationError ?? 'unknown');
  if (t.caFile) return `the server's certificate is not one --ca ${t.caFile} vouches for (${reason})`;
  const fingerprint = s.getPeerCertificate().fingerprint256;
  const known = new KnownHosts(t.knownHosts);
  const seen = known.get(host, port);
  if (seen === fingerprint) return null;
  if (seen === null) {
    known.remember(host, port, fingerprint);
    say(
      `* trusting ${host}:${port} on first use: its certificate's SHA-256 is ${fingerprint} (compare it with the one the server printed; kept in ${t.knownHosts})`,
    );
    return null;
  }
  return (
    `WARNING: the certificate of ${host}:${port} has changed: it was SHA-256 ${seen}, it is now ${fingerprint}. ` +
    `Someone may be listening in, or the server made a new certificate. If you know it did, remove the line for ${host}:${port} from ${t.knownHosts} and connect again.`
  );
}
