/**
 * What the LFTP endpoint says about its work: its counters (transfers done,
 * failed and refused, datagrams dropped), its log (refusals within a budget,
 * the datagrams dropped since the last report, each transfer's start and
 * end) and the operator's lines (each transfer's end; with --verbose, every
 * event of it).
 */
import type { Peer } from '../../common/lftp/node/endpoint.js';
import type { LftpConnection, TransferEvent } from '../../common/lftp/engine/connection.js';
import type { LftpErrorCode } from '../../common/lftp/engine/errors.js';
import { describeEvent } from '../../common/lftp/event-text.js';
import { formatBytes } from '../../common/units.js';
import { LogBudget } from '../auth-throttle.js';
import type { Entry } from './lftp-entry.js';
import type { LftpServerOptions } from './lftp-server-api.js';
import type { SynCounts } from './syn-keys.js';

export class LftpReports {
  readonly counters = { completed: 0, failed: 0, refused: 0, badPackets: 0, unknownConn: 0 };
  /** Refusals are the attacker's to cause: logged within a budget per minute. */
  private readonly refusalLog = new LogBudget();
  private badReported = 0;
  private synReported = '';

  constructor(
    private readonly o: Pick<LftpServerOptions, 'log' | 'print' | 'verbose' | 'onStored'>,
    /** What the SYN checks cost (RETRYs, scrypt runs) and refused: syn-keys.ts counts, this reports. */
    private readonly syn: SynCounts,
  ) {}

  /** A datagram that is no LFTP packet (corrupt, wrong version). */
  dropped(rinfo: Peer, reason: string, bytes: number): void {
    this.counters.badPackets++;
    this.o.log.debug({ remote: `${rinfo.address}:${rinfo.port}`, reason, bytes }, 'dropped datagram');
  }

  /** The socket's error; EMSGSIZE: a size probe too big for this host's own link (DPLPMTUD), lost as probes may be. */
  socketError(err: NodeJS.ErrnoException): void {
    if (err.code === 'EMSGSIZE') this.o.log.debug({ err }, 'size probe refused by this host');
    else this.o.log.error({ err }, 'lftp socket error');
  }

  /** A packet for no known transfer. */
  unknown(rinfo: Peer, conn: number): void {
    this.counters.unknownConn++;
    this.o.log.debug({ remote: `${rinfo.address}:${rinfo.port}`, conn }, 'datagram for no known transfer');
  }

  /** The dropped datagrams, and the SYN checks' counts, when they moved since the last report. */
  reportCounts(): void {
    const syn = JSON.stringify(this.syn);
    if (syn !== this.synReported && Object.values(this.syn).some((n) => n > 0)) {
      this.o.log.info({ ...this.syn }, 'lftp: SYN checks (RETRYs sent, tokens refused, scrypt runs)');
      this.synReported = syn;
    }
    const n = this.counters.badPackets + this.counters.unknownConn;
    if (n > this.badReported) {
      this.o.log.warn(
        { badPackets: this.counters.badPackets, unknownConn: this.counters.unknownConn },
        'lftp: datagrams dropped (corrupt, wrong version, or no such transfer)',
      );
      this.badReported = n;
    }
  }

  refused(rinfo: Peer, code: LftpErrorCode, message: string): void {
    this.counters.refused++;
    const budget = this.refusalLog.take(Date.now());
    if (budget)
      this.o.log.warn(
        {
          remote: `${rinfo.address}:${rinfo.port}`,
          code,
          ...(budget.suppressed ? { suppressed: budget.suppressed } : {}),
        },
        `lftp request refused: ${message}`,
      );
  }

  started(entry: Entry): void {
    const from = entry.resume?.answer.from ?? 0;
    const remote = `${entry.remote.address}:${entry.remote.port}`;
    entry.log.info({ remote, size: entry.size, ...(from > 0 ? { from } : {}) }, 'transfer started');
    if (this.o.verbose)
      this.o.print(
        `lftp: ${entry.op} ${entry.name} (${formatBytes(entry.size)}) for ${entry.remote.address}:${entry.remote.port}: started`,
      );
  }

  event(entry: Entry, e: TransferEvent, conn: LftpConnection): void {
    const who = entry.owner
      ? `${entry.owner} (${entry.remote.address}:${entry.remote.port})`
      : `${entry.remote.address}:${entry.remote.port}`;
    const text = this.o.verbose ? describeEvent(e, { own: conn.opts.isn, peer: conn.peerIsn }) : '';
    if (text) this.o.print(`lftp [${who} ${entry.op} ${entry.name}] ${text}`);
    if (e.type === 'done') {
      this.counters.completed++;
      const secs = Math.max(conn.elapsedMs, 1) / 1000;
      entry.log.info(
        {
          size: e.size,
          sha256: e.sha256,
          ms: conn.elapsedMs,
          retransmissions: conn.sender?.retransmissions ?? 0,
          dropped: entry.driver.protection?.dropped ?? null,
        },
        'transfer complete',
      );
      this.o.print(
        `lftp: ${entry.op} ${entry.name} for ${who} complete (${formatBytes(e.size ?? 0)} in ${secs.toFixed(2)}s, ${formatBytes((e.size ?? 0) / secs)}/s, sha256 ok)`,
      );
      // A folder is announced once, when it is put in place (folders.ts), not file by file.
      if (entry.op === 'post' && !entry.name.includes('/'))
        this.o.onStored?.({ name: entry.name, size: e.size ?? 0, remote: who, owner: entry.owner });
    } else if (e.type === 'error' && !conn.succeeded) {
      this.counters.failed++;
      entry.log.warn({ code: e.code }, `transfer failed: ${e.message}`);
      this.o.print(`lftp: ${entry.op} ${entry.name} for ${who} failed: ${e.code}: ${e.message}`);
    }
  }
}
