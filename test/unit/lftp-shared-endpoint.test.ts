/**
 * common/lftp/node/shared-endpoint.ts, on real sockets: a folder's transfers share one client socket. Each
 * lane's datagrams leave from the same port; what arrives reaches every open lane (each keeps its own connection
 * id's); a closed lane hears nothing more; the socket stays open for a lane still lingering after the folder let
 * go of it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { recorder } from '../helpers/endpoint-recorder.js';
import { until } from '../helpers/wait.js';
import { Flag, encodePacket } from '../../common/lftp/engine/packet.js';
import { LftpEndpoint } from '../../common/lftp/node/endpoint.js';
import { SharedEndpoint } from '../../common/lftp/node/shared-endpoint.js';

const open: LftpEndpoint[] = [];
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
});

const plain = (conn: number, seq: number) =>
  encodePacket({ flags: Flag.ACK, conn, seq, ack: 0, window: 0, payload: Buffer.alloc(0) });

describe('SharedEndpoint', () => {
  it('carries several transfers on one socket, to every open lane, and stays open for a lingering lane', async () => {
    const server = await LftpEndpoint.bind({ host: '127.0.0.1', port: 0 });
    open.push(server);
    const atServer = recorder();
    server.listen(atServer.input);
    const shared = await SharedEndpoint.connect('127.0.0.1', server.port);
    const a = shared.lane();
    const b = shared.lane();
    const atA = recorder();
    const atB = recorder();
    a.listen(atA.input);
    b.listen(atB.input);
    const ca = a.newConn();
    const cb = b.newConn();
    a.send([plain(ca, 1)]);
    b.send([plain(cb, 1)]);
    await until(
      () => atServer.seen.length === 2,
      2_000,
      () => 'both lanes at the server',
    );
    expect(atServer.seen.sort()).toEqual([`plain ${ca} seq 1`, `plain ${cb} seq 1`].sort());
    const peer = atServer.from[0]!;
    expect(atServer.from[1]!.port).toBe(peer.port);
    server.send([plain(ca, 2)], peer);
    await until(
      () => atA.seen.length === 1 && atB.seen.length === 1,
      2_000,
      () => 'the answer at both lanes',
    );
    expect(atA.seen).toEqual([`plain ${ca} seq 2`]);
    // The folder is done and a's transfer ended; b still lingers (TIME_WAIT): the socket stays, a hears nothing.
    await a.close();
    await shared.release();
    server.send([plain(cb, 3)], peer);
    await until(
      () => atB.seen.length === 2,
      2_000,
      () => 'a datagram after the release at the lingering lane',
    );
    expect(atB.seen[1]).toBe(`plain ${cb} seq 3`);
    expect(atA.seen).toHaveLength(1);
    await b.close();
  });
});
