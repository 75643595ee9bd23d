/**
 * A worker's client group: every connection the kernel handed this worker
 * (TCP or WebSocket), the active sessions among them by slot, admission, and
 * delivery of what the room bus brings here.
 */
import type net from 'node:net';
import type { WebSocket } from 'ws';
import { encodeMessage, errorMessage } from '../../common/protocol.js';
import type { BusDelivery } from '../bus/room-bus.js';
import type { SlotRef } from '../shm/session-table.js';
import { ClientConnection, type ConnectionHost, type GroupMember, type SessionRegistry } from './connection.js';
import { TcpTransport, WebSocketTransport, type OutputPath } from './transport.js';
import { TurnBatcher } from './turn-batcher.js';
import { OutputBudget } from './output-budget.js';

/** Connections that have not said HELLO yet, beyond --max-clients, are refused at once. */
export const PRE_HELLO_ALLOWANCE = 256;
/** How long a refused socket may take to read its ERROR before it is destroyed. */
const REFUSAL_LINGER_MS = 1000;

export class ClientGroup implements BusDelivery, SessionRegistry {
  private readonly connections = new Set<GroupMember>();
  private readonly sessions = new Map<number, GroupMember>();
  /** This turn's frames per client leave together at its end, within the worker's output budget. */
  private readonly output: OutputPath;
  private closingNow = false;
  private host: ConnectionHost | null = null;

  constructor(
    private readonly maxClients: number,
    private readonly maxFrame: number,
    maxOutputBytes: number,
  ) {
    this.output = { batcher: new TurnBatcher(), budget: new OutputBudget(maxOutputBytes, () => this.dropSlowestReaders()) };
  }

  /** Bytes waiting to be sent to all of this worker's connections. */
  get outputBytes(): number {
    return this.output.budget.bytes;
  }

  /** The host is attached after construction: it holds the room bus, which delivers into this group. */
  attach(host: ConnectionHost): void {
    this.host = host;
  }

  get closing(): boolean {
    return this.closingNow;
  }
  get sessionCount(): number {
    return this.sessions.size;
  }
  /** Connections the web server may still accept on this worker (HTTP and WebSocket share the allowance). */
  get connectionLimit(): number {
    return this.maxClients + PRE_HELLO_ALLOWANCE;
  }

  canAccept(): boolean {
    return !this.closingNow && this.connections.size < this.connectionLimit;
  }

  acceptTcp(socket: net.Socket): void {
    if (!this.canAccept()) {
      const [code, text] = this.closingNow ? (['SHUTTING_DOWN', 'the server is shutting down'] as const) : (['SERVER_FULL', 'the server is full, try again later'] as const);
      socket.end(encodeMessage(errorMessage(code, text, true)));
      socket.on('error', () => socket.destroy());
      setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS).unref();
      return;
    }
    this.connections.add(new ClientConnection(new TcpTransport(socket, this.maxFrame, this.output), this.requireHost()));
  }

  acceptWebSocket(ws: WebSocket, socket: net.Socket): void {
    this.connections.add(new ClientConnection(new WebSocketTransport(ws, socket, this.maxFrame, this.output), this.requireHost()));
  }

  private requireHost(): ConnectionHost {
    if (!this.host) throw new Error('ClientGroup used before attach()');
    return this.host;
  }

  // ---- SessionRegistry -------------------------------------------------------

  registered(conn: GroupMember): void {
    if (conn.ref) this.sessions.set(conn.ref.slot, conn);
  }
  unregistered(conn: GroupMember): void {
    this.connections.delete(conn);
    if (conn.ref && this.sessions.get(conn.ref.slot) === conn) this.sessions.delete(conn.ref.slot);
  }

  // ---- BusDelivery -----------------------------------------------------------

  deliver(frame: Buffer): void {
    for (const conn of this.sessions.values()) conn.send(frame);
  }
  deliverTo(target: SlotRef, frame: Buffer): void {
    this.current(target)?.send(frame);
  }
  kick(target: SlotRef, reason: string): void {
    this.current(target)?.kick(reason);
  }
  /** The session in that slot, if it is still the one the reference was taken for. */
  private current(target: SlotRef): GroupMember | undefined {
    const conn = this.sessions.get(target.slot);
    return conn?.ref?.generation === target.generation ? conn : undefined;
  }

  /**
   * Over the output budget: drops the connections with the most waiting until
   * the worker is back under 90% of it. A reader that keeps up has nothing
   * waiting, so it is never chosen while a slower one is there.
   */
  private dropSlowestReaders(): void {
    const budget = this.output.budget;
    const target = budget.limit * 0.9;
    const byQueue = [...this.connections].filter((c) => c.queuedBytes > 0).sort((a, b) => b.queuedBytes - a.queuedBytes);
    for (const conn of byQueue) {
      if (budget.bytes <= target) break;
      conn.fail('SEND_QUEUE_FULL', `the server's output budget (${budget.limit} bytes) is spent and this client reads the slowest`);
    }
  }

  // ---- time and the end ------------------------------------------------------

  /** Heartbeats and deadlines of every connection. */
  tick(awakeNow: number, wallNow: number): void {
    for (const conn of [...this.connections]) conn.tick(awakeNow, wallNow);
  }

  /** Says goodbye to every client and waits (bounded) for their sockets to close. */
  async shutdown(reason: string, graceMs: number): Promise<void> {
    this.closingNow = true;
    const sockets = [...this.connections].map((c) => c.socket);
    for (const conn of [...this.connections]) conn.shutdown(reason);
    await Promise.race([
      Promise.all(sockets.map((s) => (s.closed ? Promise.resolve() : new Promise<void>((r) => s.once('close', () => r()))))),
      new Promise<void>((r) => setTimeout(r, graceMs).unref()),
    ]);
    for (const s of sockets) s.destroy();
  }
}
