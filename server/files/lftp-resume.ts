/**
 * The server's side of resume (docs/LFTP.md, "Resume"): what a SYN's have/tag/mtime get as an answer. A get
 * continues at what the client holds when the file is the one it saw (same tag and mtime); a post continues at
 * what the server holds of a partial upload of the same name, size, tag and mtime, and another source's partial
 * is dropped. One upload at a time writes a partial: the caller holds its writer claim (FileService.claimPartial).
 */
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Op } from '../../common/lftp/engine/connection.js';
import type { ResumeAnswer, ResumeAsk } from '../../common/lftp/engine/payloads.js';
import { HeldRecord, readResume, sourceTag } from '../../common/lftp/node/resume-record.js';
import type { FileService } from './file-service.js';
import { claimWriter, type WriterHandoff } from './writer-claim.js';

/** What the server answers, and for a post the partial its sink continues (after `have` bytes). */
export interface ServerResume {
  answer: ResumeAnswer;
  /** `release` gives the partial's writer claim back: once the sink has put the partial away, or if refused. */
  sink?: { held: HeldRecord; have: number; release: () => void };
}

/** A file that passed the server's checks. */
interface CheckedFile {
  path: string;
  name: string;
  size: number;
}

/**
 * Whose partial: on a server with users (the chat's tickets) each uploader's partial of a name is its own, so
 * that one user never continues, drops or counts another's; a standalone server has none (owner undefined).
 */
export function resumeKey(name: string, owner: string | undefined): string {
  return owner === undefined ? name : `${owner}\u0000${name}`;
}

/** The answer to a SYN's resume fields, or undefined when it has none (the SYN-ACK is then as it always was). */
export async function planResume(
  op: Op,
  ask: ResumeAsk | undefined,
  file: CheckedFile,
  owner: string | undefined,
  /** A post's writer claim on the partial, taken by the caller. */
  writer?: () => void,
): Promise<ServerResume | undefined> {
  if (!ask) return undefined;
  if (op === 'get') {
    const mtime = Math.floor((await stat(file.path)).mtimeMs);
    const tag = await sourceTag(file.path, file.size, mtime);
    const same = ask.tag === tag && ask.mtime === mtime && (ask.have ?? 0) <= file.size;
    return { answer: { from: same ? (ask.have ?? 0) : 0, tag, mtime } };
  }
  const key = resumeKey(file.name, owner);
  if (ask.tag === undefined || writer === undefined) return undefined;
  const dir = dirname(file.path);
  const held = new HeldRecord(dir, key);
  const mtimeMs = ask.mtime ?? 0;
  const r = await readResume(dir, key);
  const same =
    r !== null &&
    r.record.name === file.name &&
    r.record.size === file.size &&
    r.record.tag === ask.tag &&
    r.record.mtimeMs === mtimeMs;
  const from = same && ask.have !== 0 ? r.held : 0;
  held.identity = { name: file.name, size: file.size, mtimeMs, tag: ask.tag };
  return {
    answer: { from, ...(r !== null && !same && r.held > 0 ? { dropped: r.held } : {}) },
    sink: { held, have: from, release: writer },
  };
}

/**
 * The SYN's resume answer; a post that resumes first takes its partial's writer claim (writer-claim.ts: taken over
 * from the same uploader's earlier upload from the same address, on this worker or another; refused, BUSY, while
 * anyone else writes it).
 */
export async function resumeOrTakeOver(
  handoff: WriterHandoff,
  files: Pick<FileService, 'tryClaimPartial' | 'claimPartial'>,
  r: { op: Op; ask: ResumeAsk | undefined; file: CheckedFile; address: string; owner: string | undefined },
): Promise<ServerResume | undefined> {
  const { op, ask, file, owner } = r;
  const writer =
    op === 'post' && ask?.tag !== undefined
      ? await claimWriter(files, handoff, {
          key: resumeKey(file.name, owner),
          name: file.name,
          owner,
          address: r.address,
        })
      : undefined;
  try {
    return await planResume(op, ask, file, owner, writer);
  } catch (err) {
    writer?.();
    throw err;
  }
}
