/**
 * How an LFTP endpoint learns a transfer's master key from its SYN, and
 * whether the SYN proves it (common/lftp/protect/keys.ts): from the ticket
 * (the chat's endpoint, with the ticket secret every worker shares), from
 * --token (the standalone one; wrong tries are slowed per address before any
 * scrypt is spent on them), or not at all (--open: nothing is protected).
 */
import { LftpError } from '../../common/lftp/engine/errors.js';
import { proofMatches, ticketMaster, tokenMaster, type SynFacts } from '../../common/lftp/protect/keys.js';
import { AuthThrottle } from '../auth-throttle.js';

/** Token checks (scrypt, ~40 ms and 16 MiB each) running at once at most; more SYNs meanwhile are told BUSY. */
export const MAX_TOKEN_CHECKS = 8;

export type LftpKeying = { kind: 'ticket'; secret: Buffer } | { kind: 'token'; token: string } | { kind: 'open' };

export interface SignedSyn {
  auth: string | undefined;
  salt: Buffer | undefined;
  proof: Buffer | undefined;
}

export class SynKeys {
  private readonly throttle = new AuthThrottle();
  private checking = 0;

  constructor(private readonly keying: LftpKeying) {}

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
    if (this.checking >= MAX_TOKEN_CHECKS)
      throw new LftpError(
        'BUSY',
        `server busy: ${MAX_TOKEN_CHECKS} requests are having their token checked; try again`,
      );
    this.checking++;
    const master = await tokenMaster(k.token, syn.salt).finally(() => this.checking--);
    if (!proofMatches(master, { ...facts, salt: syn.salt }, syn.proof)) {
      this.throttle.failed(address, Date.now());
      throw new LftpError('AUTH', 'wrong token');
    }
    this.throttle.succeeded(address);
    return master;
  }
}
