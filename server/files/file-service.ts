/**
 * The shared files: which names may be read or written, the upload size limit, the listing, and one-time tickets.
 * The one place these rules live: LFTP (chat-hosted and standalone), HTTP uploads and downloads, and ticket
 * requests over the chat all call it, so they refuse the same things with the same words.
 */
import { ticketMaster } from '../../common/lftp/protect/keys.js';
import { readdir, statfs } from 'node:fs/promises';
import { LftpError } from '../../common/lftp/engine/errors.js';
import { checkName, resolveForRead, resolveForWrite } from '../../common/lftp/node/names.js';
import { servedFolder } from './folder-disk.js';
import { listShared, type FileListing } from './file-listing.js';
import { resumeKey } from './lftp-resume.js';
import { readResume } from '../../common/lftp/node/resume-record.js';
import { ioFailure } from '../../common/lftp/node/io-failure.js';
import { lookAlikeKey } from '../../common/unicode/confusables.js';
import { foldCase } from '../../common/unicode/text-policy.js';
import { formatBytes } from '../../common/units.js';
import type { TransferOp } from '../../common/protocol.js';
import type { TicketTable } from '../shm/ticket-table.js';
import { TICKETS_PER_PREFIX, TICKETS_PER_SESSION, prefixKey, ticketLimitText } from '../shm/ticket-limits.js';
import { countHeld, runningHeld, type TicketHolds } from './ticket-holds.js';
import { addressPrefix } from '../shm/address-table.js';
import { quotaText, reserveQuota, usedQuota, type UploadQuota } from './upload-quota.js';
import { PartialWriters, type WriterDoor, type WriterHolder } from '../shm/partial-writers.js';

/** Free space an upload may not eat into (logs, the history store and the system need it). */
export const DEFAULT_KEEP_FREE = 256 * 2 ** 20;
export const DEFAULT_MAX_UPLOAD_PER_USER = 8 * 2 ** 30;

export interface UploadLimits {
  /** Largest single upload. */
  maxFileSize: number;
  /** Free bytes that must remain on the files' file system after an upload. */
  keepFree: number;
  /**
   * Bytes one user may upload while the server runs, counted across workers (a node's ledger, upload-quota.ts) or
   * across a cluster's nodes (cluster/cluster-uploads.ts); null: no quota.
   */
  quota: UploadQuota | null;
}

export type TicketGrant =
  | { ok: true; name: string; ticket: string; key: string; size: number }
  | { ok: false; code: string; message: string };

const busy = (message: string): TicketGrant => ({ ok: false, code: 'BUSY', message });

export class FileService {
  constructor(
    readonly dir: string,
    readonly limits: UploadLimits,
    /** One-time tickets; null where access is by token (standalone LFTP). */
    private readonly tickets: TicketTable | null = null,
    /** Who writes each partial now (the chat server's is shared by its workers; a standalone endpoint has its own). */
    private readonly writers: PartialWriters = PartialWriters.create(),
    /** A cluster's node: what each session and network holds is counted for the whole cluster too (ticket-holds.ts). */
    private readonly holds: TicketHolds | null = null,
  ) {}

  /** A file that may be downloaded: its path, size and canonical name. Throws LftpError (BAD_NAME, NOT_FOUND). */
  checkDownload(rawName: unknown): Promise<{ path: string; size: number; name: string }> {
    return resolveForRead(this.dir, rawName);
  }

  /**
   * The upload rule: a size that is a whole number within the limit and fits
   * on the disk, a name that is valid, new, and does not look like a name
   * already there. Throws LftpError.
   */
  async checkUpload(rawName: unknown, size: unknown): Promise<{ path: string; name: string; size: number }> {
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
      throw new LftpError('BAD_REQUEST', 'an upload needs the file size');
    const { maxFileSize, keepFree } = this.limits;
    if (size > maxFileSize)
      throw new LftpError('TOO_LARGE', `${formatBytes(size)} is over the upload limit of ${formatBytes(maxFileSize)}`);
    const { path, name } = await resolveForWrite(this.dir, rawName);
    const fold = foldCase(name);
    const look = lookAlikeKey(name);
    const twin = (await this.names()).find((other) => foldCase(other) === fold || lookAlikeKey(other) === look);
    if (twin !== undefined)
      throw new LftpError(
        'EXISTS',
        `${JSON.stringify(name)} looks like ${JSON.stringify(twin)}, which is already shared; choose another name`,
      );
    const free = await this.freeBytes();
    if (size + keepFree > free) {
      throw new LftpError(
        'NO_SPACE',
        `the server has ${formatBytes(Math.max(0, free - keepFree))} free for uploads; ${formatBytes(size)} does not fit`,
      );
    }
    return { path, name, size };
  }

