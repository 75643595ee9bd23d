/**
 * The chat port's and the web port's listeners, plain or TLS: the same
 * handlers either way, the certificate from certificate.ts. A TLS handshake
 * gets as long as a HELLO (10 s), not Node's default two minutes, so that
 * connections that never finish one do not pile up; --keylog writes each
 * session's secrets in the SSLKEYLOGFILE format Wireshark decrypts with.
 */
import { appendFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../logger.js';
import { answerPlainHttp } from './plain-http.js';

export interface ListenerTls {
  cert: string;
  key: string;
  /** Where TLS secrets are written for Wireshark (null: nowhere). */
  keylog: string | null;
  /** Time a client has to finish its TLS handshake (--tls-handshake-timeout). */
  handshakeTimeoutMs: number;
}

/** Time a client has to finish its TLS handshake, unless --tls-handshake-timeout says otherwise. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

function secure(t: ListenerTls): tls.TlsOptions {
  return { cert: t.cert, key: t.key, minVersion: 'TLSv1.2', handshakeTimeout: t.handshakeTimeoutMs };
}

function watch(server: tls.Server, t: ListenerTls, log: Logger): void {
  const keylog = t.keylog;
  if (keylog) server.on('keylog', (line: Buffer) => appendFileSync(keylog, line, { mode: 0o600 }));
  server.on('tlsClientError', (err: NodeJS.ErrnoException) =>
    log.debug({ err: err.code ?? err.message }, 'TLS handshake failed'),
  );
}

/** The chat listener: `accept` gets each connection once it can carry frames (after the handshake, with TLS). */
export function chatListener(t: ListenerTls | null, log: Logger, accept: (socket: net.Socket) => void): net.Server {
  if (!t) return net.createServer({ noDelay: true }, accept);
  const server = tls.createServer(secure(t), accept);
  server.on('connection', (raw: net.Socket) => raw.setNoDelay(true));
  watch(server, t, log);
  return server;
}

export function webListener(
  t: ListenerTls | null,
  log: Logger,
  options: http.ServerOptions,
  handler: http.RequestListener,
): http.Server {
  if (!t) return http.createServer(options, handler);
  const server = https.createServer({ ...options, ...secure(t) }, handler);
  watch(server, t, log);
  answerPlainHttp(server, t.handshakeTimeoutMs);
  return server;
}
