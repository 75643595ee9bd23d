/**
 * /get, /post and /transfers inside the chat client (listener thread): ask the
 * server for a one-time ticket over the chat session, then move the file with
 * LFTP while chat and heartbeats carry on in the same event loop.
 */
import { stat, mkdir } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { ClientMessage, ServerMessage } from '../common/protocol.js';
import { LftpError } from '../common/lftp/engine/errors.js';
import { checkName } from '../common/lftp/node/names.js';
import { progressBar, progressLine, transferList } from './progress.js';
import { neutralizeControls as safe } from '../common/unicode/text-policy.js';
import { destinationFor, freeName } from './local-files.js';
import { folderToPost, moveWithTicket, sampleOf, type Job } from './chat-move.js';

type TicketMsg = Extract<ServerMessage, { type: 'TICKET' }>;

export interface ChatTransferOptions {
  host: string;
  downloadsDir: string;
  tty: boolean;
  print(line: string): void;
  /** Redraws (or clears, with '') the progress line on a terminal. */
  status(line: string): void;
  send(msg: ClientMessage): void;
  /** Print LFTP handshake, teardown, loss and retransmission lines too. */
  verbose: boolean;
  /** A qlog file per transfer goes here (--qlog), or null. */
  qlogDir: string | null;
  /** Transfers go to this address instead of the server's LFTP port (--lftp-via), or null. */
  lftpVia: { host: string; port: number } | null;
}

const PLAIN_PROGRESS_MS = 2000;
const MAX_CONCURRENT = 8;

export class ChatTransfers {
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;
  private timer: NodeJS.Timeout | null = null;
  private lastPlain = 0;
  private readonly idleWaiters: Array<() => void> = [];
  private preparing = 0;

  constructor(private readonly o: ChatTransferOptions) {}

  /** Transfers asking, queued or running, and requests still being checked here (a /get deciding where to save). */
  get active(): number {
    return this.jobs.size + this.preparing;
  }

  /** /get and /post check things on disk first; counted meanwhile, so that a /quit right after them waits for them. */
  requestGet(name: string, dest: string | undefined, fresh = false): Promise<void> {
    return this.prepared(() => this.get(name, dest, fresh));
  }
  requestPost(path: string, name: string | undefined, fresh = false): Promise<void> {
    return this.prepared(() => this.post(path, name, fresh));
  }
  private async prepared(work: () => Promise<void>): Promise<void> {
    this.preparing++;
    try {
      await work();
    } finally {
      this.preparing--;
      this.checkIdle();
    }
  }

