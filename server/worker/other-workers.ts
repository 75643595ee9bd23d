/**
 * A worker's LFTP endpoint and the other workers' (docs/LFTP.md, "Resume"): a post whose partial another worker's
 * transfer writes asks that worker, through the supervisor, to end it (files/writer-claim.ts), and this worker
 * answers the others' asks about its own transfers. One message each way per ask; the wait for the answer is
 * bounded (GIVE_WAY_WAIT_MS), so a stalled worker costs a post a refusal, never a hang.
 */
import type { OtherWorkers } from '../files/lftp-server-api.js';
import type { WriterHandoff } from '../files/writer-claim.js';
import type { GiveWay } from '../shm/partial-writers.js';
import type { FromWorker, ToWorker } from '../threads/messages.js';

/**
 * The answer's bound: ending a transfer and recording its partial takes milliseconds; seconds mean the worker is
 * stalled. Well under the client's own handshake patience (its SYN is retried for 30 s).
 */
export const GIVE_WAY_WAIT_MS = 5_000;

export class WorkerHandoffs implements OtherWorkers {
  private next = 1;
  private readonly asked = new Map<number, (answer: GiveWay) => void>();
  /** This worker's endpoint, once it listens: what the others' asks end. */
  endpoint: WriterHandoff | null = null;

  constructor(
    readonly self: number,
    private readonly post: (msg: FromWorker) => void,
    readonly waitMs = GIVE_WAY_WAIT_MS,
  ) {}

  giveWay(worker: number, key: string, address: string): Promise<GiveWay> {
    const id = this.next++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => answered('timeout'), this.waitMs);
      const answered = (answer: GiveWay) => {
        clearTimeout(timer);
        this.asked.delete(id);
        resolve(answer);
      };
      this.asked.set(id, answered);
      this.post({ k: 'give-way', id, worker, key, address });
    });
  }

  /** The supervisor passed on a message of this contract. */
  receive(msg: Extract<ToWorker, { k: 'give-way' | 'gave-way' }>): void {
    if (msg.k === 'gave-way') {
      this.asked.get(msg.id)?.(msg.answer);
      return;
    }
    const own = this.endpoint ? this.endpoint.giveWay(msg.key, msg.address) : Promise.resolve<GiveWay>('none');
    void own.then(
      (answer) => this.post({ k: 'gave-way', id: msg.id, to: msg.from, answer }),
      () => this.post({ k: 'gave-way', id: msg.id, to: msg.from, answer: 'none' }),
    );
  }
}
