/**
 * What a chat session asks about files (FILES, TICKET_REQUEST), answered as
 * protocol messages. The rules themselves are the file service's.
 */
import type { ServerMessage, TransferOp } from '../../common/protocol.js';
import type { FileService } from '../files/file-service.js';
import type { Logger } from '../logger.js';

export interface FilesPort {
  /** The UDP port of this server's LFTP endpoint (0 until it is bound). */
  readonly lftpPort: number;
  list(): Promise<ServerMessage>;
  ticket(
    id: number,
    op: TransferOp,
    name: string,
    size: number | undefined,
    owner: { nick: string; session: number; address: string },
  ): Promise<ServerMessage>;
  /** The session went away: its unused tickets are given back (server/shm/ticket-table.ts, revoke). */
  release?(session: number): void;
}

export function chatFilesPort(files: FileService, maxFrame: number, lftpPort: () => number, log: Logger): FilesPort {
  return {
    release: (session) => void files.releaseTickets(session),
    get lftpPort() {
      return lftpPort();
    },
    async list() {
      // The reply must fit one frame; a large directory is cut and says how many there are.
      const { files: shown, total } = await files.list(maxFrame - 128);
      return { type: 'FILES_REPLY', files: shown, total };
    },
    async ticket(id, op, rawName, size, owner) {
      const g = await files.grantTicket(op, rawName, size, owner, Date.now());
      if (!g.ok) return { type: 'TICKET', id, ok: false, op, name: rawName, code: g.code, message: g.message };
      log.info({ op, file: g.name, nick: owner.nick }, 'ticket issued');
      return {
        type: 'TICKET',
        id,
        ok: true,
        op,
        name: g.name,
        ticket: g.ticket,
        key: g.key,
        port: lftpPort(),
        size: g.size,
      };
    },
  };
}