  private async get(name: string, dest: string | undefined, fresh: boolean): Promise<void> {
    try {
      checkName(name.endsWith('/') ? name.slice(0, -1) : name);
    } catch (err) {
      this.o.print(`! ${(err as Error).message}`);
      return;
    }
    const dir = resolve(this.o.downloadsDir);
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      this.o.print(`! cannot create the downloads directory ${dir}: ${(err as Error).message}`);
      return;
    }
    let wanted: string;
    try {
      wanted = await destinationFor(dir, name.replace(/\/$/, ''), dest);
    } catch (err) {
      this.o.print(`! cannot save into ${dest}: ${(err as Error).message}`);
      return;
    }
    // A folder picks a free name once it is whole (lftp-folder.ts).
    if (name.endsWith('/')) return this.ask('get', name, wanted, undefined, fresh, {});
    // A partial download is a hidden file beside the name (resume-record.ts): the name stays free, and is taken.
    const local = await freeName(wanted);
    if (local !== wanted) this.o.print(`* ${wanted} exists; saving as ${local}`);
    this.ask('get', name, local, undefined, fresh);
  }

  private async post(path: string, name: string | undefined, fresh: boolean): Promise<void> {
    const local = resolve(path);
    const st = await stat(local).catch(() => null);
    if (!st) return this.o.print(`! no such file: ${path}`);
    if (st.isDirectory()) return this.postFolder(path, local, name, fresh);
    if (!st.isFile()) return this.o.print(`! ${path} is not a regular file or a folder`);
    const remote = name ?? basename(local);
    try {
      checkName(remote);
    } catch (err) {
      this.o.print(`! ${(err as Error).message}; give another name: /post <path> <name>`);
      return;
    }
    this.ask('post', remote, local, st.size, fresh);
  }

  private async postFolder(path: string, local: string, name: string | undefined, fresh: boolean): Promise<void> {
    try {
      const f = await folderToPost(local, name);
      this.ask('post', `${f.remote}/`, local, f.size, fresh, { manifest: f.manifest });
    } catch (err) {
      this.o.print(`! cannot send the folder ${path}: ${(err as Error).message}`);
    }
  }

  private ask(
    op: 'get' | 'post',
    name: string,
    local: string,
    size: number | undefined,
    fresh: boolean,
    folder?: Job['folder'],
  ): void {
    if (this.jobs.size >= MAX_CONCURRENT)
      return this.o.print(`! at most ${MAX_CONCURRENT} transfers at once; wait for one to finish`);
    const id = this.nextId++;
    this.jobs.set(id, {
      id,
      op,
      name,
      local,
      state: 'asking',
      position: 0,
      bytes: 0,
      total: size ?? 0,
      startedAt: Date.now(),
      abort: new AbortController(),
      ...(folder ? { folder } : {}),
      fresh,
      from: 0,
      suspended: false,
    });
    this.askTicket(this.jobs.get(id)!);
  }

  private askTicket(job: Job): void {
    const size = job.op === 'post' ? job.total : undefined;
    this.o.send({
      type: 'TICKET_REQUEST',
      id: job.id,
      op: job.op,
      name: job.name,
      ...(size !== undefined ? { size } : {}),
    });
  }

  /**
   * The chat connection is lost: what runs is stopped (its partial kept) and what waits for a ticket waits on;
   * all are asked for again when the session is back (resumeAll), and continue where they stopped.
   */
  suspendAll(why: string): void {
    for (const j of this.jobs.values()) {
      if (j.suspended) continue;
      j.suspended = true;
      j.state = 'asking';
      j.abort.abort(`connection lost: ${why}`);
    }
  }

  /** The session is back (resumed or new): every suspended transfer asks for a ticket again. */
  resumeAll(): void {
    for (const j of [...this.jobs.values()].filter((x) => x.suspended)) {
      this.o.print(`* ${j.op} ${safe(j.name)}: the connection is back; continuing`);
      j.suspended = false;
      j.abort = new AbortController();
      // What was running settles (its abort) before the ticket comes back; a job only asks once it has.
      void (j.running ?? Promise.resolve()).then(() => this.askTicket(j));
    }
  }

  onTicket(msg: TicketMsg): void {
    const job = this.jobs.get(msg.id);
    if (!job) return;
    if (!msg.ok) {
      this.finished(job);
      this.o.print(`transfer failed: ${safe(job.name)}: ${safe(msg.code)}: ${safe(msg.message)}`);
      return;
    }
    job.state = 'running';
    job.total = msg.size;
    job.startedAt = Date.now();
    this.ensureTimer();
    job.running = moveWithTicket(job, msg, this.o).then(
      ({ line, path }) => {
        this.finished(job);
        this.o.print(line);
        if (job.op === 'get') this.o.print(`* saved ${path}`);
      },
      (err: Error) => {
        if (job.suspended) {
          this.o.print(
            `* ${job.op} ${safe(job.name)}: cut by the lost connection; it goes on when the session is back`,
          );
          return;
        }
        this.finished(job);
        const code = err instanceof LftpError ? err.code : 'ERROR';
        this.o.print(`transfer failed: ${safe(job.name)}: ${code}: ${err.message}`);
      },
    );
  }

  /** @param width the terminal's (its bars fit it), or null */
  list(width: number | null = null): string[] {
    if (this.jobs.size === 0) return ['* no transfers'];
    const now = Date.now();
    const jobs = [...this.jobs.values()];
    return transferList(
      jobs.map((j) => ({
        what: `${j.op} ${safe(j.name)}`,
        state: j.state,
        position: j.position,
        sample: sampleOf(j, now),
      })),
      width,
    );
  }

  abortAll(reason: string): void {
    for (const j of this.jobs.values()) j.abort.abort(reason);
  }

  /**
   * Before quitting: a script's "/get f" then "/quit" means get f, then quit
   * (said, then done in that order: true, and `then` runs once they are done);
   * on a terminal, /quit aborts what runs (false).
   */
  beforeQuit(waitForThem: boolean, then: () => void): boolean {
    const n = this.active;
    if (n === 0) return false;
    const s = n === 1 ? '' : 's';
    if (waitForThem) {
      this.o.print(`* waiting for ${n} transfer${s} to finish before quitting`);
      void this.idle().then(then);
      return true;
    }
    this.o.print(`* ${n} transfer${s} aborted: quitting`);
    this.abortAll('the user quit');
    return false;
  }

  /** Resolves once no transfer is asking, queued or running. */
  idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private checkIdle(): void {
    if (this.active === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private finished(job: Job): void {
    this.jobs.delete(job.id);
    this.refresh(true);
    this.checkIdle();
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.refresh(false), this.o.tty ? 250 : 500);
  }

  private refresh(final: boolean): void {
    const running = [...this.jobs.values()].filter((j) => j.state === 'running');
    if (running.length === 0) {
      this.o.status('');
      if (this.jobs.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
      return;
    }
    if (final) return;
    const now = Date.now();
    const what = (j: Job) => `${j.op} ${safe(j.name)}`;
    if (this.o.tty) this.o.status(running.map((j) => progressBar(what(j), sampleOf(j, now), 20)).join(' | '));
    else if (now - this.lastPlain >= PLAIN_PROGRESS_MS) {
      this.lastPlain = now;
      for (const j of running) this.o.print(`* ${progressLine(what(j), sampleOf(j, now))}`);
    }
  }
}
