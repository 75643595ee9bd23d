/**
 * The end of a transfer as a command sees it (docs/LFTP.md, "End of data and teardown"): `chat-client lftp`
 * exits when its transfer is done without waiting out TIME_WAIT, and a server whose FIN then goes unanswered
 * (the client's last ACK lost, the client gone) has given the transfer's place back already: with one place
 * (`--max-transfers 1`) the next client is served at once, not queued behind the unanswered FIN.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLftpClient, startLftpServer, stopAll, tempDir, type ServerHandle } from '../helpers/processes.js';
import { NO_IMPAIRMENT, startRelay, type Relay } from '../relay/relay.js';
import { decodePacket, Flag } from '../../common/lftp/engine/packet.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let server: ServerHandle;
let files: string;
let here: string;
let data: Buffer;

beforeAll(async () => {
  files = tempDir('teardown-files');
  here = tempDir('teardown-here');
  data = randomBytes(2 * 1024 * 1024 + 11);
  writeFileSync(join(files, 'f.bin'), data);
  server = await startLftpServer(files, ['--open', '--max-transfers', '1', '--verbose']);
});
afterAll(async () => stopAll(server));

describe('LFTP teardown', () => {
  it("a client whose last ACK is lost exits at once; the server's one place is free for the next client", async () => {
    // Open mode: the relay reads the flags. Once the server's FIN has passed, nothing more reaches the server.
    let serverFinSeen = false;
    let cutAfterFin = 0;
    const relay: Relay = await startRelay({
      listenHost: '127.0.0.1',
      listenPort: 0,
      targetHost: '127.0.0.1',
      targetPort: server.port,
      seed: 1,
      up: NO_IMPAIRMENT,
      down: NO_IMPAIRMENT,
      cut: (direction, datagram) => {
        const p = decodePacket(datagram);
        if (direction === 'down' && typeof p !== 'string' && p.flags & Flag.FIN) serverFinSeen = true;
        if (direction === 'up' && serverFinSeen) cutAfterFin++;
        return direction === 'up' && serverFinSeen;
      },
    });
    try {
      const first = await runLftpClient([
        'get',
        `127.0.0.1:${relay.port}`,
        'f.bin',
        join(here, 'first.bin'),
        '--verbose',
      ]);
      expect(first.code, first.err.join('\n')).toBe(0);
      expect(first.err.join('\n')).toMatch(/FIN received .*ACK sent \(TIME_WAIT\)/);
      expect(cutAfterFin).toBeGreaterThanOrEqual(1); // its last ACK never reached the server
      expect(sha(readFileSync(join(here, 'first.bin')))).toBe(sha(data));

      // Straight to the server, while the first transfer's FIN still waits for its ACK.
      const second = await runLftpClient([
        'get',
        `127.0.0.1:${server.port}`,
        'f.bin',
        join(here, 'second.bin'),
        '--verbose',
      ]);
      expect(second.code, second.err.join('\n')).toBe(0);
      expect(second.err.join('\n')).not.toMatch(/queued|transfer slot/);
      expect(sha(readFileSync(join(here, 'second.bin')))).toBe(sha(data));
      // The first transfer's FIN went unanswered (sent again): the place was free while its teardown was not over.
      await server.waitFor(/retransmit FIN/, 10_000);
    } finally {
      await relay.close();
    }
  });
});
