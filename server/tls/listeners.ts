/**
 * The chat port's and the web port's listeners, plain or TLS: the same
 * handlers either way, the certificate from certificate.ts. Every TCP
 * connection is admitted (its address's limit, the worker's places, the
 * descriptor budget) as it arrives, before a byte of it is read, so a
 * connection that never finishes its TLS handshake is counted like any
 * other; and it is closed once the handshake's time is up
 * (--tls-handshake-timeout, as long as a HELLO by default), which Node's own
 * handshakeTimeout only reports. --keylog writes each session's secrets in the
 * SSLKEYLOGFILE format Wireshark decrypts with.
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

const writeKeylog = (file: string) => (line: Buffer) => appendFileSync(file, line, { mode: 0o600 });

/** A failed or timed-out handshake (ERR_TLS_HANDSHAKE_TIMEOUT included) closes the connection: Node only reports it. */
function watch(server: tls.Server, t: ListenerTls, log: Logger): void {
  if (t.keylog) server.on('keylog', writeKeylog(t.keylog));
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
    log.debug({ err: err.code ?? err.message, remote: socket.remoteAddress }, 'TLS handshake failed');
    socket.destroy();
  });
}

/** What the chat port does with a connection (the worker's ClientGroup): admits it before a byte of it is read, takes it once it carries frames. */
export interface ChatDoor<T> {
  /** The TCP connection as it arrives (`secure`: TLS is to follow): its places, or null when it was refused (and is being closed). */
  admitTcp(raw: net.Socket, secure: boolean): T | null;
  /** It can carry frames: the TCP socket itself, or with TLS its TLS socket once the handshake is done. */
  acceptTcp(socket: net.Socket, admitted: T): void;
}

/** The chat listener: every connection goes through `door`, TLS or not. */
export function chatListener<T>(t: ListenerTls | null, log: Logger, door: ChatDoor<T>): net.Server {
  const context = t && tls.createSecureContext({ cert: t.cert, key: t.key, minVersion: 'TLSv1.2' });
  return net.createServer({ noDelay: true }, (raw) => {
    const admitted = door.admitTcp(raw, t !== null);
    if (admitted === null) return;
    if (!t || !context) return door.acceptTcp(raw, admitted);
    handshake(raw, t, context, log, (socket) => door.acceptTcp(socket, admitted));
  });
}

/** The server's side of a TLS handshake on an admitted connection: `done` once it is finished, else destroyed by the deadline. */
function handshake(
  raw: net.Socket,
  t: ListenerTls,
  context: tls.SecureContext,
  log: Logger,
  done: (socket: tls.TLSSocket) => void,
): void {
  const socket = new tls.TLSSocket(raw, { isServer: true, secureContext: context });
  let secured = false;
  const deadline = setTimeout(() => {
    log.debug({ remote: raw.remoteAddress }, `TLS handshake not finished within ${t.handshakeTimeoutMs}ms`);
    socket.destroy();
  }, t.handshakeTimeoutMs).unref();
  raw.once('close', () => clearTimeout(deadline));
  raw.on('error', () => socket.destroy());
  socket.on('error', (err: NodeJS.ErrnoException) => {
    if (!secured) log.debug({ err: err.code ?? err.message, remote: raw.remoteAddress }, 'TLS handshake failed');
    socket.destroy();
  });
  if (t.keylog) socket.on('keylog', writeKeylog(t.keylog));
  socket.once('secure', () => {
    secured = true;
    clearTimeout(deadline);
    done(socket);
  });
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
