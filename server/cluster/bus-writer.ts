/**
 * The writing side of the cluster's bus (cluster-bus.ts): a node's batches
 * go to the bus stream in order, and each goes to this node's own sessions
 * only once the stream has it, so that a message its sender saw echoed has
 * reached every node's stream too: a node killed after the echo cannot take
 * the message with it (a test once found one lost so). Batches with nothing
 * for other nodes are delivered in their turn without a write.
 *
 * While Redis does not take a write (down, failing over), what waits is
 * delivered here anyway after FAIL_OPEN_MS, in order, and still written
 * when Redis takes it: the node's own users are not held up longer than
 * that by an outage. At most MAX_UNSENT wait to be written; past it the
 * oldest are given up (said once in the log).
 */
import type { BusBatch } from './bus-ops.js';
import type { RedisLink } from './redis-link.js';
import { BUS_APPEND, directoryArgs } from './directory-scripts.js';

export const MAX_UNSENT = 10_000;
/** How long this node's own sessions wait for a batch's write before they get it regardless. */
export const FAIL_OPEN_MS = 2000;
/** The stream keeps about this many entries (XADD MAXLEN ~). */
export const BUS_KEEP = 100_000;
const WRITE_AT_ONCE = 64;
const RETRY_MS = 200;

interface Outgoing {
  /** null: a place reserved for a turn being stored (reserve), not filled yet. */
  batch: BusBatch | null;
  json: string | null;
  /** The directory changes it carries, as the append script takes them (directory-scripts.ts). */
  dir: string[];
  written: boolean;
  since: number;
}

/** A place in this node's order kept for a turn whose append script may write its entry (reserve, fill). */
export type Reserved = Outgoing;

export class BusWriter {
  private readonly undelivered: Outgoing[] = [];
  private readonly unsent: Outgoing[] = [];
  private writing = false;
  /** A directory script is among the writes under way (reserve waits for it). */
  private scriptInFlight = false;
  private failOpen: NodeJS.Timeout | null = null;
  private stopped = false;
  readonly counts = { sent: 0, dropped: 0, deliveredUnwritten: 0 };

  constructor(
    private readonly link: RedisLink,
    private readonly stream: string,
    /** The directory's hashes, written with the entries that change them (directory-scripts.ts). */
    private readonly directory: [members: string, topics: string],
    /** This node's own delivery (the order gate). */
    private readonly deliver: (batch: BusBatch) => void,
    private readonly log: (detail: Record<string, unknown>, msg: string) => void,
  ) {}

  /** A batch of this node's, with its stream entry (null: nothing in it for other nodes). */
  send(batch: BusBatch, json: string | null): void {
    const o: Outgoing = { batch, json, dir: directoryArgs(batch.ops), written: json === null, since: Date.now() };
    this.undelivered.push(o);
    if (json !== null) {
      this.unsent.push(o);
      if (this.unsent.length > MAX_UNSENT) {
        this.unsent.splice(this.unsent[0]!.batch ? 0 : 1, 1)[0]!.written = true;
        if (this.counts.dropped++ === 0)
          this.log(
            { max: MAX_UNSENT },
            'cluster bus: Redis takes nothing; the oldest posts for other nodes are dropped',
          );
      }
      void this.flush();
    }
    this.deliverReady();
  }

  /**
   * A place for a turn's entry that the room log's append script will write (redis-room-log.ts), on this same
   * connection, whose commands Redis runs in the order sent: so only when everything of this node's before it has
   * been sent, and none of it is a directory script (which may be sent again, after, on NOSCRIPT). The script's
   * entry is then next in the stream. What is sent meanwhile waits behind it, here and for the stream, until
   * fill(). A write before it that fails fails the script too (the connection's fault), and is written again
   * after; a turn whose script failed is refused to its senders.
   */
  reserve(): Reserved | null {
    if (this.unsent.length > 0 || this.scriptInFlight || this.stopped) return null;
    const o: Outgoing = { batch: null, json: null, dir: [], written: false, since: Date.now() };
    this.undelivered.push(o);
    this.unsent.push(o);
    return o;
  }

  /** The reserved turn's batch: written by the script (`posted`), or still to write (its json; null: nothing crosses). */
  fill(o: Reserved, batch: BusBatch, json: string | null, posted: boolean): void {
    o.batch = batch;
    if (posted || json === null) {
      o.written = true;
      const at = this.unsent.indexOf(o);
      if (at >= 0) this.unsent.splice(at, 1);
    } else {
      o.json = json;
      o.dir = directoryArgs(batch.ops);
    }
    void this.flush();
    this.deliverReady();
  }

  stop(): void {
    this.stopped = true;
    if (this.failOpen) clearTimeout(this.failOpen);
  }

  /** In order: what is written (or has waited FAIL_OPEN_MS) goes to this node's sessions. */
  private deliverReady(): void {
    while (this.undelivered.length > 0) {
      const head = this.undelivered[0]!;
      // A reserved place is filled when its turn is stored (within a command's timeout): what follows waits for it.
      if (!head.batch) return;
      const waited = Date.now() - head.since;
      if (!head.written && waited < FAIL_OPEN_MS) {
        this.failOpen ??= setTimeout(() => {
          this.failOpen = null;
          this.deliverReady();
        }, FAIL_OPEN_MS - waited);
        return;
      }
      if (!head.written) this.counts.deliveredUnwritten++;
      this.undelivered.shift();
      this.deliver(head.batch);
    }
  }

  /** One entry: with the directory changes it carries, in the same step. */
  private write(o: Outgoing, trim: Parameters<RedisLink['xAdd']>[3]): Promise<unknown> {
    if (o.dir.length === 0) return this.link.xAdd(this.stream, '*', { b: o.json! }, trim);
    return BUS_APPEND.run(this.link, [this.stream, ...this.directory], [o.json!, String(BUS_KEEP), ...o.dir]);
  }

  /** A few at a time, in order on one connection; a failure puts them back in front and tries again. */
  private async flush(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    let failing = false;
    const trim = { TRIM: { strategy: 'MAXLEN' as const, strategyModifier: '~' as const, threshold: BUS_KEEP } };
    while (this.unsent.length > 0 && !this.stopped) {
      // A script may be sent twice (NOSCRIPT: a restarted Redis), which could put a later entry before it: alone.
      // Nothing goes past a reserved place before it is filled (fill flushes again).
      const plain = this.unsent.findIndex((o, i) => !o.batch || o.dir.length > 0 || i === WRITE_AT_ONCE);
      if (plain === 0 && !this.unsent[0]!.batch) break;
      const next = this.unsent.splice(0, plain === 0 ? 1 : plain < 0 ? WRITE_AT_ONCE : plain);
      this.scriptInFlight = next[0]!.dir.length > 0;
      try {
        await Promise.all(next.map((o) => this.write(o, trim)));
        for (const o of next) o.written = true;
        this.counts.sent += next.length;
        if (failing) this.log({ waiting: this.unsent.length }, 'cluster bus: writing again');
        failing = false;
        this.deliverReady();
      } catch (err) {
        this.unsent.unshift(...next);
        if (!failing) this.log({ err: (err as Error).message }, 'cluster bus: cannot write to Redis; retrying');
        failing = true;
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
    this.writing = false;
    this.scriptInFlight = false;
  }
}
