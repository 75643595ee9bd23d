/**
 * common/lftp/node/endpoint.ts, on real sockets: a bound (server) and a connected (client) endpoint;
 * what arrives is sorted into sealed, plain and malformed once, and a batch of datagrams goes out in order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Flag, HEADER_BYTES, encodePacket } from '../../common/lftp/engine/packet.js';
import { LftpEndpoint, type EndpointInput, type Peer } from '../../common/lftp/node/endpoint.js';

const open: LftpEndpoint[] = [];
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
});

/** A version-2 datagram as the wire has it: only its clear header matters to the endpoint. */
function sealedDatagram(conn: number, bodyBytes: number): Buffer {
  const b = Buffer.alloc(HEADER_BYTES + bodyBytes);
  b.writeUInt8(2, 0);
  b.writeUInt8(Flag.ACK, 1);
  b.writeUInt16BE(bodyBytes, 2);
  b.writeUInt32BE(conn, 4);
  return b;
}

function recorder(): { seen: string[]; from: Peer[]; input: EndpointInput } {
  const seen: string[] = [];
  const from: Peer[] = [];
  return {
    seen,
    from,
    input: {
      sealed: (buf, conn, f) => (seen.push(`sealed ${conn} ${buf.length}`), from.push(f)),
      plain: (p, f) => (seen.push(`plain ${p.conn} seq ${p.seq}`), from.push(f)),
      malformed: (_reason, bytes, f) => (seen.push(`malformed ${bytes}`), from.push(f)),
      error: (err) => seen.push(`error ${err.code}`),
    },
  };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
}

describe('LftpEndpoint', () => {
  it('sorts what arrives into sealed, plain and malformed, and sends a batch in order both ways', async () => {
    const server = await LftpEndpoint.bind({ host: '127.0.0.1', port: 0 });
    open.push(server);
    const client = await LftpEndpoint.connect('127.0.0.1', server.port);
    open.push(client);
    const atServer = recorder();
    const atClient = recorder();
    server.listen(atServer.input);
    client.listen(atClient.input);
    const plain = (seq: number) =>
      encodePacket({ flags: Flag.ACK, conn: 7, seq, ack: 0, window: 0, payload: Buffer.alloc(0) });
    client.sendBatch([
      { parts: [plain(1)] },
      { parts: [sealedDatagram(9, 40)] },
      { parts: [Buffer.from('not lftp at all')] },
      { parts: [plain(2)] },
    ]);
    await until(() => atServer.seen.length === 4);
    expect(atServer.seen).toEqual(['plain 7 seq 1', 'sealed 9 64', 'malformed 15', 'plain 7 seq 2']);
    const peer = atServer.from[0]!;
    expect(atServer.from.every((f) => f.port === peer.port && f.address === peer.address)).toBe(true);
    // The bound endpoint answers the peer a datagram came from; parts go out as one datagram.
    const header = plain(3);
    server.sendBatch([{ parts: [header.subarray(0, 10), header.subarray(10)], to: peer }]);
    server.send([sealedDatagram(9, 16)], peer);
    await until(() => atClient.seen.length === 2);
    expect(atClient.seen).toEqual(['plain 7 seq 3', 'sealed 9 40']);
    expect(client.sendQueueEmpty).toBe(true);
  });
});