  /**
   * Counts an upload against its user's quota before it starts: the release
   * function gives the bytes back if the upload is not stored. Throws
   * NO_SPACE when the user's quota cannot hold it.
   */
  reserveUpload(nick: string, size: number): Promise<() => void> {
    return reserveQuota(this.limits.quota, nick, size);
  }

  /**
   * An LFTP upload's quota with resume (docs/LFTP.md, "Resume"): `size` less the `held` bytes of the partial it
   * continues (counted since that was cut) is counted before it starts, and the `dropped` bytes of the user's
   * partial of another source are given back. Once it failed, settle(kept): the bytes of a partial kept for the
   * next try stay counted, the rest is given back. Throws as reserveUpload.
   */
  async reserveResumable(nick: string, size: number, held: number, dropped: number): Promise<(kept: number) => void> {
    const release = await this.reserveUpload(nick, size - held);
    const quota = this.limits.quota;
    if (dropped > 0) quota?.adjust(nick, -dropped);
    return (kept) => {
      release();
      quota?.adjust(nick, kept - held);
    };
  }

  /** Free bytes on the files' file system for an unprivileged writer. */
  private async freeBytes(): Promise<number> {
    try {
      const fs = await statfs(this.dir);
      return fs.bavail * fs.bsize;
    } catch (err) {
      throw ioFailure('cannot read the free space of the files directory', err);
    }
  }

  /** Every name in the folder that is not a dot file. */
  private async names(): Promise<string[]> {
    return (await readdir(this.dir).catch(() => [] as string[])).filter((n) => !n.startsWith('.'));
  }

  /** What the folder shares (file-listing.ts), as many entries as fit budgetBytes of JSON. */
  list(budgetBytes: number): Promise<FileListing> {
    return listShared(this.dir, budgetBytes);
  }

  /**
   * A folder's ticket (`DIR/`, docs/LFTP.md "Folders"): get: DIR is a folder here; post: DIR is a new name and
   * `size` the folder's bytes (the quota's measure; the disk is checked when its manifest arrives).
   */
  private async checkFolder(op: TransferOp, rawName: string, size: number | undefined) {
    if (op === 'get') return { name: `${checkName(rawName)}/`, size: 0, dir: await servedFolder(this.dir, rawName) };
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
      throw new LftpError('BAD_REQUEST', 'a folder upload needs its size');
    const { name } = await this.checkUpload(rawName, 0);
    return { name: `${name}/`, size };
  }

  /** The secret a ticket's LFTP key is derived from (the same in every worker), or null where there are no tickets. */
  ticketSecret(): Buffer | null {
    return this.tickets?.keySecret() ?? null;
  }

  /**
   * A one-time ticket for op on a name that passes the same checks the transfer will meet. The owner's address puts
   * the ticket on its network's count too (TICKETS_PER_PREFIX).
   */
  async grantTicket(
    op: TransferOp,
    rawName: string,
    size: number | undefined,
    owner: { nick: string; session: number; address?: string },
    now: number,
  ): Promise<TicketGrant> {
    if (!this.tickets) return { ok: false, code: 'AUTH', message: 'this server does not issue tickets' };
    try {
      const file = rawName.endsWith('/')
        ? await this.checkFolder(op, rawName.slice(0, -1), size)
        : op === 'get'
          ? await this.checkDownload(rawName)
          : await this.checkUpload(rawName, size);
      const quota = this.limits.quota;
      if (op === 'post' && quota) {
        // A partial of this name is counted already, and the upload either continues it or gives it back.
        const partial = rawName.endsWith('/') ? null : await readResume(this.dir, resumeKey(file.name, owner.nick));
        const used = (await usedQuota(quota, owner.nick)) - (partial?.held ?? 0);
        if (used + file.size > quota.maxPerUser)
          return { ok: false, code: 'NO_SPACE', message: quotaText(quota, owner.nick, file.size, used) };
      }
      const prefix = owner.address !== undefined ? addressPrefix(owner.address) : null;
      const perPrefix = prefix !== null ? { key: prefixKey(prefix), max: TICKETS_PER_PREFIX } : null;
      // One upload of a folder at a time: another session's live ticket for it refuses this one (docs/LFTP.md),
      // checked as the ticket is issued, in one step (ticket-table.ts).
      const one = op === 'post' && rawName.endsWith('/');
      const t = this.tickets.issue(op, file.name, owner.nick, now, owner.session, TICKETS_PER_SESSION, perPrefix, one);
      if (t === 'held') {
        const other = this.tickets.holder(op, file.name, now, owner.session) ?? 'another session';
        return busy(`${file.name} is being uploaded by ${other}; try again once that is done`);
      }
      if (t === 'prefix' || t === 'limit') return busy(ticketLimitText(t, prefix));
      if (t === 'busy') return busy('too many tickets outstanding on this server; try again in a minute');
      // A cluster's count: this session's and this network's tickets on every node, running transfers included.
      const over = this.holds && (await countHeld(this.holds, this.tickets, t.ticket, owner.session, prefix));
      if (over) return busy(over);
      return {
        ok: true,
        name: file.name,
        ticket: t.ticket,
        key: ticketMaster(this.tickets.keySecret(), t.ticket).toString('base64url'),
        size: file.size,
      };
    } catch (err) {
      const e = ioFailure('cannot check the file', err);
      return { ok: false, code: e.code, message: e.message };
    }
  }

