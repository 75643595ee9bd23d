/**
 * chat-server lftp --admin-token T [--http-port N]: the operator dashboard
 * for a standalone LFTP endpoint. The same page and the same cookie rules as
 * the chat server's (server/web/): its transfers, each with its cwnd chart
 * and its sequence picture, sampled five times a second; no sessions, so no
 * broadcast and no kick (the page hides the broadcast box). The chat page's
 * WebSocket is refused (there is no chat), and so is every file route (there
 * are no tickets).
 */
import { randomBytes } from 'node:crypto';
import { AuthThrottle } from '../auth-throttle.js';
import { AddressTable } from '../shm/address-table.js';
import { Admission, DEFAULT_ADMISSION } from '../chat/admission.js';
import { AdminAuth } from '../web/admin-auth.js';
import { AdminHub } from '../web/admin-hub.js';
import { HostAllowList } from '../web/host-check.js';
import { TransferMonitor } from '../web/transfer-monitor.js';
import { WEB_HEADER_TIMEOUT_MS, WebServer } from '../web/web-server.js';
import { DEFAULT_MAX_FRAME } from '../../common/frame.js';
import type { Logger } from '../logger.js';
import type { FileService } from '../files/file-service.js';
import type { LftpServer } from '../files/lftp-server.js';

/** How often the transfers are sampled for the charts (the chat server's rate). */
const SAMPLE_MS = 200;
/** Connections the dashboard's web port keeps at once. */
const MAX_CONNECTIONS = 64;

export interface LftpDashboardOptions {
  host: string;
  port: number;
  adminToken: string;
  lftp: LftpServer;
  files: FileService;
  serverName: string;
  log: Logger;
}

export async function startLftpDashboard(o: LftpDashboardOptions): Promise<{ port: number; close(): Promise<void> }> {
  const monitor = new TransferMonitor(0);
  const sampler = setInterval(() => monitor.sample(o.lftp.transfers(), Date.now()), SAMPLE_MS);
  sampler.unref();
  const hub = new AdminHub(
    {
      snapshot: (now) => ({
        type: 'snapshot',
        now,
        server: o.serverName,
        workers: [],
        msgsPerSec: 0,
        deliveriesPerSec: 0,
        sessions: [],
        transfers: monitor.all(now),
      }),
      broadcast: () => o.log.info('dashboard broadcast ignored: a standalone LFTP server has no chat'),
      kick: async () => null,
    },
    o.log,
  );
  const admin = { auth: new AdminAuth(o.adminToken, randomBytes(32).toString('hex'), new AuthThrottle()), hub };
  const admission = new Admission(AddressTable.create(1024, 1), 0, DEFAULT_ADMISSION);
  const web = new WebServer(
    {
      maxFrame: DEFAULT_MAX_FRAME,
      tls: null,
      maxConnections: MAX_CONNECTIONS,
      admin,
      admission,
      hosts: HostAllowList.forListenAddress(o.host),
      headerTimeoutMs: WEB_HEADER_TIMEOUT_MS,
    },
    {
      files: o.files,
      log: o.log,
      stored: () => undefined,
      closing: false,
      canAcceptSession: () => false,
      acceptChatSocket: (ws) => ws.close(1008, 'no chat here: this is a standalone LFTP server'),
    },
    o.log,
  );
  const port = await web.listen(o.host, o.port);
  return {
    port,
    close: async () => {
      clearInterval(sampler);
      await web.close();
    },
  };
}
