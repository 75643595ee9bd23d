/**
 * common/lftp/node/endpoint.ts, on real sockets: a bound (server) and a connected (client) endpoint;
 * what arrives is sorted into sealed, plain and malformed once, and a batch of datagrams goes out in order;
 * over IPv4, IPv6, and a server bound to "::" that an IPv4 client reaches. The path is the addon's where it
 * loaded, else dgram (LFTP_NATIVE=0): the same behaviour either way.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { recorder } from '../helpers/endpoint-recorder.js';
import { until } from '../helpers/wait.js';
import { Flag, HEADER_BYTES, encodePacket } from '../../common/lftp/engine/packet.js';
import { LftpEndpoint } from '../../common/lftp/node/endpoint.js';
import { addressWords, wordsAddress } from '../../common/lftp/node/native-socket.js';
import { nativeAddon } from '../../common/lftp/native/load.js';

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

const cases = [
  { name: 'IPv4', bind: '127.0.0.1', connect: '127.0.0.1', peer: '127.0.0.1' },
  { name: 'IPv6', bind: '::1', connect: '::1', peer: '::1' },
  {
    name: 'a server on "::" (both families), an IPv4 client',
    bind: '::',
    connect: '127.0.0.1',
    peer: '::ffff:127.0.0.1',
  },
];

describe.each(cases)('LftpEndpoint, $name', ({ bind, connect, peer: peerAddress }) => {
  it('sorts what arrives into sealed, plain and malformed, and sends a batch in order both ways', async () => {
    const server = await LftpEndpoint.bind({ host: bind, port: 0 });
    open.push(server);
    expect(server.path).toBe(nativeAddon() ? 'native' : 'dgram');
    const client = await LftpEndpoint.connect(connect, server.port);
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
    await until(
      () => atServer.seen.length === 4,
      2_000,
      () => 'the datagrams',
    );
    expect(atServer.seen).toEqual(['plain 7 seq 1', 'sealed 9 64', 'malformed 15', 'plain 7 seq 2']);
    const peer = atServer.from[0]!;
    expect(peer.address).toBe(peerAddress); // as dgram names it
    expect(atServer.from.every((f) => f.port === peer.port && f.address === peer.address)).toBe(true);
    // The bound endpoint answers the peer a datagram came from; parts go out as one datagram.
    const header = plain(3);
    server.sendBatch([{ parts: [header.subarray(0, 10), header.subarray(10)], to: peer }]);
    server.send([sealedDatagram(9, 16)], peer);
    await until(
      () => atClient.seen.length === 2,
      2_000,
      () => 'the datagrams',
    );
    expect(atClient.seen).toEqual(['plain 7 seq 3', 'sealed 9 40']);
    expect(client.sendQueueEmpty).toBe(true);
  });
});

describe("the addon's address words", () => {
  it('carry IPv4, IPv6 and IPv4-mapped addresses both ways, named as dgram names them', () => {
    const words = (a: string) => [...addressWords(a)];
    expect(words('127.0.0.1')).toEqual([0x7f000001, 0, 0, 0]);
    expect(words('::1')).toEqual([0, 0, 0, 1]);
    expect(words('fe80::1%lo')).toEqual([0xfe800000, 0, 0, 1]);
    expect(words('::ffff:10.1.2.3')).toEqual([0, 0, 0xffff, 0x0a010203]);
    expect(words('2001:db8:0:0:1:0:0:1')).toEqual([0x20010db8, 0, 0x10000, 1]);
    const back = (a: string, family: 4 | 6) => wordsAddress(family, ...(words(a) as [number, number, number, number]));
    expect(back('127.0.0.1', 4)).toBe('127.0.0.1');
    expect(back('::1', 6)).toBe('::1');
    expect(back('::', 6)).toBe('::');
    expect(back('::ffff:10.1.2.3', 6)).toBe('::ffff:10.1.2.3');
    // RFC 5952: the longest run of zero groups is the one shortened, the first of equals; one zero group is not.
    expect(back('2001:db8:0:0:1:0:0:1', 6)).toBe('2001:db8::1:0:0:1');
    expect(back('2001:db8:0:1:0:0:0:1', 6)).toBe('2001:db8:0:1::1');
    expect(back('2001:db8:1:1:1:1:0:1', 6)).toBe('2001:db8:1:1:1:1:0:1');
    expect(back('fe80::', 6)).toBe('fe80::');
  });
});
