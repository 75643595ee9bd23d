/**
 * A node's presence in the cluster: the cluster's version of the session
 * table's robust lock. The node holds a lease (a Redis key with an expiry,
 * renewed every `renewMs`); while it lives, the node's sessions are its own.
 * Each renewal also brings the cluster's records of this node in step with
 * its session table (sessions that ended, went away or came back), so that
 * no path that frees a slot needs to tell Redis itself, and looks for nodes
 * whose lease is gone: their connected sessions become away (their clients
 * may resume them on any node, within the resume window), and end when the
 * window has passed. A node that finds its own lease lapsed (cut off from
 * Redis longer than the lease) ends the sessions the cluster no longer has.
 *
 * Bounds: a dead node's users are away within leaseMs + renewMs of its last
 * renewal, and ended within that plus the resume window (docs/ARCHITECTURE.md).
 */
import { randomBytes } from 'node:crypto';
import { ClusterError } from './cluster-error.js';
import { sessionKey } from '../bus/node-id.js';
import type { SessionInfo, SessionTable, SlotRef } from '../shm/session-table.js';
import { sessionScriptKeys, type ClusterKeys } from './keys.js';
import { addressCounts, AddressCountWriter } from './address-counts.js';
import type { RedisLink } from './redis-link.js';
import { REAP, RECONCILE, RENEW } from './presence-scripts.js';
import { newRecord, parseRecord, type SessionRecord } from './session-records.js';
import { CLAIM } from './nick-scripts.js';
import { CLUSTER_GENERATION } from './generation.js';

export interface PresenceEvents {
  /** Sessions of a dead node: `away` lost their node now; `ended` were away past the resume window. */
  reaped(node: string, away: SessionRecord[], ended: SessionRecord[]): void;
  /** This node's sessions whose nicks the cluster gave to others while it was cut off (or that moved to another node): end them here. */
  lost(sessions: SlotRef[]): void;
  /** Sessions the cluster had lost (Redis came back empty, or reaped them) claimed again: `kept` did, `lost` could not. */
  reclaimed(kept: number, lost: number): void;
  /** A renewal failed (Redis unreachable) or came back: for the log and the operator. */
  link(ok: boolean, detail: string): void;
}

export interface PresenceOptions {
  leaseMs: number;
  renewMs: number;
  resumeWindowMs: number;
  /** This node's format generation (generation.ts); CLUSTER_GENERATION unless a test claims another. */
  generation?: number;
}

/** A lease of 10 s renewed every 2 s: a node may miss four renewals (a stall, a Redis blip) before it is thought dead. */
export const DEFAULT_PRESENCE = { leaseMs: 10_000, renewMs: 2_000 } as const;

export class NodePresence {
  private timer: NodeJS.Timeout | null = null;
  /** This run of the node: the lease holds it, so that a second process with the same id is noticed. */
  readonly run = randomBytes(6).toString('hex');
  private running: Promise<void> | null = null;
  private linkOk = true;
  /** Its connected sessions by address, for the cluster's per-address limit (address-counts.ts). */
  private readonly addresses: AddressCountWriter;

  constructor(
    private readonly link: RedisLink,
    private readonly keys: ClusterKeys,
    private readonly node: string,
    private readonly table: SessionTable,
    private readonly opts: PresenceOptions,
    private readonly events: PresenceEvents,
    private readonly now: () => number = Date.now,
  ) {
    this.addresses = new AddressCountWriter(link, keys, node, opts.leaseMs);
  }

  /** The lease alone, taken or renewed: a node starting holds it before its sessions are all in its table. */
  async renewOnly(): Promise<void> {
    const lease = await this.renew();
    if (lease === 'stolen')
      throw new ClusterError(
        'NODE_ID_IN_USE',
        `another chat-server holds node ${this.node}'s lease: give each node its own --node-id`,
      );
    if (typeof lease !== 'string') throw new ClusterError('CLUSTER_GENERATION', lease.refused);
  }

