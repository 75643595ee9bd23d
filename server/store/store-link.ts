/**
 * A chat worker's end of its MessagePort to the store thread. One port per
 * worker keeps that worker's requests in the order its sessions made them
 * (per-sender order), and the store thread answers only refusals: a message
 * that was stored comes back on the room bus like everyone's.
 */
import type { MessagePort } from 'node:worker_threads';
import type { SessionAddress } from '../bus/room-bus.js';
import type { FromStore, ToStore } from './store-messages.js';

/** What the chat sessions ask of the history (ConnectionHost.history). */
export interface HistoryPort {
  say(sender: SessionAddress, from: string, text: string, action: boolean): void;
  direct(sender: SessionAddress, target: SessionAddress, from: string, to: string, text: string): void;
}

const RESTARTING = "not sent: the server's history store is restarting; try again in a moment";

export class StoreLink implements HistoryPort {
  private port: MessagePort | null = null;

  constructor(
    port: MessagePort,
    /** A refusal for a session of this worker (it may have gone meanwhile). */
    private readonly onRefused: (msg: FromStore) => void,
  ) {
    this.attach(port);
  }

  /** A (new) port to the store thread; the old one, if any, is closed. */
  attach(port: MessagePort): void {
    this.port?.close();
    this.port = port;
    port.on('message', this.onRefused);
    // The store thread's end closes when the thread dies: from then on, refuse rather than post into nothing.
    port.once('close', () => {
      if (this.port === port) this.port = null;
    });
  }

  /** The store thread is gone: messages are refused at once, notices dropped, until attach(). */
  detach(): void {
    this.port?.close();
    this.port = null;
  }

  say(sender: SessionAddress, from: string, text: string, action: boolean): void {
    this.send({ k: 'say', from, text, action, sender });
  }

  direct(sender: SessionAddress, target: SessionAddress, from: string, to: string, text: string): void {
    this.send({ k: 'direct', from, to, text, sender, target });
  }

  /** A room-wide frame that is not kept, sequenced with the messages (SequencedBus). */
  post(frame: Buffer): void {
    this.send({ k: 'post', frame });
  }

  close(): void {
    this.detach();
  }

  private send(msg: ToStore): void {
    if (this.port) this.port.postMessage(msg);
    else if (msg.k !== 'post') this.onRefused({ k: 'refused', sender: msg.sender, code: 'NOT_STORED', message: RESTARTING });
  }
}
