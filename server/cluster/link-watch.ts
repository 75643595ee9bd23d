/**
 * The judgement of a Redis link's watchdog (link-watchdog.ts runs it), kept
 * apart so that it can be tested with a clock of the test's: when to probe
 * the link, when to look at it from a new connection, whether to drop it,
 * and what to say, once an episode.
 */

/** How often a link is probed (a PING), the previous probe answered or not. */
export const PROBE_EVERY_MS = 1000;
/**
 * A probe's bound, and that of the look from a new connection: longer than the bus's XREAD BLOCK (1 s), which a
 * PING on the reader's connection waits behind; shorter than a command's bound (redis-link.ts, 5 s).
 */
export const PROBE_DEADLINE_MS = 2500;
/**
 * What a new connection to the same Redis saw of a link that did not answer: Redis cannot be reached from here
 * (`unreachable`), Redis answers with an error (`busy`: a long script), Redis holds a command of the link
 * (`held`: CLIENT PAUSE, a blocking read), or Redis waits on nothing from the link or knows no such connection
 * (`silent`: what was sent on it was lost, or its answers were). `handshake`: no new connection was needed, the
 * link's own connection got no answer to its handshake.
 */
export type Seen = 'unreachable' | 'busy' | 'held' | 'silent' | 'handshake';

export interface Judged {
  /** Drop the connection and open a new one. */
  drop: boolean;
  /** A line for the log and the operator, or null (said already in this episode). */
  say: string | null;
}

export class LinkWatch {
  /** When the episode began (the first probe unanswered), or null while the link answers. */
  private since: number | null = null;
  private saidDrop = false;
  /** When the link's connection was made, while its handshake (and resubscriptions) waits for Redis's answers. */
  private handshakeSince: number | null = null;

  constructor(private readonly deadlineMs = PROBE_DEADLINE_MS) {}

  /** The link's socket connected: its handshake is under way. */
  connected(now: number): void {
    this.handshakeSince = now;
  }

  /** The link became ready, or its attempt failed (the client tries again by itself). */
  settled(): void {
    this.handshakeSince = null;
  }

  /**
   * At a tick: probe a ready link; drop a connection whose handshake has had no answer within the deadline (a
   * healthy Redis answers in a moment; one that lost the handshake never will); else let the client be (between
   * its attempts, or connecting).
   */
  tick(now: number, ready: boolean): 'probe' | 'drop' | 'wait' {
    if (ready) return 'probe';
    if (this.handshakeSince === null || now - this.handshakeSince < this.deadlineMs) return 'wait';
    this.handshakeSince = null;
    return 'drop';
  }

  /** The probe was answered: the line that ends an episode, if one was under way. */
  answered(now: number): string | null {
    if (this.since === null) return null;
    const secs = ((now - this.since) / 1000).toFixed(1);
    [this.since, this.saidDrop] = [null, false];
    return `the Redis link answers again (${secs}s after it was found silent)`;
  }

  /**
   * The link did not answer (or did not become ready), and a new connection saw `seen`. A Redis that holds the
   * link's commands will answer them: dropping the link would lose them (Redis forgets a closed connection's
   * paused commands). Otherwise the link is dropped, also while Redis cannot be reached at all: what was sent on
   * it may be lost, and a stream that lost an answer gives each later command the answer of the one before.
   */
  judged(now: number, seen: Seen): Judged {
    const drop = seen !== 'held' && seen !== 'busy';
    const wait = `${this.deadlineMs / 1000}s`;
    let say: string | null = null;
    if (this.since === null) {
      this.since = now;
      say = {
        unreachable: `the Redis link is silent (no answer in ${wait}, nor on a new connection)`,
        silent: `the Redis link is silent (no answer in ${wait}, while Redis answers a new connection)`,
        handshake: `the Redis link is silent (a new connection's handshake got no answer in ${wait})`,
        held: `Redis holds this link's commands (no answer in ${wait}: paused, or busy with a script)`,
        busy: `Redis holds this link's commands (no answer in ${wait}: paused, or busy with a script)`,
      }[seen];
    }
    if (drop && !this.saidDrop) {
      this.saidDrop = true;
      say = `${say ?? 'the Redis link is still silent'}: its connection is dropped and opened again`;
    }
    return { drop, say };
  }
}
