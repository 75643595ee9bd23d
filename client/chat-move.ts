/**
 * One /get or /post of the chat moved once its ticket came: a file (lftp-client.ts), or a folder (`/get DIR/`,
 * `/post DIR`, docs/LFTP.md "Folders": lftp-folder.ts), whose one ticket opens its manifest and each of its
 * files in turn. And the folder to post, walked before the ticket is asked for.
 */
import { basename } from 'node:path';
import { checkName } from '../common/lftp/node/names.js';
import { folderTotals, walkFolder, type FolderManifest } from '../common/lftp/node/folder-manifest.js';
import { getFolder, postFolder } from './lftp-folder.js';
import type { FolderOptions, FolderResult } from './lftp-transfer-options.js';
import { formatBytes, formatRate } from '../common/units.js';
import type { ProgressSample } from './progress.js';
import type { ServerMessage } from '../common/protocol.js';
import { neutralizeControls as safe } from '../common/unicode/text-policy.js';
import { transfer } from './lftp-client.js';
import type { ChatTransferOptions } from './chat-transfers.js';

type GrantedTicket = Extract<ServerMessage, { type: 'TICKET'; ok: true }>;

/** A /get or /post the chat client runs. */
export interface Job {
  id: number;
  op: 'get' | 'post';
  name: string;
  local: string;
  state: 'asking' | 'queued' | 'running';
  position: number;
  bytes: number;
  total: number;
  startedAt: number;
  abort: AbortController;
  /** A folder (`name` ends in `/`): moved with one ticket, its manifest, if walked already (post). */
  folder?: { manifest?: FolderManifest };
  /** --no-resume: start over (until the first try got going; a try after a lost connection continues). */
  fresh: boolean;
  /** Where this try resumed: the progress counts from it, the rate does not. */
  from: number;
  /** Cut by a lost chat connection: asked for again when the session is back (ChatTransfers.resumeAll). */
  suspended: boolean;
  /** The try under way, settled (done, failed or suspended) or not. */
  running?: Promise<void>;
}

/** A folder to post, walked (a symlink out of it or a name the rule refuses says so here, before any ticket). */
export async function folderToPost(
  local: string,
  name: string | undefined,
): Promise<{ remote: string; manifest: FolderManifest; size: number }> {
  const remote = checkName(name ?? basename(local));
  const manifest = await walkFolder(local, remote);
  return { remote, manifest, size: folderTotals(manifest).bytes };
}

/** Moves the folder with its ticket; the result line for the chat. */
export async function moveFolder(
  op: 'get' | 'post',
  o: Omit<FolderOptions, 'remote'> & { remote: string },
): Promise<{ line: string; result: FolderResult }> {
  const r = await (op === 'get' ? getFolder : postFolder)(o);
  const counts = `${r.files} file${r.files === 1 ? '' : 's'}, ${r.dirs} folder${r.dirs === 1 ? '' : 's'}`;
  const resumed = r.resumedFrom > 0 ? `, resumed at ${formatBytes(r.resumedFrom)}` : '';
  const rate = formatRate(r.size - r.resumedFrom, r.elapsedMs);
  return {
    line: `transfer complete: ${o.remote}/ (${counts}, ${formatBytes(r.size)}${resumed}, ${rate}, sha256 ok for each file)`,
    result: r,
  };
}

/** Moves the job's file or folder with its ticket: the line that says it is done, and where it is. */
export function moveWithTicket(
  job: Job,
  msg: GrantedTicket,
  o: ChatTransferOptions,
): Promise<{ line: string; path: string }> {
  const common = {
    host: o.lftpVia?.host ?? msg.host ?? o.host,
    port: o.lftpVia?.port ?? msg.port,
    ...(o.qlogDir ? { qlogDir: o.qlogDir } : {}),
    auth: msg.ticket,
    keyFrom: { master: Buffer.from(msg.key, 'base64url') },
    signal: job.abort.signal,
    resume: job.fresh ? ('restart' as const) : ('auto' as const),
    onQueued: (position: number) => {
      job.state = 'queued';
      job.position = position;
      o.print(`* ${job.op} ${safe(job.name)}: the server is busy; number ${position} in its queue`);
    },
    progressEveryMs: 250,
    ...(o.verbose ? { onVerbose: (line: string) => o.print(`. lftp ${job.op} ${safe(job.name)}: ${line}`) } : {}),
  };
  const onProgress = (bytes: number, total: number, _ms: number, from: number) => {
    job.bytes = bytes;
    job.total = total;
    job.from = from;
    // Going: a try after a lost connection continues it, --no-resume or not.
    job.fresh = false;
    if (job.state === 'queued') job.state = 'running';
  };
  const onResume = (line: string) => o.print(`* ${job.op} ${safe(job.name)}: ${safe(line)}`);
  const moved = job.folder
    ? moveFolder(job.op, {
        settings: common,
        remote: job.name.slice(0, -1),
        local: job.local,
        onProgress,
        onLine: (line) => o.print(`* ${safe(line)}`),
        ...(o.verbose ? { onFileLine: (line: string) => o.print(`* ${safe(line)}`) } : {}),
        ...(job.folder.manifest ? { manifest: job.folder.manifest } : {}),
      }).then(({ line, result }) => ({ line: safe(line), path: result.path }))
    : transfer({
        ...common,
        op: job.op,
        remote: job.name,
        local: job.local,
        onProgress,
        onResume,
        lingerInBackground: true,
      }).then((r) => ({
        line: `transfer complete: ${safe(job.name)} (${formatBytes(r.size)}${r.resumedFrom > 0 ? `, resumed at ${formatBytes(r.resumedFrom)}` : ''}, ${formatRate(r.size - r.resumedFrom, r.elapsedMs)}, sha256 ok)`,
        path: r.path,
      }));
  return moved;
}

/** A job's progress: a resumed one's bar starts at what it held (from), its rate counts what this try moved. */
export function sampleOf(j: Job, now: number): ProgressSample {
  return { bytes: j.bytes, total: j.total, elapsedMs: now - j.startedAt, from: j.from };
}
