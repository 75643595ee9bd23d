/**
 * The LFTP endpoint a chat worker hosts on the shared UDP port (reusePort):
 * one-time tickets from the chat session authorise each transfer, and a
 * stored upload is announced to the room.
 */
import { LFTP_DEFAULTS } from '../../common/lftp/defaults.js';
import { MAX_MSS } from '../../common/lftp/engine/packet.js';
import { LftpError } from '../../common/lftp/engine/errors.js';
import type { CongestionName } from '../../common/lftp/engine/congestion.js';
import { ListenError } from '../listen-error.js';
import type { Logger } from '../logger.js';
import type { FileService } from './file-service.js';
import { LftpServer } from './lftp-server.js';
import type { RemoteRedeem } from './ticket-holds.js';
import type { OtherWorkers } from './lftp-server-api.js';
import type { WriterHandoff } from './writer-claim.js';

export interface ChatLftpOptions {
  host: string;
  port: number;
  files: FileService;
  maxTransfers: number;
  congestion: CongestionName;
  /** --qlog, or null. */
  qlogDir: string | null;
  log: Logger;
  /** A line for the operator's console. */
  print(line: string): void;
  /** An upload was stored. */
  stored(info: { name: string; size: number; nick: string }): void;
  /** A cluster's node: tickets other nodes issued for this node's files (cluster/cluster-tickets.ts). */
  elsewhere?: { redeem(ticket: string, op: string, name: string): Promise<RemoteRedeem> };
  /** The chat server's other workers: a post takes over the partial their transfer writes (writer-claim.ts). */
  handoffs?: OtherWorkers & { endpoint: WriterHandoff | null };
}

/** Binds and starts the endpoint; a failure to bind is a ListenError of component 'lftp'. */
export async function startChatLftp(o: ChatLftpOptions): Promise<{ server: LftpServer; port: number }> {
  const server = new LftpServer({
    host: o.host,
    port: o.port,
    files: o.files,
    maxTransfers: o.maxTransfers,
    maxQueued: LFTP_DEFAULTS.maxQueued,
    maxMss: MAX_MSS,
    idleTimeoutMs: LFTP_DEFAULTS.idleTimeoutMs,
    receiveCapacity: LFTP_DEFAULTS.receiveCapacity,
    maxWindow: LFTP_DEFAULTS.maxWindow,
    congestion: o.congestion,
    reusePort: true,
    // Every ticket's transfer is protected, with the key derived from the ticket (TICKET tells the client).
    keying: { kind: 'ticket', secret: o.files.ticketSecret()! },
    authorize: async ({ op, name, auth }) => {
      try {
        const spent = o.files.redeemTicket(auth, op, name, Date.now());
        return { allow: true, owner: spent.nick, ended: spent.ended };
      } catch (err) {
        if (!(err instanceof LftpError)) throw err;
        // Not one of this node's: another node of the cluster may have issued it for a file here.
        if (o.elsewhere && auth && /unknown/.test(err.message)) {
          const r = await o.elsewhere.redeem(auth, op, name).catch(
            (e: unknown): RemoteRedeem => ({
              ok: false,
              reason: `the cluster cannot be asked about it: ${(e as Error).message}`,
            }),
          );
          if (r.ok) return { allow: true, owner: r.nick, ...(r.ended ? { ended: r.ended } : {}) };
          return { allow: false, code: 'AUTH', message: r.reason };
        }
        return { allow: false, code: err.code, message: err.message };
      }
    },
    print: o.print,
    log: o.log,
    verbose: false,
    // Cut transfers continue (docs/LFTP.md, "Resume"): each uploader's partials are its own, and count.
    resume: true,
    onStored: ({ name, size, owner }) => o.stored({ name, size, nick: owner ?? '?' }),
    ...(o.qlogDir ? { qlogDir: o.qlogDir } : {}),
    ...(o.handoffs ? { otherWorkers: o.handoffs } : {}),
  });
  if (o.handoffs) o.handoffs.endpoint = server.handoff;
  try {
    return { server, port: await server.start() };
  } catch (err) {
    throw ListenError.from('lftp', o.host, o.port, err);
  }
}
