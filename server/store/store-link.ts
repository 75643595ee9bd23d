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

export class StoreLink implements HistoryPort {
  constructor(
    private readonly port: MessagePort,
    /** A refusal for a session of this worker (it may have gone meanwhile). */
    onRefused: (msg: FromStore) => void,
  ) {
    port.on('message', onRefused);
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
    this.port.close();
  }

  private send(msg: ToStore): void {
    this.port.postMessage(msg);
  }
}
