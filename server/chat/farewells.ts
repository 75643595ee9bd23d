/**
 * The endings the server gives a session, each as the reason its end records
 * (session-end.ts) and the BYE its client is told: kicked, shut down,
 * resumed on another connection, a replay that stopped coming, no answer to
 * heartbeats. A BYE says `resumable` only when the client may resume.
 */
import { formatDuration } from '../../common/units.js';
import type { ServerMessage } from '../../common/protocol.js';
import type { EndReason } from './session-host.js';

export interface Farewell {
  reason: EndReason;
  bye: ServerMessage;
}

export function kicked(reason: string): Farewell {
  return {
    reason: { kind: 'kicked', detail: reason },
    bye: { type: 'BYE', reason: reason ? `kicked: ${reason}` : 'kicked' },
  };
}

export function shutDown(reason: string, resumable: boolean): Farewell {
  return {
    reason: { kind: 'shutdown', detail: reason },
    bye: { type: 'BYE', reason, ...(resumable ? { resumable: true } : {}) },
  };
}

/**
 * Resumed on another connection (this one had not noticed it was dead), taken over there by a login with the
 * nick's password, or ended by its owner's /identify: the session is not ours any more.
 */
export function replaced(): Farewell {
  return {
    reason: { kind: 'replaced', detail: 'resumed or taken over on another connection' },
    bye: {
      type: 'BYE',
      reason:
        "replaced: this session was resumed on another connection, or its nick's owner logged in there with the password",
    },
  };
}

/** What it missed stopped coming: away again, and the client resumes once more from what it has. */
export function replayStalled(): Farewell {
  return {
    reason: { kind: 'lost', detail: 'the missed messages stopped coming' },
    bye: { type: 'BYE', reason: 'the server lost track of the resume; resume again', resumable: true },
  };
}

export function heartbeatTimeout(timeoutMs: number, silentForMs: number, resumable: boolean): Farewell {
  return {
    reason: {
      kind: 'lost',
      heartbeat: true,
      detail: `no heartbeat answer for ${formatDuration(timeoutMs)} (last answer ${formatDuration(silentForMs)} ago)`,
    },
    bye: { type: 'BYE', reason: 'heartbeat timeout', ...(resumable ? { resumable: true } : {}) },
  };
}
