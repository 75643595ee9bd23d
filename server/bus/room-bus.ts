/**
 * The room bus: how a frame reaches sessions that live elsewhere. Today the
 * other places are the other worker threads (thread-bus.ts, a
 * BroadcastChannel); a multi-node implementation (Redis Streams) is a second
 * class behind the same two interfaces. Chat logic talks to RoomBus only and
 * never knows where a session lives.
 */
import type { SlotRef } from '../shm/session-table.js';

/**
 * A session wherever it is: its node (node-id.ts), its slot in that node's session table, and the worker
 * that owns it there (-1: away). Two addresses are the same session when node, slot and generation are
 * (node-id.ts sameSession, sessionKey).
 */
export interface SessionAddress extends SlotRef {
  node: string;
  owner: number;
}

/** A room: its key (the folded name, what frames are addressed to) and its name as shown. */
export interface RoomRef {
  key: string;
  name: string;
}

/**
 * The sender's own copy of a room post, framed apart because it carries its request's ref (PROTOCOL.md,
 * "Request references"): that one member gets `frame` in the place of the room's, in the same order.
 */
export interface OwnCopy {
  to: SessionAddress;
  frame: Buffer;
}

/** What a chat session may ask of the bus. */
export interface RoomBus {
  /** To every session everywhere, the local ones included. One sender's posts arrive everywhere in the order posted. */
  post(frame: Buffer): void;
  /** To one session, wherever it lives; dropped if that session is gone. */
  postTo(target: SessionAddress, frame: Buffer): void;
  /** Ends one session, wherever it lives, as a kick. */
  kick(target: SessionAddress, reason: string): void;
  /** To the sessions in any of these rooms (room keys), once each, that speak at least `minVersion`. */
  postToRooms(rooms: string[], frame: Buffer, minVersion: number, own?: OwnCopy): void;
  /** A session joined (or left) a room: from this point in the bus's order its owner delivers that room's frames to it (or stops). */
  membership(target: SessionAddress, room: RoomRef, joined: boolean): void;
  /** Part of what a resuming session missed (done: the last part); its owner sends it ahead of the live frames it holds meanwhile. */
  replay(target: SessionAddress, frames: Buffer[], done: boolean): void;
  close(): void;
}

/** What the bus delivers into: the sessions of the worker the bus instance serves (on its node: slots suffice). */
export interface BusDelivery {
  deliver(frame: Buffer): void;
  deliverTo(target: SlotRef, frame: Buffer): void;
  kick(target: SlotRef, reason: string): void;
  deliverToRooms(rooms: string[], frame: Buffer, minVersion: number, own?: { to: SlotRef; frame: Buffer }): void;
  membership(target: SlotRef, room: RoomRef, joined: boolean): void;
  replay(target: SlotRef, frames: Buffer[], done: boolean): void;
}
