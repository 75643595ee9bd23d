/**
 * The shared files: which names may be read or written, the upload size
 * limit, the listing, and one-time tickets. The one place these rules live:
 * LFTP (chat-hosted and standalone), HTTP uploads and downloads, and ticket
 * requests over the chat all call it, so they refuse the same things with the
 * same words.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LftpError } from '../../common/lftp/engine/errors.js';
import { resolveForRead, resolveForWrite } from '../../common/lftp/node/names.js';
import { formatBytes } from '../../common/units.js';
import type { FileEntry, TransferOp } from '../../common/protocol.js';
import { TICKETS_PER_SESSION, TICKET_TTL_MS, type TicketTable } from '../shm/ticket-table.js';

export interface FileListing {
  /** As many entries as fit the budget, by name. */
  files: FileEntry[];
  /** How many files there are in all. */
  total: number;
}

export type TicketGrant = { ok: true; name: string; ticket: string; size: number } | { ok: false; code: string; message: string };

export class FileService {
  constructor(
    readonly dir: string,
    readonly maxFileSize: number,
    /** One-time tickets; null where access is by token (standalone LFTP). */
    private readonly tickets: TicketTable | null = null,
  ) {}

  /** A file that may be downloaded: its path, size and canonical name. Throws LftpError (BAD_NAME, NOT_FOUND). */
  checkDownload(rawName: unknown): Promise<{ path: string; size: number; name: string }> {
    return resolveForRead(this.dir, rawName);
  }

  /** The upload rule: a size that is a whole number within the limit, a name that is new and valid. Throws LftpError. */
  async checkUpload(rawName: unknown, size: unknown): Promise<{ path: string; name: string; size: number }> {
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new LftpError('BAD_REQUEST', 'an upload needs the file size');
    if (size > this.maxFileSize) throw new LftpError('TOO_LARGE', `${formatBytes(size)} is over the upload limit of ${formatBytes(this.maxFileSize)}`);
    const { path, name } = await resolveForWrite(this.dir, rawName);
    return { path, name, size };
  }

  /** Visible regular files by name; entries are kept while their JSON fits in budgetBytes. */
  async list(budgetBytes: number): Promise<FileListing> {
    const names = (await readdir(this.dir).catch(() => [] as string[])).filter((n) => !n.startsWith('.')).sort();
    const all: FileEntry[] = [];
    for (const name of names) {
      const st = await stat(join(this.dir, name)).catch(() => null);
      if (st?.isFile()) all.push({ name, size: st.size, mtimeMs: Math.round(st.mtimeMs) });
    }
    const files: FileEntry[] = [];
    let budget = budgetBytes;
    for (const f of all) {
      budget -= JSON.stringify(f).length + 1;
      if (budget < 0) break;
      files.push(f);
    }
    return { files, total: all.length };
  }

  /** A one-time ticket for op on a name that passes the same checks the transfer will meet. */
  async grantTicket(op: TransferOp, rawName: string, size: number | undefined, owner: { nick: string; session: number }, now: number): Promise<TicketGrant> {
    if (!this.tickets) return { ok: false, code: 'AUTH', message: 'this server does not issue tickets' };
    try {
      const file = op === 'get' ? await this.checkDownload(rawName) : await this.checkUpload(rawName, size);
      const t = this.tickets.issue(op, file.name, owner.nick, now, owner.session);
      if (t === 'busy') return { ok: false, code: 'BUSY', message: 'too many tickets outstanding on this server; try again in a minute' };
      if (t === 'limit') {
        return { ok: false, code: 'BUSY', message: `you already hold ${TICKETS_PER_SESSION} unused tickets, the most one session may; use them or let them expire (${TICKET_TTL_MS / 1000} s)` };
      }
      return { ok: true, name: file.name, ticket: t.ticket, size: file.size };
    } catch (err) {
      if (err instanceof LftpError) return { ok: false, code: err.code, message: err.message };
      return { ok: false, code: 'IO_ERROR', message: (err as Error).message };
    }
  }

  /** Spends a ticket for (op, name): the nick it was issued to. Throws LftpError AUTH. */
  redeemTicket(ticket: string | undefined | null, op: TransferOp, name: string, now: number): string {
    if (!this.tickets) throw new LftpError('AUTH', 'this server does not issue tickets');
    if (!ticket) throw new LftpError('AUTH', 'a ticket is required: ask for one over the chat session');
    const r = this.tickets.consume(ticket, op, name, now);
    if (!r.ok) throw new LftpError('AUTH', r.reason);
    return r.nick;
  }
}
