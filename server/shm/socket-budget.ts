/**
 * Every socket the process holds for a client (chat TCP, web HTTP with its
 * WebSockets), counted across workers against the limit fd-plan.ts derives
 * from the open-file limit. One word per worker, so that the supervisor can
 * forget a dead worker's sockets (its event loop closed them) exactly, as it
 * frees its session slots; the total is the sum, read without a lock: the
 * budget is a bound on descriptors, and being off by a socket or two for a
 * moment only moves the refusal by that much within the reserve.
 */
const W_LIMIT = 0;
const W_WORKERS = 1;
const HEADER_WORDS = 2;

export class SocketBudget {
  private readonly i32: Int32Array;

  /** A budget for `workers` workers that refuses past `limit` sockets. */
  static create(limit: number, workers: number): SocketBudget {
    const buffer = new SharedArrayBuffer((HEADER_WORDS + workers) * 4);
    const i32 = new Int32Array(buffer);
    i32[W_LIMIT] = limit;
    i32[W_WORKERS] = workers;
    return new SocketBudget(buffer, -1);
  }

  /** Worker `worker`'s view of a budget the supervisor created (-1: the supervisor's). */
  constructor(
    readonly buffer: SharedArrayBuffer,
    private readonly worker: number,
  ) {
    this.i32 = new Int32Array(buffer);
  }

  get limit(): number {
    return this.i32[W_LIMIT]!;
  }

  /** Sockets held by every worker together. */
  get total(): number {
    let sum = 0;
    for (let w = 0; w < this.i32[W_WORKERS]!; w++) sum += Atomics.load(this.i32, HEADER_WORDS + w);
    return sum;
  }

  /**
   * Counts one more socket (it holds a descriptor whether or not it is
   * admitted) and says whether it fits; either way, closed() must follow
   * when it closes.
   */
  opened(): boolean {
    Atomics.add(this.i32, HEADER_WORDS + this.worker, 1);
    return this.total <= this.limit;
  }

  closed(): void {
    Atomics.sub(this.i32, HEADER_WORDS + this.worker, 1);
  }

  /** The supervisor, after a worker died: its sockets died with its event loop. */
  releaseWorker(worker: number): void {
    Atomics.store(this.i32, HEADER_WORDS + worker, 0);
  }
}
