/**
 * A session's start, told: WELCOME to its client, a line for the operator,
 * and to the store thread (through the sequencer, in the rooms' one order)
 * what comes next: a new session into the default room; a resumed one, what
 * it missed; one its owner took over with the nick's password, its rooms
 * again (docs/PROTOCOL.md, "Registered nicks").
 */
import type { ServerMessage } from '../../common/protocol.js';
import type { SessionAddress } from '../bus/room-bus.js';
import type { Logger } from '../logger.js';
import { hashHex } from '../shm/resume-token.js';
import { endReplaced } from './session-end.js';
import type { ConnectionHost } from './session-host.js';
import type { Hello, Peer, StartedSession } from './session-start.js';
import { welcomeMessage } from './welcome.js';

/** WELCOME, then into the default room, or (resumed, taken over) its own rooms: through the sequencer either way. */
export function announceStart(
  host: ConnectionHost,
  s: StartedSession,
  msg: Hello,
  at: SessionAddress,
  peer: Peer,
  log: Logger,
  reply: (m: ServerMessage) => void,
): void {
  const { nick } = s;
  reply(
    welcomeMessage(host, {
      nick,
      sessionId: s.sessionId,
      version: msg.version,
      token: s.token?.token ?? null,
      resumed: s.previous !== null,
      account: s.account,
    }),
  );
  const where = `${peer.transport} ${peer.address}:${peer.port}, worker ${host.workerIndex}`;
  const token = s.token ? hashHex(s.token.hash) : null;
  // Parts a quarter of what may wait for a client: one in flight, asked for when the backlog is under another quarter.
  const resume = {
    session: at,
    nick,
    version: msg.version,
    token: token!,
    partBytes: Math.floor(host.limits.maxSendQueue / 4),
  };
  if (s.previous) {
    log.info({ client: msg.client, version: msg.version, last: msg.last?.length ?? 0 }, 'resumed');
    host.event(`* ${nick} is back (${where})`);
    host.sequencer.send({ k: 'resume', previous: s.previous, last: msg.last ?? [], ...resume });
    return;
  }
  const held = s.held;
  if (held?.how === 'taken') {
    const was = held.session;
    log.info({ client: msg.client, version: msg.version, away: was.away }, 'took over its session');
    host.event(
      `* ${nick} logged in with its password and took over its session (${was.away ? 'it was away' : 'its old connection is replaced'}; ${where})`,
    );
    // Its rooms again, each as a join shows it (no replay: this client has nothing to resume from), then its inbox.
    const previous = { node: was.node ?? at.node, slot: was.slot, generation: was.generation, owner: was.owner };
    host.sequencer.send({ k: 'resume', previous, last: [], takeOver: true, ...resume });
    host.sequencer.send({ k: 'inbox', session: at });
    return;
  }
  // Version 1 cannot carry the old session's rooms: it ended (its rooms told why), and this one begins.
  if (held) endReplaced(host, held.session, `${nick} logged in again on another connection`);
  log.info({ client: msg.client, version: msg.version, account: s.account }, 'joined');
  host.event(`* ${nick} joined (${where}${s.account ? ', registered nick' : ''})`);
  // Into the default room through the sequencer: its notice, then (version 2) JOINED and the room's history,
  // and for a registered nick what came while it was offline.
  host.sequencer.send({ k: 'enter', session: at, nick, version: msg.version, token, account: s.account });
  if (s.account) host.sequencer.send({ k: 'inbox', session: at });
}
