/**
 * The web side of a chat worker: one HTTP server per worker on the shared
 * --http-port (reusePort, like the TCP port). It serves the chat page and its
 * scripts, file downloads and uploads for browsers, the operator dashboard
 * when --admin-token is set, and upgrades /chat and /admin/ws to WebSocket.
 * Every response carries a Content-Security-Policy; every WebSocket is checked
 * against the page's own origin and limited by maxPayload.
 */
import { webListener, type ListenerTls } from '../tls/listeners.js';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import { HEADER_SIZE } from '../../common/frame.js';
import { AdminAuth } from './admin-auth.js';
import { ADMIN_MAX_PAYLOAD, type AdminHub } from './admin-hub.js';
import { HttpError, sendError } from './http-error.js';
import { fileRoute, type FileRoutesHost } from './http-files.js';
import { hasBody, lingerForBody } from './lingering-close.js';
import type { Logger } from '../logger.js';
import type { Admission } from '../chat/admission.js';
import { staticFiles, type StaticFile } from './static-files.js';
import { originAllowed, type HostAllowList } from './host-check.js';
import { refuseRaw } from './raw-refusal.js';
import { contentSecurityPolicy, SECURITY_HEADERS } from './page-policy.js';

export interface WebHost extends FileRoutesHost {
  readonly closing: boolean;
  /** Room for one more WebSocket session on this worker. */
  canAcceptSession(): boolean;
  acceptChatSocket(ws: WebSocket, socket: Socket): void;
}

export interface WebServerOptions {
  maxFrame: number;
  /** https and wss with this certificate (null: http). */
  tls: ListenerTls | null;
  /** Connections (HTTP and WebSocket) this worker's web server keeps at once (counted here: Node's maxConnections closes the rest without a word). */
  maxConnections: number;
  admin: { auth: AdminAuth; hub: AdminHub } | null;
  /** Per-address limit on HTTP connections. */
  admission: Admission;
  /** The names the web side answers to (DNS rebinding). */
  hosts: HostAllowList;
  /**
   * A cluster's other nodes' web origins (worker/node-files.ts): listed at /nodes for the chat page, which
   * may connect to them (its policy says so), and whose pages' WebSockets are taken on /chat here.
   */
  peers?: () => readonly string[];
  /**
   * --web-header-timeout: a connection's first request's headers must be in this long after it opened (a
   * connection that sends nothing included: Node starts headersTimeout when a connection opens, not at its first
   * byte), a later request's after its first byte; between requests keepAliveTimeout applies.
   */
  headerTimeoutMs: number;
}

/** The request target as a URL; only origin-form paths ("/..."), anything else is a 400. */
function parseRequestUrl(target: string | undefined): URL {
  if (!target?.startsWith('/') || target.startsWith('//'))
    throw new HttpError(400, 'BAD_REQUEST', 'the request target must be a path');
  try {
    return new URL(target, 'http://localhost');
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'the request target is not a valid path');
  }
}

export class WebServer {
  private readonly server: http.Server;
  /** Connections open on this worker's web port, refused ones included until they close. */
  private open = 0;
  private readonly chatWss: WebSocketServer;
  private readonly adminWss: WebSocketServer;
  private readonly cache = new Map<string, Buffer>();
  private readonly files: Map<string, StaticFile>;

