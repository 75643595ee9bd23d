/** What a client learns when its HELLO is accepted: its session and every limit it must keep to (docs/PROTOCOL.md). */
import { PROTOCOL_VERSION, type ServerMessage } from '../../common/protocol.js';
import type { ConnectionHost } from './session-host.js';

export function welcomeMessage(host: ConnectionHost, nick: string, sessionId: number): ServerMessage {
  const { limits } = host;
  return {
    type: 'WELCOME',
    version: PROTOCOL_VERSION,
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
