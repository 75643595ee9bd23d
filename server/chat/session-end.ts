/**
 * What the end of a connection does to its session: the slot is freed and
 * the rooms are told, or the session outlives the connection (resumed on
 * another one, kept across a restart, or away for the resume window). And
 * the end of a session its nick's owner replaced (endReplaced).
 */
import { encodeMessage } from '../../common/protocol.js';
import type { SessionAddress } from '../bus/room-bus.js';
import type { Logger } from '../logger.js';
import type { HeldSession, SlotCounters, SlotRef } from '../shm/session-table.js';
import { endNotice, type ConnectionHost, type EndReason } from './session-host.js';

export interface EndingSession {
  ref: SlotRef;
  /** Its session id: the tickets issued to it are given back when it goes away. */
  sessionId: number;
  /** The client's address: at most --max-sessions-per-address of its sessions wait away at once (trusted ones: any number). */
  address: string;
  at: SessionAddress;
  nick: string;
  /** It has a resume token. */
  resumable: boolean;
  counters: SlotCounters;
  log: Logger;
}

/** True when the session outlives its connection. */
function kept(host: ConnectionHost, s: EndingSession, reason: EndReason): boolean {
  if (reason.kind === 'replaced') {
    s.log.info(
      { ...s.counters },
      "connection replaced: the session resumed or taken over on another, or ended by its nick's owner",
    );
    return true;
  }
  // The store keeps it: after the restart it is away, and the client resumes it.
  if (reason.kind === 'shutdown' && s.resumable) return true;
  const maxAway = host.admission.isTrusted(s.address) ? Infinity : host.admission.limit('session');
  if (reason.kind !== 'lost' || !s.resumable || !host.table.away(s.ref, maxAway, host.clock.wallNow())) return false;
  s.log.info({ detail: reason.detail, ...s.counters }, 'lost connection');
  host.event(`* ${s.nick} lost connection (${reason.detail})`);
  host.sequencer.send({ k: 'away', session: s.at });
  // Away holds nothing scarce: its unused tickets go back (a resumed session asks again).
  host.files.release?.(s.sessionId);
  return true;
}

export function closeSession(host: ConnectionHost, s: EndingSession, reason: EndReason): void {
  // A slot taken over, or freed and claimed by someone else, keeps its new holder's counters.
  if (host.table.isCurrent(s.ref)) host.table.storeCounters(s.ref.slot, s.counters);
  if (kept(host, s, reason)) return;
  if (!host.table.release(s.ref)) {
    // Not this connection's any more (its end raced a take-over, a resume or /identify): whoever took it tells the rooms.
    s.log.info({ detail: reason.detail, ...s.counters }, 'connection ended: the session was taken over or ended');
    return;
  }
  s.log.info(
    { reason: reason.kind, detail: reason.detail, ...s.counters },
    reason.kind === 'lost' && reason.heartbeat ? 'timed_out' : reason.kind === 'kicked' ? reason.kind : 'left',
  );
  // Out of its rooms; at shutdown everyone is leaving, so no notices to closing rooms.
  if (reason.kind === 'shutdown') return host.sequencer.send({ k: 'leave', session: s.at, notice: null });
  const { line, notice } = endNotice(s.nick, reason);
  host.event(line);
  host.sequencer.send({ k: 'leave', session: s.at, notice: encodeMessage(notice) });
}

/**
 * The nick's owner, with its password, ended the session that held the nick (its slot is freed already): it
 * leaves its rooms, which hear why (NOTICE left with the reason). Its connection, if it still has one, finds its
 * slot gone on its next tick and is closed with BYE replaced.
 */
export function endReplaced(host: ConnectionHost, held: HeldSession, why: string): void {
  host.event(`* ${held.nick} left (${held.away ? 'away; ' : ''}${why})`);
  const notice = encodeMessage({ type: 'NOTICE', event: 'left', nick: held.nick, reason: why });
  host.sequencer.send({
    k: 'leave',
    session: { node: held.node ?? host.node, slot: held.slot, generation: held.generation, owner: held.owner },
    notice,
  });
}
