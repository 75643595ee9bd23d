/**
 * A chat worker's end of its MessagePort to the store thread. One port per
 * worker keeps that worker's requests in the order its sessions made them;
 * everything the store thread answers comes back on the room bus, in the
 * room's order. While the thread is away (restarting) requests are refused
 * here at once, so nobody waits on an answer that will not come.
 */
import type { MessagePort } from 'node:worker_threads';
import type { SessionAddress } from '../bus/room-bus.js';
import type { ToStore } from './store-messages.js';

/** What the chat sessions ask of the sequencer (ConnectionHost.sequencer). */
export interface SequencerPort {
  send(msg: ToStore): void;
}

const RESTARTING = "not done: the server's history store is restarting; try again in a moment";

/** The session a request is for, if it has one to answer. */
function requester(msg: ToStore): SessionAddress | null {
  if ('sender' in msg) return msg.sender;
  if ('session' in msg && msg.k !== 'leave' && msg.k !== 'rename' && msg.k !== 'enter') return msg.session;
  return null;
}

export class StoreLink implements SequencerPort {
  private port: MessagePort | null = null;

  constructor(
    port: MessagePort,
    /** Tells a session of this worker that its request was refused (it may have gone meanwhile). */
    private readonly refused: (to: SessionAddress, message: string) => void,
  ) {
    this.attach(port);
  }

  /** A (new) port to the store thread; the old one, if any, is closed. */
  attach(port: MessagePort): void {
    this.port?.close();
    this.port = port;
    // The store thread's end closes when the thread dies: from then on, refuse rather than post into nothing.
    port.once('close', () => {
      if (this.port === port) this.port = null;
    });
  }

  /** The store thread is gone: requests are refused at once, the rest dropped, until attach(). */
  detach(): void {
    this.port?.close();
    this.port = null;
  }

  close(): void {
    this.detach();
  }

  /** A room-wide frame that is not kept, sequenced with the messages (SequencedBus). */
  post(frame: Buffer): void {
    this.send({ k: 'post', frame });
  }

  send(msg: ToStore): void {
    if (this.port) return this.port.postMessage(msg);
    const to = requester(msg);
    if (to) this.refused(to, RESTARTING);
  }
}
