/**
 * The client's side of resume (docs/LFTP.md, "Resume"): what its SYN offers (get: the bytes its partial holds
 * and the source they came from; post: its file's tag and mtime), the partial a get writes into, and the line
 * that says what the server's answer means.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Op } from '../common/lftp/engine/connection.js';
import type { ResumeAnswer, ResumeAsk } from '../common/lftp/engine/payloads.js';
import { HeldRecord, readResume, removeResume, sourceTag } from '../common/lftp/node/resume-record.js';
import { formatBytes } from '../common/units.js';

/** `auto`: continue what an earlier try left; `restart`: start over (--no-resume), keeping the new partial. */
export type ResumeMode = 'auto' | 'restart';

export interface ClientResume {
  /** What the SYN says; none for a get started over (--no-resume: an older --token server takes it). */
  ask?: ResumeAsk;
  /** get: the partial the sink continues after `have` bytes. */
  sink?: { held: HeldRecord; have: number };
}

/** What the SYN offers, worked out before it is made (the proof covers it). */
export async function clientResume(
  op: Op,
  mode: ResumeMode,
  remote: string,
  local: string,
  size: number,
): Promise<ClientResume> {
  if (op === 'post') {
    const mtime = Math.floor((await stat(local)).mtimeMs);
    const tag = await sourceTag(local, size, mtime);
    return { ask: { tag, mtime, ...(mode === 'restart' ? { have: 0 } : {}) } };
  }
  const dir = dirname(local);
  const key = basename(local);
  const held = new HeldRecord(dir, key);
  if (mode === 'restart') {
    await removeResume(dir, key);
    return {};
  }
  const r = await readResume(dir, key);
  if (!r || r.record.name !== remote || r.held === 0) return { ask: { have: 0 }, sink: { held, have: 0 } };
  return {
    ask: { have: r.held, tag: r.record.tag, mtime: r.record.mtimeMs },
    sink: { held, have: r.held },
  };
}

/**
 * The transfer is established: a get's partial learns whose it is (so that it is kept if this try is cut too),
 * and the line that says where the transfer starts, or why it starts over; '' when there is nothing to say.
 */
export function resumeEstablished(
  plan: ClientResume,
  remote: string,
  size: number,
  answer: ResumeAnswer | null,
): string {
  const from = answer?.from ?? 0;
  if (plan.sink && answer?.tag !== undefined)
    plan.sink.held.identity = { name: remote, size, mtimeMs: answer.mtime ?? 0, tag: answer.tag };
  const name = JSON.stringify(remote);
  if (from > 0) return `resuming at ${formatBytes(from)} of ${formatBytes(size)}: ${formatBytes(size - from)} to go`;
  if (answer?.dropped !== undefined)
    return `the server held ${formatBytes(answer.dropped)} of a different ${name}: starting over from 0`;
  if ((plan.ask?.have ?? 0) > 0)
    return answer?.tag === undefined
      ? 'the server does not resume: starting over from 0'
      : `the server's ${name} changed since the partial download (size, time or content): starting over from 0`;
  return '';
}
