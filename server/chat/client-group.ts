/**
 * A worker's client group: every connection the kernel handed this worker
 * (TCP or WebSocket), the active sessions among them by slot, admission, and
 * delivery of what the room bus brings here.
 */
import type net from 'node:net';
import type { WebSocket } from 'ws';
import { encodeMessage, errorMessage } from '../../common/protocol.js';
import type { BusDelivery, RoomRef } from '../bus/room-bus.js';
import type { SlotRef } from '../shm/session-table.js';
import { ClientConnection } from './connection.js';
import type { ConnectionHost, GroupMember, SessionRegistry } from './session-host.js';
import { TcpTransport, WS_CLOSE, WebSocketTransport, type ChatTransport, type OutputPath } from './transport.js';
import { tracedTransport } from './session-qlog.js';
import { TurnBatcher } from './turn-batcher.js';
import { RoomMembers } from './room-members.js';
import { OutputBudget } from './output-budget.js';
import { PRE_HELLO_ALLOWANCE } from './admission.js';
import { PendingPool, type AdmittedTcp, type PendingPlace } from './pending-pool.js';
import { clipUtf8 } from '../../common/unicode/text-policy.js';
import type { ChatDoor } from '../tls/listeners.js';

/** How long a refused socket may take to read its ERROR before it is destroyed. */
const REFUSAL_LINGER_MS = 1000;
const NO_MEMBERS: ReadonlySet<GroupMember> = new Set();
const NO_DESCRIPTORS = {
  code: 'SERVER_FULL',
  text: 'the server has no file descriptors left for another connection, try again later',
} as const;

type Refusal = { code: 'SHUTTING_DOWN' | 'SERVER_FULL' | 'ADDRESS_LIMIT'; text: string };
/** A refused connection's last words, as its door says them (the chat's: an ERROR frame). */
export type RefusalWords = (r: Refusal) => Buffer;
const chatRefusal: RefusalWords = (r) => encodeMessage(errorMessage(r.code, r.text, true));

export class ClientGroup implements BusDelivery, SessionRegistry {
  private readonly connections = new Set<GroupMember>();
  private readonly sessions = new Map<number, GroupMember>();
  /** Places of connections that have not said HELLO (TLS handshakes included; their size is LUSERS' unknown). */
  readonly pending = new PendingPool(PRE_HELLO_ALLOWANCE, undefined, (d, t) => this.host?.log.info(d, t));
  private readonly places = new Map<GroupMember, PendingPlace>();
  /** This worker's sessions per room, as the store thread's sequenced membership changes say. */
  private readonly members = new RoomMembers<GroupMember>();
  /** This turn's frames per client leave together at its end, within the worker's output budget. */
  private readonly output: OutputPath;
  private closingNow = false;
  private host: ConnectionHost | null = null;

  constructor(
    private readonly maxClients: number,
    private readonly maxFrame: number,
    maxOutputBytes: number,
  ) {
    this.output = {
      batcher: new TurnBatcher(),
      budget: new OutputBudget(maxOutputBytes, () => this.dropSlowestReaders()),
    };
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

  /**
   * Sessions are limited by the session table; connections that have not said HELLO by their own, smaller
   * allowance, where a newcomer takes the place of the oldest from the busiest network (pending-pool.ts).
   */
  canAccept(): boolean {
    return !this.closingNow && this.connections.size < this.connectionLimit;
  }

  /**
   * A TCP connection on the chat port before any byte is read from it (before its TLS handshake, `secure`):
   * it takes a socket from the descriptor budget, a place of its address's and one of this worker's places
   * for connections that have not said HELLO, which go with the socket until acceptTcp. Refused, it is told
   * why and closed; with TLS there is nothing yet to tell it in, so it is only closed.
   */
  admitTcp(socket: net.Socket, secure: boolean, refusal: RefusalWords = chatRefusal): AdmittedTcp | null {
    const address = socket.remoteAddress ?? '?';
    const admission = this.requireHost().admission;
    const refused = admission.socketFits(socket) ? this.admit(address) : NO_DESCRIPTORS;
    if (!refused) {
      const admitted = { place: this.pending.take(address, () => socket.destroy()), connected: false };
      socket.once('close', () => {
        if (admitted.connected) return;
        this.pending.release(admitted.place);
        admission.leave(address, 'pending');
      });
      return admitted;
    }
    if (secure) {
      socket.destroy();
      return null;
    }
    socket.on('error', () => socket.destroy());
    socket.end(refusal(refused));
    // Out of descriptors, none is held a second longer than it takes to hand the ERROR to the kernel.
    if (refused === NO_DESCRIPTORS) socket.once('finish', () => socket.destroy());
    else setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS).unref();
    return null;
  }

  /** An admitted connection can carry frames (the TLS socket once its handshake is done): its places go with a ClientConnection. */
  acceptTcp(socket: net.Socket, admitted: AdmittedTcp): void {
    if (this.closingNow) {
      socket.destroy();
      return;
    }
    admitted.connected = true;
    this.hold(new TcpTransport(socket, this.maxFrame, this.output), admitted.place);
  }

  /** Another door onto the same sessions (the IRC door): the same admission and places; its transport and its refusals' words. */
  door(
    transport: (socket: net.Socket, output: OutputPath) => ChatTransport,
    words: RefusalWords,
  ): ChatDoor<AdmittedTcp> {
    return {
      admitTcp: (raw, secure) => this.admitTcp(raw, secure, words),
      acceptTcp: (socket, admitted) => {
        if (this.closingNow) return void socket.destroy();
        admitted.connected = true;
        this.hold(transport(socket, this.output), admitted.place);
      },
    };
  }