  /** The session went away: its unused tickets are given back (they no longer work); running transfers go on. */
  releaseTickets(session: number): number {
    const given = this.tickets?.revokeAll(session) ?? [];
    this.holds?.revoke(session, given);
    return given.length;
  }

  /**
   * Spends a ticket for (op, name): the nick it was issued to, and ended(),
   * to call once when the transfer it opens is over (until then it counts
   * against the session's TICKETS_PER_SESSION; an HTTP download cut before its end says so, and its ticket works
   * again for TICKET_TTL_MS). Throws LftpError AUTH.
   */
  redeemTicket(
    ticket: string | undefined | null,
    op: TransferOp,
    name: string,
    now: number,
    /** A browser's resume of a download (TicketTable.consume). */
    resuming = false,
  ): { nick: string; slot: number; ended: (cut?: boolean) => void } {
    const tickets = this.tickets;
    if (!tickets) throw new LftpError('AUTH', 'this server does not issue tickets');
    if (!ticket) throw new LftpError('AUTH', 'a ticket is required: ask for one over the chat session');
    const r = tickets.consume(ticket, op, name, now, resuming);
    if (!r.ok) throw new LftpError('AUTH', r.reason);
    // Called once whoever calls it: the ticket table counts a folder ticket's running transfers.
    let done = false;
    const once =
      (end: (cut?: boolean) => void) =>
      (cut = false) => {
        if (!done) end(cut);
        done = true;
      };
    const ended = once(
      this.holds
        ? runningHeld(this.holds, tickets, ticket, r.slot)
        : (cut = false) => void tickets.transferEnded(r.slot, Date.now(), cut),
    );
    return { nick: r.nick, slot: r.slot, ended };
  }

  /** Whether an earlier run of the server issued this get ticket for one of `names`, lately (ticket-signature.ts). */
  issuedBeforeRestart(ticket: string, names: readonly string[], now: number): boolean {
    return this.tickets?.issuedBeforeStart(ticket, 'get', names, now) ?? false;
  }

  /** Whose a ticket for (op, name) is, without spending it (an HTTP upload's HEAD). Throws LftpError AUTH. */
  peekTicket(ticket: string | null, op: TransferOp, name: string, now: number): string {
    if (!this.tickets || !ticket)
      throw new LftpError('AUTH', 'a ticket is required: ask for one over the chat session');
    const r = this.tickets.peek(ticket, op, name, now);
    if (!r.ok) throw new LftpError('AUTH', r.reason);
    return r.nick;
  }

  /**
   * Takes the partial upload of `name` by `owner` (resumeKey) for one writer coming in by `door`, on whichever
   * worker: the function that gives it back, or who holds it (null: the table is full). claimPartial says no.
   */
  tryClaimPartial(name: string, owner: string | undefined, door: WriterDoor): (() => void) | WriterHolder | null {
    const c = this.writers.claim(resumeKey(name, owner), door);
    return c.ok ? c.release : c.full ? null : c.holder;
  }

  /** tryClaimPartial, or LftpError BUSY in words that say who writes the partial (the same on both doors). */
  claimPartial(name: string, owner: string | undefined, door: WriterDoor): () => void {
    const c = this.tryClaimPartial(name, owner, door);
    if (typeof c === 'function') return c;
    if (c === null)
      throw new LftpError('BUSY', 'the server is receiving as many resumable uploads as it can; try again later');
    const by =
      c.door === 'http' ? 'an HTTP upload (the web page) writes its partial' : 'an LFTP post writes its partial';
    throw new LftpError(
      'BUSY',
      `${JSON.stringify(name)} is being received already (${by}); try again once that upload stops`,
    );
  }

  /** Whether the partial upload of `name` by `owner` has a writer now (an HTTP upload's HEAD). */
  partialBusy(name: string, owner: string | undefined): boolean {
    return this.writers.held(resumeKey(name, owner));
  }
}