  constructor(
    private readonly o: WebServerOptions,
    private readonly host: WebHost,
    private readonly log: Logger,
  ) {
    this.server = webListener(
      o.tls,
      log,
      {
        // Slow-header clients are cut off; a long upload is bounded by its own idle timer instead of a total time.
        headersTimeout: o.headerTimeoutMs,
        // Node checks the header deadline this often (by default every 30 s, which let slow headers live 18 s).
        connectionsCheckingInterval: 1_000,
        requestTimeout: 0,
        keepAliveTimeout: 5_000,
        maxHeaderSize: 16 * 1024,
      },
      (req, res) => void this.route(req, res),
    );
    // A client that half-closes after its request (as HTTP/1.0-style clients do) still gets its answer:
    // without this, Node aborts the request being read on the FIN, and an upload vanishes unanswered.
    // The property is Node's own (lib/_http_server.js, used by its tests and by spdy), not in its types.
    (this.server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    this.server.on('connection', (socket: Socket) => this.admitConnection(socket));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(req, socket as Socket, head),
    );
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
      else socket.destroy();
      this.log.debug({ err: err.code ?? err.message }, 'bad http request');
    });
    const common = { noServer: true, perMessageDeflate: false, clientTracking: false } as const;
    this.chatWss = new WebSocketServer({ ...common, maxPayload: HEADER_SIZE + o.maxFrame });
    this.adminWss = new WebSocketServer({ ...common, maxPayload: ADMIN_MAX_PAYLOAD });
    this.files = staticFiles(o.admin !== null);
  }

  /**
   * One address may hold so many HTTP connections (WebSocket sessions included) at once; the rest get a 503
   * and are closed. Counted as the TCP connection arrives, before its TLS handshake: on a TLS port a refusal
   * has nothing to be said in yet, so the connection is only closed, at once.
   */
  private admitConnection(socket: Socket): void {
    const address = socket.remoteAddress ?? '?';
    const { admission } = this.o;
    const refuse = (message: string, linger = true) =>
      this.o.tls ? socket.destroy() : refuseRaw(socket, 503, message, linger);
    if (!admission.socketFits(socket))
      return void refuse('the server has no file descriptors left for another connection, try again later', false);
    this.open++;
    socket.once('close', () => this.open--);
    if (this.open > this.o.maxConnections)
      return void refuse(`the web side is full (${this.o.maxConnections} connections), try again later`);
    if (admission.enter(address, 'http')) {
      socket.once('close', () => admission.leave(address, 'http'));
      return;
    }
    refuse(`too many connections from ${address} (at most ${admission.limit('http')} at once)`);
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port, reusePort: true, backlog: 1024 }, () => {
        this.server.off('error', reject);
        this.server.on('error', (err) => this.log.error({ err }, 'web listener error'));
        resolve((this.server.address() as { port: number }).port);
      });
    });
  }

  close(): Promise<void> {
    this.o.admin?.hub.close();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    res.setHeader('Content-Security-Policy', contentSecurityPolicy(this.peers()));
    try {
      const url = parseRequestUrl(req.url);
      if (!this.o.hosts.allows(req.headers.host)) throw this.hostRefusal(req.headers.host);
      const path = url.pathname;
      // Only an upload's body is read. Any other body is discarded after the answer, for at most the
      // linger time: a request that promises 100 MB and sends a byte every 3 s no longer holds its connection.
      const upload = req.method === 'POST' && path.startsWith('/files/');
      if (hasBody(req) && !upload) {
        res.setHeader('Connection', 'close');
        lingerForBody(req);
      }
      if (path.startsWith('/files/')) return await fileRoute(this.host, req, res, url);
      if (path === '/admin') return await this.adminPage(req, res);
      if (path === '/nodes') return this.sendNodes(req, res);
      const file = this.files.get(path);
      if (!file) throw new HttpError(404, 'NOT_FOUND', 'no such page');
      await this.sendStatic(req, res, file);
    } catch (err) {
      this.fail(req, res, err);
    }
  }

  private hostRefusal(host: string | undefined): HttpError {
    this.log.info({ host: String(host).slice(0, 100) }, 'http request for a host name this server does not answer to');
    return new HttpError(
      421,
      'HOST',
      `this server does not answer to the name ${JSON.stringify(String(host).slice(0, 100))} (it answers to ${this.o.hosts.describe()}; add names with --web-host)`,
    );
  }

  private async adminPage(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const admin = this.o.admin;
    const file = this.files.get('/admin');
    // Without --admin-token there is no dashboard at all, not even a login prompt.
    if (!admin || !file) throw new HttpError(404, 'NOT_FOUND', 'no such page');
    const refusal = admin.auth.gate(req.headers, Date.now(), req.socket.remoteAddress ?? '', this.log);
    if (refusal) throw refusal;
    res.setHeader('Set-Cookie', admin.auth.issueCookie(Date.now(), this.o.tls !== null));
    res.setHeader('Cache-Control', 'no-store');
    await this.sendStatic(req, res, file);
  }

  /** The other nodes' web origins, the chat page's servers to try when its connection is lost (`{"nodes": []}` alone). */
  private sendNodes(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      throw new HttpError(405, 'METHOD', `${req.method} is not supported here (GET, HEAD)`);
    const body = Buffer.from(JSON.stringify({ nodes: this.peers() }));
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Length': String(body.length),
      'Cache-Control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private peers(): readonly string[] {
    return this.o.peers?.() ?? [];
  }

  private async sendStatic(req: IncomingMessage, res: ServerResponse, file: StaticFile): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      throw new HttpError(405, 'METHOD', `${req.method} is not supported here (GET, HEAD)`);
    let body = this.cache.get(file.path);
    if (!body) {
      body = await readFile(file.path).catch(() => {
        throw new HttpError(500, 'MISSING', `${file.path} is missing: run npm run build`);
      });
      this.cache.set(file.path, body);
    }
    if (!res.hasHeader('Cache-Control')) res.setHeader('Cache-Control', 'no-cache');
    res.writeHead(200, { 'Content-Type': file.type, 'Content-Length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    const e = err instanceof HttpError ? err : new HttpError(500, 'INTERNAL', 'internal error');
    if (!(err instanceof HttpError))
      this.log.error({ err, url: req.url?.replace(/ticket=[^&]*/, 'ticket=…') }, 'http handler failed');
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    if (!req.complete) lingerForBody(req);
    sendError(res, e, e.headers);
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const refuse = (status: number, message: string) => {
      this.log.info(
        { remote: socket.remoteAddress, path: req.url, origin: req.headers.origin, status },
        `websocket refused: ${message}`,
      );
      refuseRaw(socket, status, message);
    };
    const path = (req.url ?? '').split('?')[0];
    if (!this.o.hosts.allows(req.headers.host)) return refuse(421, this.hostRefusal(req.headers.host).message);
    // The chat page another node of the cluster served comes here when its own node is lost.
    const peer = path === '/chat' && this.peers().includes(String(req.headers.origin));
    if (!peer && !originAllowed(req))
      return refuse(403, `origin ${String(req.headers.origin).slice(0, 100)} is not this server's page`);
    if (path === '/chat') {
      if (this.host.closing) return refuse(503, 'the server is shutting down');
      if (!this.host.canAcceptSession()) return refuse(503, 'the server is full, try again later');
      this.chatWss.handleUpgrade(req, socket, head, (ws) => this.host.acceptChatSocket(ws, socket));
      return;
    }
    if (path === '/admin/ws' && this.o.admin) {
      const admin = this.o.admin;
      const refusal = admin.auth.gate(req.headers, Date.now(), socket.remoteAddress ?? '', this.log);
      if (refusal) return refuse(refusal.status, refusal.message);
      this.adminWss.handleUpgrade(req, socket, head, (ws) =>
        admin.hub.add(ws, `${socket.remoteAddress}:${socket.remotePort}`),
      );
      return;
    }
    refuse(404, 'no WebSocket endpoint here (the chat is at /chat)');
  }
}

/** --web-header-timeout's default: as long as a HELLO waits on the chat port. */
export const WEB_HEADER_TIMEOUT_MS = 10_000;
