/**
 * The command line's limits on what clients may cost: output waiting for
 * them, flood control, and connections per address (server/process/options.ts
 * takes the rest).
 */
import { UsageError } from '../../common/errors.js';
import { HEADER_SIZE } from '../../common/frame.js';
import { parseInteger, parseSize } from '../../common/units.js';
import { DEFAULT_FLOOD } from '../../common/flood-gate.js';
import { MAX_CAPACITY } from '../shm/session-table.js';
import { DEFAULT_BACKLOG_FRAMES, type InboundPolicy } from '../chat/inbound-gate.js';
import { DEFAULT_ADMISSION, trustList, type AdmissionPolicy } from '../chat/admission.js';

export const DEFAULT_MAX_SENDQ = 256 * 1024;
export const DEFAULT_MAX_OUTPUT = 512 * 1024 * 1024;

/** A client's queue must hold two of the largest frames, and the total at least one client's queue. */
export function outputLimits(
  sendq: string | undefined,
  output: string | undefined,
  maxFrame: number,
): { maxSendQueue: number; maxOutputBytes: number } {
  const least = 2 * (maxFrame + HEADER_SIZE);
  const maxSendQueue = sendq !== undefined ? parseSize(sendq, '--max-sendq') : Math.max(DEFAULT_MAX_SENDQ, least);
  if (maxSendQueue < least)
    throw new UsageError(
      `--max-sendq must be at least twice --max-frame (${least} bytes), or the largest frames could not be queued`,
    );
  const maxOutputBytes = output !== undefined ? parseSize(output, '--max-output') : DEFAULT_MAX_OUTPUT;
  if (maxOutputBytes < maxSendQueue)
    throw new UsageError(`--max-output must be at least --max-sendq (${maxSendQueue} bytes)`);
  return { maxSendQueue, maxOutputBytes };
}

export function floodPolicy(
  burst: string | undefined,
  rate: string | undefined,
  backlog: string | undefined,
  maxFrame: number,
): InboundPolicy {
  return {
    burst: burst !== undefined ? parseInteger(burst, '--flood-burst', 1, 1_000_000) : DEFAULT_FLOOD.burst,
    perSecond: rate !== undefined ? parseInteger(rate, '--flood-rate', 1, 1_000_000) : DEFAULT_FLOOD.perSecond,
    backlogFrames:
      backlog !== undefined ? parseInteger(backlog, '--flood-backlog', 1, 100_000) : DEFAULT_BACKLOG_FRAMES,
    // Room for the backlog's worth of ordinary messages, and at least two of the largest.
    backlogBytes: Math.max(256 * 1024, 2 * maxFrame),
  };
}

export function admissionPolicy(v: {
  'max-sessions-per-address'?: string;
  'max-pending-per-address'?: string;
  'max-http-per-address'?: string;
  trusted?: string;
}): AdmissionPolicy {
  const count = (value: string | undefined, name: string, fallback: number) =>
    value !== undefined ? parseInteger(value, name, 1, MAX_CAPACITY) : fallback;
  return {
    maxSessionsPerAddress: count(
      v['max-sessions-per-address'],
      '--max-sessions-per-address',
      DEFAULT_ADMISSION.maxSessionsPerAddress,
    ),
    maxPendingPerAddress: count(
      v['max-pending-per-address'],
      '--max-pending-per-address',
      DEFAULT_ADMISSION.maxPendingPerAddress,
    ),
    maxHttpPerAddress: count(v['max-http-per-address'], '--max-http-per-address', DEFAULT_ADMISSION.maxHttpPerAddress),
    trusted: v.trusted !== undefined ? trustList(v.trusted) : [],
  };
}
