/**
 * Tickets across a cluster's nodes: what each session and each network holds, counted for the whole cluster
 * (files/ticket-holds.ts), and the tickets for a file another node holds (kept in Redis until that node spends
 * them). A node's own table (shm/ticket-table.ts) still issues and spends the tickets for its own files; here
 * each ticket issued anywhere is also a hold, counted against its session and its network until it expires
 * unused (TICKET_TTL_MS), is given back (its session went away), or its transfer ends:
 *   {p}th:s:SESSION  sorted set  TICKET:PREFIX   -> until when it counts (ms, Redis's clock)
 *   {p}th:p:PREFIX   sorted set  TICKET:SESSION  -> the same
 *   {p}tk:TICKET     string with an expiry: a ticket for another node's file {"op","name","nick","node","s","p"}
 * SESSION is `node/run/sessionId` (a node's run, so that a restarted node's sessions are not its previous run's),
 * PREFIX the network's prefixKey (shm/ticket-limits.ts). A ticket is taken (issued and counted) in one script
 * that first drops what no longer counts: two nodes issuing to one network at once are two steps, the second
 * refused at the limit. A running transfer counts until RUN_LEASE_MS from its last renewal: the worker running it
 * renews it every RENEW_EVERY_MS and removes it when it ends, so a transfer of a worker or node that died stops
 * counting by itself within RUN_LEASE_MS. Times are Redis's clock, one for every node.
 */
import { randomBytes } from 'node:crypto';
import type { RemoteRedeem, TicketHolds, TicketOwner } from '../files/ticket-holds.js';
import { TICKETS_PER_PREFIX, TICKETS_PER_SESSION, TICKET_TTL_MS } from '../shm/ticket-limits.js';
import type { ClusterKeys } from './keys.js';
import { END, HOLD, REDEEM, REVOKE, TAKE } from './ticket-scripts.js';
import type { RedisLink } from './redis-link.js';

/** How long a running transfer counts after its last renewal. */
export const RUN_LEASE_MS = 30_000;
/** How often a worker renews the transfers it runs. */
export const RENEW_EVERY_MS = 10_000;
/** The holds' keys stand this long after their last write (each write renews them). */
const KEY_TTL_MS = 2 * Math.max(TICKET_TTL_MS, RUN_LEASE_MS);
interface RemoteRecord {
  op: string;
  name: string;
  nick: string;
  node: string;
  s?: string;
  p?: string;
}

