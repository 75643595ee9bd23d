/**
 * Files across a cluster's nodes: each node serves its own --files, and
 * tells the others what it holds and where to fetch it (its --advertise
 * address and LFTP port) in one key that expires unless renewed, so that a
 * dead node's files leave every listing by themselves. A ticket for a file
 * another node holds is kept in Redis until that node spends it
 * (cluster-tickets.ts).
 * The same key says where the node's web side is (its origin), so that the
 * chat page can go on with another node when its own is lost.
 *   {p}files:NODE  string with an expiry: {"host", "port", "web"?, "files": FileEntry[]}
 */
import type { FileEntry } from '../../common/protocol.js';
import type { ClusterKeys } from './keys.js';
import type { RedisLink } from './redis-link.js';

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

  private filesKey(node: string): string {
    return `${this.keys.prefix}files:${node}`;
  }
}