  /** RENEW with this node's arguments; a refusal for its generation as the line that says why. */
  private async renew(): Promise<'ok' | 'lapsed' | 'stolen' | { refused: string }> {
    const mine = this.opts.generation ?? CLUSTER_GENERATION;
    const args = [this.keys.prefix, this.node, String(this.opts.leaseMs), this.run, String(mine)];
    const r = (await RENEW.run(this.link, sessionScriptKeys(this.keys), args)) as string | string[];
    if (typeof r === 'string') return r as 'ok' | 'lapsed' | 'stolen';
    const [, theirs, ...live] = r;
    const what =
      theirs === '0' ? 'generation 0 (a version from before generations were checked)' : `generation ${theirs}`;
    return {
      refused:
        `this node runs cluster generation ${mine}, but the cluster's live nodes (${live.join(', ')}) run ${what}: ` +
        'the nodes of a cluster must run one version; stop them all, then start the new one (docs/ARCHITECTURE.md, "Upgrading a cluster")',
    };
  }

  /** The first renewal, awaited (a start that cannot reach Redis fails), then one every renewMs. */
  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(
      () => void (this.running ??= this.safeTick().finally(() => (this.running = null))),
      this.opts.renewMs,
    );
    this.timer.unref();
  }

  /** Stops renewing (the lease then ends by itself); waits for a renewal under way. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One renewal: the lease, this node's records, then the dead nodes'. */
  async tick(): Promise<void> {
    const prefix = this.keys.prefix;
    const keys = sessionScriptKeys(this.keys);
    const lease = await this.renew();
    if (lease === 'stolen') {
      // Another chat-server runs with this node's id: its sessions would be taken for this node's and dropped.
      this.events.link(false, `another chat-server holds node ${this.node}'s lease: give each node its own --node-id`);
      return;
    }
    // Its lease lapsed and nodes of another generation took over meanwhile: it must write nothing of theirs.
    if (typeof lease !== 'string') return this.events.link(false, lease.refused);
    // The wall clock the records were stamped with (session-records.ts), not the reaping clock.
    const readAt = Date.now();
    const mine = this.table.snapshot();
    const triples = mine.flatMap((s) => [
      sessionKey({ node: this.node, ...s }),
      String(s.awaySince ?? 0),
      String(s.owner),
    ]);
    const args = [prefix, this.node, String(readAt), ...triples];
    const missing = new Set((await RECONCILE.run(this.link, keys, args)) as string[]);
    if (missing.size > 0) await this.reclaim(mine.filter((s) => missing.has(sessionKey({ node: this.node, ...s }))));
    await this.addresses.write(addressCounts(mine));
    for (const other of await this.link.sMembers(this.keys.nodes)) {
      if (other === this.node) continue;
      const args = [prefix, other, String(this.now()), String(this.opts.resumeWindowMs)];
      const [away, ended] = (await REAP.run(this.link, keys, args)) as [string[], string[]];
      if (away.length + ended.length > 0) this.events.reaped(other, away.map(parseRecord), ended.map(parseRecord));
    }
  }

  /**
   * Sessions of this node the cluster does not have: it lost them (a Redis that came back empty), or let them
   * go while this node was cut off (reaped, or resumed on another node). Each claims its nick again; one whose
   * nick is someone else's now (another session, or itself moved to another node) ends here.
   */
  private async reclaim(sessions: SessionInfo[]): Promise<void> {
    const lost: SlotRef[] = [];
    for (const s of sessions) {
      const token = this.table.tokenOf(s);
      const record = newRecord(
        this.node,
        { ...s, now: s.connectedAt, token, away: s.away, awaySince: s.awaySince ?? undefined },
        s,
      );
      const r = (await CLAIM.run(this.link, sessionScriptKeys(this.keys), [
        this.keys.prefix,
        record.key,
        JSON.stringify(record),
        // Its own key is no conflict (its worker's claim may have landed since the table was read).
        record.key,
        '0',
      ])) as string[];
      if (r[0] !== 'ok') lost.push({ slot: s.slot, generation: s.generation });
    }
    this.events.reclaimed(sessions.length - lost.length, lost.length);
    if (lost.length > 0) this.events.lost(lost);
  }

  private async safeTick(): Promise<void> {
    try {
      await this.tick();
      if (!this.linkOk) this.events.link((this.linkOk = true), 'the cluster is reachable again');
    } catch (err) {
      if (this.linkOk)
        this.events.link((this.linkOk = false), `cannot renew this node's lease: ${(err as Error).message}`);
    }
  }
}
