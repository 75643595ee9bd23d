/**
 * How an LFTP endpoint learns a transfer's master key from its SYN, and
 * whether the SYN proves it (common/lftp/protect/keys.ts): from the ticket
 * (the chat's endpoint, with the ticket secret every worker shares), from
 * --token (the standalone one; wrong tries are slowed per address before any
 * scrypt is spent on them), or not at all (--open: nothing is protected).
 *
 * A token's scrypt is costly (~40 ms, 16 MiB), so a --token endpoint first
 * validates the SYN's source address, statelessly (addressCheck: the SYN must
 * come back with the token of a RETRY, common/lftp/protect/retry-token.ts):
 * a forged source never gets that far. A ticket's check is two HMACs, no more
 * than the token's own: ticket endpoints ask for no RETRY.
 */
import { randomBytes } from 'node:crypto';
import { LftpError } from '../../common/lftp/engine/errors.js';
import { LFTP_DEFAULTS } from '../../common/lftp/defaults.js';
import { proofMatches, ticketMaster, tokenMaster, type SynFacts } from '../../common/lftp/protect/keys.js';
import { checkRetryToken, mintRetryToken, RETRY_SECRET_BYTES } from '../../common/lftp/protect/retry-token.js';
import { AuthThrottle } from '../auth-throttle.js';

/** Token checks (scrypt, ~40 ms and 16 MiB each) running at once at most; more SYNs meanwhile are told BUSY. */
export const MAX_TOKEN_CHECKS = 8;
/**
 * A salt whose master key a SYN proved is remembered this long (at most PROVEN_SALTS of them): a folder's files
 * come with one salt (docs/LFTP.md, "Folders"), and each would otherwise cost a scrypt on both sides.
 */
export const PROVEN_SALT_MS = 10 * 60_000;
export const PROVEN_SALTS = 256;

export type LftpKeying = { kind: 'ticket'; secret: Buffer } | { kind: 'token'; token: string } | { kind: 'open' };

export interface SignedSyn {
  auth: string | undefined;
  salt: Buffer | undefined;
  proof: Buffer | undefined;
  /** The SYN's `retry`: absent (a client from before RETRY), empty (no token yet), or a RETRY's token. */
  retry?: Buffer | undefined;
}

/** What the endpoint's SYN checks have cost and refused (logged as "lftp: SYN checks"). */
export interface SynCounts {
  /** RETRYs sent (each a token minted, nothing kept). */
  retries: number;
  /** SYNs whose token was forged, expired, or not for that SYN from that address and port. */
  retryTokensRefused: number;
  /** SYNs without `retry` to an endpoint that validates addresses. */
  oldClients: number;
  /** scrypt runs (one per SYN whose token was checked). */
  scryptChecks: number;
}

/** The RETRY token's secret (random per run unless given) and lifetime. */
export interface RetrySettings {
  secret: Buffer;
  lifetimeMs: number;
}

export class SynKeys {
  private readonly throttle = new AuthThrottle();
  private checking = 0;
  /** Salts (hex) whose master a SYN proved, oldest first, with when. */
  private readonly proven = new Map<string, { master: Buffer; at: number }>();
  readonly counts: SynCounts = { retries: 0, retryTokensRefused: 0, oldClients: 0, scryptChecks: 0 };

  constructor(
    private readonly keying: LftpKeying,
    private readonly retry: RetrySettings = {
      secret: randomBytes(RETRY_SECRET_BYTES),
      lifetimeMs: LFTP_DEFAULTS.retryTokenLifetimeMs,
    },
  ) {}

  /**
   * Address validation, before anything costly: on a --token endpoint, the token to answer the SYN with in a
   * RETRY, or null when the SYN may go on (its token is good; or this endpoint asks for none; or the SYN is not
   * signed, which check() refuses). Throws LftpError for a SYN that cannot answer a RETRY or whose token is bad.
   */
  addressCheck(
    syn: SignedSyn,
    facts: Omit<SynFacts, 'salt'>,
    from: { address: string; port: number },
    now: number,
  ): Buffer | null {
    if (this.keying.kind !== 'token' || !syn.salt || !syn.proof) return null;
    const binding = { ...from, syn: { ...facts, salt: syn.salt }, proof: syn.proof };
    if (syn.retry === undefined) {
      this.counts.oldClients++;
      throw new LftpError('BAD_REQUEST', 'this server checks addresses first (RETRY): update chat-client');
    }
    if (syn.retry.length === 0) {
      this.counts.retries++;
      return mintRetryToken(this.retry.secret, binding, now, this.retry.lifetimeMs);
    }
    const verdict = checkRetryToken(this.retry.secret, syn.retry, binding, now);
    if (verdict === 'ok') return null;
    this.counts.retryTokensRefused++;
    throw new LftpError(
      'AUTH',
      verdict === 'expired'
        ? 'address validation token expired: try again'
        : 'address validation failed: the token is not for this SYN from this address',
    );
  }

  /** The master key the SYN proved, or null on an --open endpoint; throws LftpError AUTH otherwise. */
  async check(syn: SignedSyn, facts: Omit<SynFacts, 'salt'>, address: string, now: number): Promise<Buffer | null> {
    const k = this.keying;
    if (k.kind === 'open') {
      if (syn.salt)
        throw new LftpError('AUTH', 'this server is open (it has no token): run the client without --token');
      return null;
    }
    if (k.kind === 'ticket') {
      if (!syn.auth) throw new LftpError('AUTH', 'a ticket is required: ask for one over the chat session');
      if (!syn.salt || !syn.proof)
        throw new LftpError(
          'AUTH',
          "this server protects every transfer: the request must be signed with its ticket's key (TICKET's key; chat-client lftp --ticket T --ticket-key K)",
        );
      const master = ticketMaster(k.secret, syn.auth ?? '');
      if (!proofMatches(master, { ...facts, salt: syn.salt }, syn.proof))
        throw new LftpError('AUTH', "the request is not signed with its ticket's key");
      return master;
    }
    if (!syn.salt || !syn.proof) throw new LftpError('AUTH', 'this server needs a token (--token)');
    const admitted = this.throttle.admit(address, now);
    if (!admitted.ok)
      throw new LftpError(
        'AUTH',
        `too many wrong tokens from ${address}; try again in ${Math.ceil(admitted.retryAfterMs / 1000)} s`,
      );
    const salt = syn.salt.toString('hex');
    const known = this.proven.get(salt);
    if (known && now - known.at < PROVEN_SALT_MS) {
      if (!proofMatches(known.master, { ...facts, salt: syn.salt }, syn.proof)) {
        this.throttle.failed(address, now);
        throw new LftpError('AUTH', 'wrong token');
      }
      return known.master;
    }
    if (this.checking >= MAX_TOKEN_CHECKS)
      throw new LftpError(
        'BUSY',
        `server busy: ${MAX_TOKEN_CHECKS} requests are having their token checked; try again`,
      );
    this.checking++;
    this.counts.scryptChecks++;
    const master = await tokenMaster(k.token, syn.salt).finally(() => this.checking--);
    if (!proofMatches(master, { ...facts, salt: syn.salt }, syn.proof)) {
      this.throttle.failed(address, Date.now());
      throw new LftpError('AUTH', 'wrong token');
    }
    this.throttle.succeeded(address);
    this.proven.delete(salt);
    this.proven.set(salt, { master, at: now });
    if (this.proven.size > PROVEN_SALTS) this.proven.delete(this.proven.keys().next().value!);
    return master;
  }
}
