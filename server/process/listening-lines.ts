/** What the server prints once it listens: its ports, whether they are encrypted, where the files are. */
export interface Listening {
  host: string;
  workers: number;
  port: number;
  lftpPort: number;
  httpPort: number | null;
  /** The certificate's line (certificate.ts startTls), or null: plain TCP and HTTP. */
  tlsLine: string | null;
  filesDir: string;
  admin: boolean;
}

export function listeningLines(l: Listening): string[] {
  const tls = l.tlsLine !== null;
  const lines = [
    `listening on tcp ${l.host}:${l.port} (${l.workers} worker${l.workers === 1 ? '' : 's'}${tls ? ', TLS' : ', no TLS'})`,
  ];
  if (l.tlsLine) lines.push(l.tlsLine);
  lines.push(`lftp on udp ${l.host}:${l.lftpPort}, sharing ${l.filesDir}`);
  const host = l.host.includes(':') ? `[${l.host}]` : l.host;
  if (l.httpPort !== null)
    lines.push(
      `web on http${tls ? 's' : ''}://${host}:${l.httpPort}/ (chat page${l.admin ? '; dashboard at /admin' : ''})`,
    );
  return lines;
}
