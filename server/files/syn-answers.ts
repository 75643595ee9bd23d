/**
 * The SYNs of one connection attempt (address, port and connection id) are checked once. While one is being
 * checked its copies are dropped. Once it was refused for its credentials (AUTH), a copy that comes after (the
 * same request, resent before the ERR reached the client, or after the ERR was lost) gets the same ERR again, not
 * a second check: a
 * wrong token counts once against its address (syn-keys.ts), however often the client sends it. Other refusals
 * (BUSY, a name, a size) are not remembered: the same SYN may well be taken a moment later.
 */

/** How long a refusal is answered again from memory. */
export const REFUSAL_MEMORY_MS = 10_000;
/** Refusals remembered at most (the oldest go first): a bound on what a flood of bad SYNs can make us keep. */
export const REFUSALS_KEPT = 1024;

export class SynAnswers {
  private readonly checking = new Set<string>();
  private readonly refused = new Map<string, { request: Buffer; answer: Buffer; at: number }>();

  /**
   * 'check': a new attempt (done() when its check ends); 'drop': a copy of one being checked; else the ERR the same
   * request (`request`: the SYN's payload) got.
   */
  begin(key: string, request: Buffer, now: number): 'check' | 'drop' | Buffer {
    if (this.checking.has(key)) return 'drop';
    const known = this.refused.get(key);
    if (known && now - known.at < REFUSAL_MEMORY_MS && known.request.equals(request)) return known.answer;
    if (known) this.refused.delete(key);
    this.checking.add(key);
    return 'check';
  }

  done(key: string): void {
    this.checking.delete(key);
  }

  /** The attempt was refused for its credentials with `answer`. */
  refusedAuth(key: string, request: Buffer, answer: Buffer, now: number): void {
    this.refused.delete(key);
    this.refused.set(key, { request: Buffer.from(request), answer, at: now });
    if (this.refused.size > REFUSALS_KEPT) this.refused.delete(this.refused.keys().next().value!);
  }
}
