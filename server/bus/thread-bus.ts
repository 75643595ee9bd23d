/**
 * The room bus between the worker threads of one process: a BroadcastChannel
 * joined by every worker and the supervisor. A BroadcastChannel delivers one
 * sender's messages in the order posted, which is what per-sender FIFO across
 * workers rests on. Frames travel as Uint8Array (structured clone).
 */
import { BroadcastChannel } from 'node:worker_threads';
import type { BusDelivery, OwnCopy, RoomBus, RoomRef, SessionAddress } from './room-bus.js';

type ThreadBusMessage =
  | { k: 'room'; frame: Uint8Array }
  | ({ k: 'direct'; frame: Uint8Array } & Target)
  | ({ k: 'kick'; reason: string } & Target)
  | { k: 'rooms'; rooms: string[]; frame: Uint8Array; minVersion: number; own?: { frame: Uint8Array } & Target }
  | ({ k: 'member'; owner: number; room: RoomRef; joined: boolean } & Target)
  | ({ k: 'replay'; owner: number; frames: Uint8Array[]; done: boolean } & Target);

/** One session's address on the channel: a worker takes it only if it is on its node. */
interface Target {
  node: string;
  slot: number;
  generation: number;
}

function target(a: SessionAddress): Target {
  return { node: a.node, slot: a.slot, generation: a.generation };
}

/** A view, not a copy: what arrives from the channel is a Uint8Array over its own buffer. */
export function asBuffer(frame: Uint8Array): Buffer {
  return Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
}

export class ThreadBus implements RoomBus {
  /**
   * Null for a bus that only posts: a member of the channel is handed, and decodes, everything every other member
   * posts, listening or not (the supervisor decoded every answer and notice of the store thread, and its malloc
   * kept the memory: docs/ARCHITECTURE.md, "The room bus"). It opens a channel for each post instead.
   */
  private readonly channel: BroadcastChannel | null;

  /**
   * @param self the worker this instance serves, or null for the supervisor (which has no sessions)
   * @param local where frames for this worker's sessions go (null with self null)
   * @param node the node this process is (node-id.ts): frames addressed to a session elsewhere are not its
   * @param postOnly hears nothing, keeps no channel open (for a thread that posts seldom)
   */
  constructor(
    private readonly name: string,
    private readonly self: number | null,
    private readonly local: BusDelivery | null,
    private readonly node: string,
    postOnly = false,
  ) {
    this.channel = postOnly ? null : new BroadcastChannel(name);
    if (!this.channel) return;
    if (local) this.channel.onmessage = (ev) => this.received((ev as { data: ThreadBusMessage }).data, local);
    else this.channel.unref();
  }

  /** A message to every other member. A post-only bus's channel goes as soon as it posted: the post is queued for each. */
  private send(msg: ThreadBusMessage): void {
    if (this.channel) return this.channel.postMessage(msg);
    const once = new BroadcastChannel(this.name);
    try {
      once.postMessage(msg);
    } finally {
      once.close();
    }
  }

  post(frame: Buffer): void {
    this.local?.deliver(frame);
    this.send({ k: 'room', frame } satisfies ThreadBusMessage);
  }

  postTo(target: SessionAddress, frame: Buffer): void {
    if (this.local && this.mine(target)) this.local.deliverTo(target, frame);
    else
      this.send({
        k: 'direct',
        node: target.node,
        slot: target.slot,
        generation: target.generation,
        frame,
      } satisfies ThreadBusMessage);
  }

  kick(target: SessionAddress, reason: string): void {
    if (this.local && this.mine(target)) this.local.kick(target, reason);
    else
      this.send({
        k: 'kick',
        node: target.node,
        slot: target.slot,
        generation: target.generation,
        reason,
      } satisfies ThreadBusMessage);
  }

  postToRooms(rooms: string[], frame: Buffer, minVersion: number, own?: OwnCopy): void {
    this.local?.deliverToRooms(rooms, frame, minVersion, own && this.mine(own.to) ? own : undefined);
    const other = own && !this.mine(own.to) ? { ...target(own.to), frame: own.frame } : undefined;
    this.send({
      k: 'rooms',
      rooms,
      frame,
      minVersion,
      ...(other ? { own: other } : {}),
    } satisfies ThreadBusMessage);
  }

  membership(target: SessionAddress, room: RoomRef, joined: boolean): void {
    if (this.local && this.mine(target)) this.local.membership(target, room, joined);
    else
      this.send({
        k: 'member',
        node: target.node,
        slot: target.slot,
        generation: target.generation,
        owner: target.owner,
        room,
        joined,
      } satisfies ThreadBusMessage);
  }

  replay(target: SessionAddress, frames: Buffer[], done: boolean): void {
    if (this.local && this.mine(target)) this.local.replay(target, frames, done);
    else
      this.send({
        k: 'replay',
        node: target.node,
        slot: target.slot,
        generation: target.generation,
        owner: target.owner,
        frames,
        done,
      } satisfies ThreadBusMessage);
  }

  close(): void {
    this.channel?.close();
  }

  /** A session of the worker this instance serves. */
  private mine(target: SessionAddress): boolean {
    return target.node === this.node && target.owner === this.self;
  }

  private received(msg: ThreadBusMessage, local: BusDelivery): void {
    if ('node' in msg && msg.node !== this.node) return;
    switch (msg.k) {
      case 'room':
        local.deliver(asBuffer(msg.frame));
        return;
      case 'direct':
        local.deliverTo({ slot: msg.slot, generation: msg.generation }, asBuffer(msg.frame));
        return;
      case 'kick':
        local.kick({ slot: msg.slot, generation: msg.generation }, msg.reason);
        return;
      case 'rooms':
        local.deliverToRooms(
          msg.rooms,
          asBuffer(msg.frame),
          msg.minVersion,
          msg.own?.node === this.node ? { to: msg.own, frame: asBuffer(msg.own.frame) } : undefined,
        );
        return;
      case 'member':
        if (msg.owner === this.self)
          local.membership({ slot: msg.slot, generation: msg.generation }, msg.room, msg.joined);
        return;
      case 'replay':
        if (msg.owner === this.self)
          local.replay({ slot: msg.slot, generation: msg.generation }, msg.frames.map(asBuffer), msg.done);
        return;
    }
  }
}
