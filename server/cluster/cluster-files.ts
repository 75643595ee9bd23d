/**
 * Files across a cluster's nodes: each node serves its own --files, and
 * tells the others what it holds and where to fetch it (its --advertise
 * address and LFTP port) in one key that expires unless renewed, so that a
 * dead node's files leave every listing by themselves. A ticket for a file
 * another node holds is kept in Redis until that node spends it: GETDEL
 * takes it once, whichever of the holder's workers the handshake reaches.
 * Its LFTP key is derived from the cluster's one ticket secret
 * (process/redis-secrets.ts), as on a single node, so nothing secret is kept
 * with it.
 * The same key says where the node's web side is (its origin), so that the
 * chat page can go on with another node when its own is lost.
 *   {p}files:NODE  string with an expiry: {"host", "port", "web"?, "files": FileEntry[]}
 *   {p}tk:TICKET   string with an expiry: {"op", "name", "nick", "node"}
 */
import { randomBytes } from 'node:crypto';
import type { FileEntry } from '../../common/protocol.js';
import type { ClusterKeys } from './keys.js';
import type { RedisLink } from './redis-link.js';
import { LuaScript } from './lua.js';

/** How often a node says what it holds, and how long that stands: a dead node's files go within FILES_TTL_MS. */
export const FILES_EVERY_MS = 5_000;
export const FILES_TTL_MS = 15_000;

export interface NodeFiles {
  node: string;
  /** Where other machines reach it (--advertise) and its LFTP port. */
  host: string;
  port: number;
  /** Its web side's origin as other machines reach it (http://HOST:PORT), when it has one. */
  web?: string;
  files: FileEntry[];
}

/** A ticket another node issued for a file this one holds: who asked. */
export type RemoteRedeem = { ok: true; nick: string } | { ok: false; reason: string };

/** KEYS: the ticket. ARGV: this node. -> nil (none), {1, ticket} taken, or {0, ticket}: another node's, left. */
const TAKE_TICKET = new LuaScript(
  'take-ticket',
  `
local v = redis.call('GET', KEYS[1])
if not v then return nil end
if cjson.decode(v).node ~= ARGV[1] then return {0, v} end
redis.call('DEL', KEYS[1])
return {1, v}
`,
);

export class ClusterFiles {
  constructor(
    private readonly link: RedisLink,
    private readonly keys: ClusterKeys,
    readonly node: string,
  ) {}

  /** This node's listing, standing for FILES_TTL_MS. */
  async publish(host: string, port: number, files: FileEntry[], web: string | null): Promise<void> {
    const listing = { host, port, ...(web !== null ? { web } : {}), files };
    await this.link.set(this.filesKey(this.node), JSON.stringify(listing), { PX: FILES_TTL_MS });
  }

  /** Every other node's listing that still stands (live nodes that said so within FILES_TTL_MS). */
  async others(): Promise<NodeFiles[]> {
    const nodes = (await this.link.sMembers(this.keys.nodes)).filter((n) => n !== this.node).sort();
    if (nodes.length === 0) return [];
    const values = await this.link.mGet(nodes.map((n) => this.filesKey(n)));
    const out: NodeFiles[] = [];
    values.forEach((json, i) => {
      if (json === null) return;
      try {
        const v = JSON.parse(json) as Omit<NodeFiles, 'node'>;
        if (typeof v.host === 'string' && typeof v.port === 'number' && Array.isArray(v.files))
          out.push({ node: nodes[i]!, ...v });
      } catch {
        // A damaged or newer listing: that node's files are not offered here.
      }
    });
    return out;
  }

  /** A one-time ticket to get `name` from `holder`, for ttlMs; the ticket (32 hex digits, as a local one). */
  async issue(name: string, nick: string, holder: string, ttlMs: number): Promise<string> {
    const ticket = randomBytes(16).toString('hex');
    const value = JSON.stringify({ op: 'get', name, nick, node: holder });
    await this.link.set(this.ticketKey(ticket), value, { PX: ttlMs, NX: true });
    return ticket;
  }

  /**
   * Spends a ticket another node issued for this node's file: once, for the op and name it was issued for. One
   * sent to the wrong node is not spent there (the script takes it only on its node).
   */
  async redeem(ticket: string, op: string, name: string): Promise<RemoteRedeem> {
    if (!/^[0-9a-f]{32}$/.test(ticket)) return { ok: false, reason: 'malformed ticket' };
    const r = (await TAKE_TICKET.run(this.link, [this.ticketKey(ticket)], [this.node])) as [number, string] | null;
    if (r === null) return { ok: false, reason: 'unknown or already used ticket' };
    const t = JSON.parse(r[1]) as { op: string; name: string; nick: string; node: string };
    if (r[0] !== 1) return { ok: false, reason: `ticket is for node ${t.node}` };
    if (t.op !== op || t.name !== name) return { ok: false, reason: `ticket is for ${t.op} ${JSON.stringify(t.name)}` };
    return { ok: true, nick: t.nick };
  }

  private filesKey(node: string): string {
    return `${this.keys.prefix}files:${node}`;
  }

  private ticketKey(ticket: string): string {
    return `${this.keys.prefix}tk:${ticket}`;
  }
}
