/** What a client learns when its HELLO is accepted: its session and every limit it must keep to (docs/PROTOCOL.md). */
import type { ServerMessage } from '../../common/protocol.js';
import type { ConnectionHost } from './session-host.js';

/** `version`: the one the client's HELLO asked for (the server speaks it, or HELLO was refused). */
export function welcomeMessage(host: ConnectionHost, nick: string, sessionId: number, version: number): ServerMessage {
  const { limits } = host;
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
    users: host.table.activeCount(),
    lftpPort: host.files.lftpPort,
    floodBurst: limits.flood.burst,
    floodRate: limits.flood.perSecond,
  };
}
