/**
 * What a cluster's chat session asks about files (a second FilesPort, over
 * this node's): /files lists this node's files and then every other live
 * node's, each marked with the node that holds it; a ticket for a file
 * another node holds is issued through Redis (cluster/cluster-tickets.ts),
 * counted against its session and network as this node's own tickets are,
 * and points the client at that node's address and LFTP port. A name this node
 * holds is always its own. A folder on another node is not offered as one
 * ticket (its files are fetched one connection each, under the folder's
 * ticket, which only the holder's table keeps): the refusal says where it is.
 * Redis unreachable: this node's files only, said in the log.
 */
import type { FileEntry, ServerMessage } from '../../common/protocol.js';
import { ticketMaster } from '../../common/lftp/protect/keys.js';
import type { ClusterFiles, NodeFiles } from '../cluster/cluster-files.js';
import type { ClusterTickets } from '../cluster/cluster-tickets.js';
import { addressPrefix } from '../shm/address-table.js';
import { prefixKey, ticketLimitText } from '../shm/ticket-limits.js';
import type { Logger } from '../logger.js';
import type { FilesPort } from './files-port.js';

type FilesReply = Extract<ServerMessage, { type: 'FILES_REPLY' }>;

export function clusterFilesPort(
  local: FilesPort,
  cluster: ClusterFiles,
  tickets: ClusterTickets,
  /** The cluster's ticket secret (the same on every node). */
  secret: () => Buffer,
  maxFrame: number,
  log: Logger,
): FilesPort {
  const others = () =>
    cluster.others().catch((err: unknown) => {
      log.warn({ err: (err as Error).message }, "cannot read the other nodes' files from Redis");
      return [] as NodeFiles[];
    });
  return {
    get lftpPort() {
      return local.lftpPort;
    },
    ...(local.release ? { release: local.release } : {}),
    async list() {
      const mine = (await local.list()) as FilesReply;
      return merged(mine, await others(), maxFrame);
    },
    async ticket(id, op, name, size, owner) {
      const answer = await local.ticket(id, op, name, size, owner);
      if (answer.type !== 'TICKET' || answer.ok || op !== 'get' || answer.code !== 'NOT_FOUND') return answer;
      const holder = (await others()).find((n) => n.files.some((f) => f.name === name || f.name === `${name}/`));
      const file = holder?.files.find((f) => f.name === name || f.name === `${name}/`);
      if (!holder || !file) return answer;
      if (file.name.endsWith('/'))
        return {
          ...answer,
          message: `${file.name} is a folder on node ${holder.node}: connect to that node to get it`,
        };
      const prefix = addressPrefix(owner.address);
      const held = { session: tickets.sessionKey(owner.session), prefix: prefix === null ? 0 : prefixKey(prefix) };
      const issued = await tickets.issueRemote(file.name, owner.nick, holder.node, held).catch((err: unknown) => {
        log.warn({ err: (err as Error).message }, 'cannot issue a ticket for another node');
        return { ok: false as const, kind: null };
      });
      if (!issued.ok)
        return {
          ...answer,
          code: 'BUSY',
          message:
            issued.kind === null
              ? `${file.name} is on node ${holder.node}, and the cluster cannot issue its ticket now; try again in a moment`
              : ticketLimitText(issued.kind, prefix),
        };
      const { ticket } = issued;
      log.info({ op, file: file.name, nick: owner.nick, node: holder.node }, 'ticket issued for another node');
      const key = ticketMaster(secret(), ticket).toString('base64url');
      return {
        type: 'TICKET',
        id,
        ok: true,
        op,
        name: file.name,
        ticket,
        key,
        port: holder.port,
        host: holder.host,
        size: file.size,
      };
    },
  };
}

/** This node's listing, then the others' files it does not hold itself, as many as the frame has room for. */
function merged(mine: FilesReply, nodes: NodeFiles[], maxFrame: number): FilesReply {
  const seen = new Set(mine.files.map((f) => f.name));
  const files: FileEntry[] = [...mine.files];
  let room = maxFrame - 128 - Buffer.byteLength(JSON.stringify(files));
  let total = mine.total;
  for (const n of nodes)
    for (const f of n.files) {
      if (seen.has(f.name)) continue;
      seen.add(f.name);
      total++;
      const entry = { ...f, node: n.node };
      const bytes = Buffer.byteLength(JSON.stringify(entry)) + 1;
      if (bytes > room) continue;
      room -= bytes;
      files.push(entry);
    }
  return { type: 'FILES_REPLY', files, total };
}