  acceptWebSocket(ws: WebSocket, socket: net.Socket): void {
    const refusal = this.admit(socket.remoteAddress ?? '?');
    if (refusal) {
      ws.close(WS_CLOSE.POLICY, clipUtf8(`${refusal.code}: ${refusal.text}`, 123));
      return;
    }
    const place = this.pending.take(socket.remoteAddress ?? '?', () => socket.destroy());
    this.hold(new WebSocketTransport(ws, socket, this.maxFrame, this.output), place);
  }

  /** A connection that has not said HELLO yet, holding its places; made room for, it is told why. */
  private hold(transport: ChatTransport, place: PendingPlace): void {
    const conn = new ClientConnection(this.traced(transport), this.requireHost(), this.output.budget);
    // Told why, as a HELLO timeout is, but logged by the pool (within its budget), not once per connection.
    place.evict = (why) =>
      conn.end({ kind: 'timed_out', detail: why }, 'graceful', errorMessage('HELLO_TIMEOUT', why, true));
    this.places.set(conn, place);
    this.connections.add(conn);
  }

  /** With --qlog, the connection's frames and heartbeats are traced on their way (session-qlog.ts). */
  private traced(t: ChatTransport): ChatTransport {
    const host = this.requireHost();
    return host.qlogDir ? tracedTransport(t, host.qlogDir, host) : t;
  }

  /** Null when a new connection from address may start (it then holds its address's 'pending' place); otherwise why not. */
  private admit(address: string): Refusal | null {
    if (this.closingNow) return { code: 'SHUTTING_DOWN', text: 'the server is shutting down' };
    if (!this.canAccept()) return { code: 'SERVER_FULL', text: 'the server is full, try again later' };
    const admission = this.requireHost().admission;
    if (!admission.enter(address, 'pending')) {
      return {
        code: 'ADDRESS_LIMIT',
        text: `${address} already has ${admission.limit('pending')} connections that have not said HELLO, the most one address may have`,
      };
    }
    return null;
  }

  private requireHost(): ConnectionHost {
    if (!this.host) throw new Error('ClientGroup used before attach()');
    return this.host;
  }

  // ---- SessionRegistry -------------------------------------------------------

  registered(conn: GroupMember): void {
    this.leavePending(conn);
    if (conn.ref) this.sessions.set(conn.ref.slot, conn);
  }
  unregistered(conn: GroupMember): void {
    this.leavePending(conn);
    this.connections.delete(conn);
    if (conn.ref && this.sessions.get(conn.ref.slot) === conn) this.sessions.delete(conn.ref.slot);
    this.members.drop(conn);
  }

  private leavePending(conn: GroupMember): void {
    const place = this.places.get(conn);
    if (place) this.pending.release(place);
    this.places.delete(conn);
  }

  /** Every session here with its rooms, for a store thread that starts again and must know who is where. */
  membersForRestore(): Array<{ ref: SlotRef; nick: string; version: number; rooms: RoomRef[] }> {
    return [...this.sessions.values()].map((c) => ({
      ref: c.ref!,
      nick: c.nick,
      version: c.version,
      rooms: this.members.roomsOf(c),
    }));
  }

  // ---- BusDelivery -----------------------------------------------------------

  deliver(frame: Buffer): void {
    for (const conn of this.sessions.values()) conn.inbox.deliver(frame);
  }
  deliverTo(target: SlotRef, frame: Buffer): void {
    this.current(target)?.inbox.deliver(frame);
  }
  replay(target: SlotRef, frames: Buffer[], done: boolean): void {
    this.current(target)?.inbox.part(frames, done);
  }
  kick(target: SlotRef, reason: string): void {
    this.current(target)?.kick(reason);
  }
  /** What the store read for the session is taken from its flood credits; `paid` once taken (never if it is gone). */
  charge(target: SlotRef, credits: number, paid: () => void): void {
    this.current(target)?.inbound.charge(credits, paid);
  }
  deliverToRooms(rooms: string[], frame: Buffer, minVersion: number, own?: { to: SlotRef; frame: Buffer }): void {
    const seen = rooms.length > 1 ? new Set<GroupMember>() : null;
    const sender = own && this.current(own.to);
    for (const room of rooms)
      for (const conn of this.members.in(room) ?? NO_MEMBERS) {
        if (conn.version < minVersion || seen?.has(conn)) continue;
        seen?.add(conn);
        conn.inbox.deliver(conn === sender ? own!.frame : frame);
      }
  }
  membership(target: SlotRef, room: RoomRef, joined: boolean): void {
    const conn = this.current(target);
    if (conn) this.members.set(conn, room, joined);
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
    const byQueue = [...this.connections]
      .filter((c) => c.queuedBytes > 0)
      .sort((a, b) => b.queuedBytes - a.queuedBytes);
    for (const conn of byQueue) {
      if (budget.bytes <= target) break;
      conn.fail(
        'SEND_QUEUE_FULL',
        `the server's output budget (${budget.limit} bytes) is spent and this client reads the slowest`,
      );
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
    // What is left holds no connection yet: TLS handshakes under way.
    for (const place of this.pending.places()) place.evict(reason);
    await Promise.race([
      Promise.all(
        sockets.map((s) => (s.closed ? Promise.resolve() : new Promise<void>((r) => s.once('close', () => r())))),
      ),
      new Promise<void>((r) => setTimeout(r, graceMs).unref()),
    ]);
    for (const s of sockets) s.destroy();
  }
}