export class ClusterTickets implements TicketHolds {
  /** The transfers this worker runs, by ticket (a browser's resume may run a second beside the first). */
  private readonly runningHere = new Map<string, { owner: TicketOwner; n: number }>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly link: RedisLink,
    private readonly keys: ClusterKeys,
    private readonly node: string,
    /** This run of the node (the same in all its workers). */
    private readonly run: string,
    /** A count that could not be written (Redis unreachable): for the log. It heals as the holds expire. */
    private readonly lost: (err: Error) => void = () => undefined,
    /** How long a running transfer counts after its last renewal, and how often this worker renews its own. */
    private readonly lease = { runMs: RUN_LEASE_MS, renewMs: RENEW_EVERY_MS },
  ) {}

  sessionKey(session: number): string {
    return `${this.node}/${this.run}/${session}`;
  }

  async take(ticket: string, owner: TicketOwner): Promise<'ok' | 'limit' | 'prefix'> {
    return (await this.takeWith(ticket, owner, null)) as 'ok' | 'limit' | 'prefix';
  }

  running(ticket: string, owner: TicketOwner): void {
    const here = this.runningHere.get(ticket);
    if (here) {
      here.n++;
      return;
    }
    this.runningHere.set(ticket, { owner, n: 1 });
    this.hold([[ticket, owner]]);
    this.renewing();
  }

  ended(ticket: string, owner: TicketOwner, again: boolean): void {
    const here = this.runningHere.get(ticket);
    if (here && --here.n > 0) return;
    this.runningHere.delete(ticket);
    const [s, sm, p, pm] = this.members(ticket, owner);
    END.run(this.link, [], [again ? '1' : '0', String(TICKET_TTL_MS), String(KEY_TTL_MS), s, sm, p, pm]).catch(
      (err: unknown) => this.lost(err as Error),
    );
  }

  revoke(session: number, tickets: ReadonlyArray<{ ticket: string; prefix: number }>): void {
    REVOKE.run(this.link, [], [this.keys.prefix, this.sessionKey(session), ...tickets.map((t) => t.ticket)]).catch(
      (err: unknown) => this.lost(err as Error),
    );
  }

  /**
   * A one-time ticket to get `name` from node `holder`, counted against its owner as this node's own are: the
   * ticket (32 hex digits), or which holds its most already. Rejects when Redis cannot be asked.
   */
  async issueRemote(
    name: string,
    nick: string,
    holder: string,
    owner: TicketOwner,
  ): Promise<{ ok: true; ticket: string } | { ok: false; kind: 'limit' | 'prefix' }> {
    const ticket = randomBytes(16).toString('hex');
    const record: RemoteRecord = { op: 'get', name, nick, node: holder, s: owner.session, p: String(owner.prefix) };
    const r = await this.takeWith(ticket, owner, record);
    return r === 'ok' ? { ok: true, ticket } : { ok: false, kind: r as 'limit' | 'prefix' };
  }

  /**
   * Spends a ticket another node issued for this node's file: once, for the op and name it was issued for; its
   * transfer counts against its owner (wherever that is) until ended() is called, renewed meanwhile.
   */
  async redeemRemote(ticket: string, op: string, name: string): Promise<RemoteRedeem> {
    if (!/^[0-9a-f]{32}$/.test(ticket)) return { ok: false, reason: 'malformed ticket' };
    const r = (await REDEEM.run(
      this.link,
      [`${this.keys.prefix}tk:${ticket}`],
      [this.node, op, name, this.keys.prefix, String(this.lease.runMs), String(KEY_TTL_MS)],
    )) as [number, string] | null;
    if (r === null) return { ok: false, reason: 'unknown or already used ticket' };
    const t = JSON.parse(r[1]) as RemoteRecord;
    if (r[0] === 0) return { ok: false, reason: `ticket is for node ${t.node}` };
    if (r[0] === 2) return { ok: false, reason: `ticket is for ${t.op} ${JSON.stringify(t.name)}` };
    if (t.s === undefined || t.p === undefined) return { ok: true, nick: t.nick };
    const owner = { session: t.s, prefix: Number(t.p) };
    // The script counted it as running: renewed here from now on.
    this.runningHere.set(ticket, { owner, n: 1 });
    this.renewing();
    let done = false;
    return {
      ok: true,
      nick: t.nick,
      ended: () => {
        if (done) return;
        done = true;
        this.ended(ticket, owner, false);
      },
    };
  }

  /** Stops renewing (the worker is going; what it ran stops counting within RUN_LEASE_MS). */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async takeWith(ticket: string, owner: TicketOwner, record: RemoteRecord | null): Promise<string> {
    const [s, sm, p, pm] = this.members(ticket, owner);
    return String(
      await TAKE.run(this.link, p === '' ? [s] : [s, p], [
        sm,
        pm,
        String(TICKETS_PER_SESSION),
        String(TICKETS_PER_PREFIX),
        String(TICKET_TTL_MS),
        String(KEY_TTL_MS),
        record ? `${this.keys.prefix}tk:${ticket}` : '',
        record ? JSON.stringify(record) : '',
      ]),
    );
  }

  /** The session's holds and the ticket's member there, the network's ('' for none) and its member there. */
  private members(ticket: string, owner: TicketOwner): [string, string, string, string] {
    const { prefix } = this.keys;
    return [
      `${prefix}th:s:${owner.session}`,
      `${ticket}:${owner.prefix}`,
      owner.prefix === 0 ? '' : `${prefix}th:p:${owner.prefix}`,
      `${ticket}:${owner.session}`,
    ];
  }

  private hold(list: Array<[string, TicketOwner]>): void {
    if (list.length === 0) return;
    const args = [String(this.lease.runMs), String(KEY_TTL_MS), ...list.flatMap(([t, o]) => this.members(t, o))];
    HOLD.run(this.link, [], args).catch((err: unknown) => this.lost(err as Error));
  }

  /** Every RENEW_EVERY_MS while this worker runs transfers: they go on counting. */
  private renewing(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.runningHere.size === 0) return this.close();
      this.hold([...this.runningHere].map(([t, h]) => [t, h.owner]));
    }, this.lease.renewMs);
    this.timer.unref();
  }
}
