/**
 * The room bus as a chat worker uses it once there is a store thread: what
 * goes to the whole room (notices) passes through the store thread's
 * sequencer, so that it takes its place in the one order everyone sees,
 * between the messages; frames for one session and kicks go straight to the
 * thread bus, where order across senders does not matter.
 */
import type { OwnCopy, RoomBus, RoomRef, SessionAddress } from './room-bus.js';

/** Where room-wide frames go to be sequenced (server/store/store-link.ts). */
export interface Sequencer {
  post(frame: Buffer): void;
  /** A kick of a session on another node (a cluster's): the store thread's bus reaches it. */
  kickElsewhere?(target: SessionAddress, reason: string): void;
}

export class SequencedBus implements RoomBus {
  constructor(
    private readonly direct: RoomBus,
    private readonly sequencer: Sequencer,
    /** This node's id: a session on another is kicked through the store thread (kickElsewhere). */
    private readonly node: string | null = null,
  ) {}

  post(frame: Buffer): void {
    this.sequencer.post(frame);
  }

  postTo(target: SessionAddress, frame: Buffer): void {
    this.direct.postTo(target, frame);
  }

  kick(target: SessionAddress, reason: string): void {
    if (this.node !== null && target.node !== this.node && this.sequencer.kickElsewhere)
      this.sequencer.kickElsewhere(target, reason);
    else this.direct.kick(target, reason);
  }

  // Only the store thread addresses rooms and changes membership; a worker's requests for that go through it.
  postToRooms(rooms: string[], frame: Buffer, minVersion: number, own?: OwnCopy): void {
    this.direct.postToRooms(rooms, frame, minVersion, own);
  }

  membership(target: SessionAddress, room: RoomRef, joined: boolean): void {
    this.direct.membership(target, room, joined);
  }

  replay(target: SessionAddress, frames: Buffer[], done: boolean): void {
    this.direct.replay(target, frames, done);
  }

  close(): void {
    this.direct.close();
  }
}
