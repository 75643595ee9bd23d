/** What a client learns when its HELLO is accepted: its session and every limit it must keep to (docs/PROTOCOL.md). */
import type { ServerMessage } from '../../common/protocol.js';
import type { ConnectionHost } from './session-host.js';

export interface Welcomed {
  nick: string;
  sessionId: number;
  /** The one the client's HELLO asked for (the server speaks it, or HELLO was refused). */
  version: number;
  /** The resume token (null: the session cannot be resumed). */
  token: string | null;
  resumed: boolean;
  /** A registered nick, logged in with its password. */
  account: boolean;
}

export function welcomeMessage(host: ConnectionHost, w: Welcomed): ServerMessage {
  const { limits } = host;
  const { nick, sessionId, version } = w;
  return {
    type: 'WELCOME',
    version,
    ...(version >= 2 ? { room: host.defaultRoom } : {}),
    nick,
    session: String(sessionId),
    heartbeatIntervalMs: limits.intervalMs,
    heartbeatTimeoutMs: limits.timeoutMs,
    maxFrame: limits.maxFrame,
    maxText: limits.maxText,
    server: host.serverName,
    users: host.nicks.online(),
    lftpPort: host.files.lftpPort,
    floodBurst: limits.flood.burst,
    floodRate: limits.flood.perSecond,
    ...(w.token !== null ? { resume: w.token, resumeWindowMs: host.resumeWindowMs } : {}),
    ...(w.resumed ? { resumed: true } : {}),
    ...(w.account ? { account: true } : {}),
  };
}
