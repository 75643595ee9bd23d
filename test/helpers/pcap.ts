/**
 * Captures written by the tests (no packet capture privileges needed): pcap
 * files (LINKTYPE_RAW, IPv4) of UDP datagrams and TCP segments as they were
 * seen on loopback, for tshark and the Wireshark dissectors to read. IP and
 * TCP checksums are left zero: Wireshark does not check them by default.
 */
import { writeFileSync } from 'node:fs';

export interface CapturedPacket {
  /** ms since the epoch */
  at: number;
  src: [string, number];
  dst: [string, number];
  /** UDP payload, or for TCP the segment's payload and its header fields. */
  payload: Buffer;
  tcp?: { seq: number; ack: number; flags: number };
}

const LINKTYPE_RAW = 101;
export const TCP = { FIN: 0x01, SYN: 0x02, PSH: 0x08, ACK: 0x10 } as const;

export function writePcap(path: string, packets: CapturedPacket[]): void {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(LINKTYPE_RAW, 20);
  const records = packets.map((p) => {
    const ip = ipPacket(p);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Math.floor(p.at / 1000), 0);
    rec.writeUInt32LE(Math.round((p.at % 1000) * 1000), 4);
    rec.writeUInt32LE(ip.length, 8);
    rec.writeUInt32LE(ip.length, 12);
    return Buffer.concat([rec, ip]);
  });
  writeFileSync(path, Buffer.concat([head, ...records]));
}

function ipPacket(p: CapturedPacket): Buffer {
  const l4 = p.tcp ? tcpSegment(p) : udpDatagram(p);
  const ip = Buffer.alloc(20);
  ip.writeUInt8(0x45, 0);
  ip.writeUInt16BE(20 + l4.length, 2);
  ip.writeUInt8(64, 8);
  ip.writeUInt8(p.tcp ? 6 : 17, 9);
  Buffer.from(p.src[0].split('.').map(Number)).copy(ip, 12);
  Buffer.from(p.dst[0].split('.').map(Number)).copy(ip, 16);
  return Buffer.concat([ip, l4]);
}

function udpDatagram(p: CapturedPacket): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(p.src[1], 0);
  h.writeUInt16BE(p.dst[1], 2);
  h.writeUInt16BE(8 + p.payload.length, 4);
  return Buffer.concat([h, p.payload]);
}

function tcpSegment(p: CapturedPacket): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(p.src[1], 0);
  h.writeUInt16BE(p.dst[1], 2);
  h.writeUInt32BE(p.tcp!.seq >>> 0, 4);
  h.writeUInt32BE(p.tcp!.ack >>> 0, 8);
  h.writeUInt8(5 << 4, 12);
  h.writeUInt8(p.tcp!.flags, 13);
  h.writeUInt16BE(65535, 14);
  return Buffer.concat([h, p.payload]);
}

/**
 * A TCP connection's two byte streams as segments: the handshake, then each direction's chunks (as given,
 * in order: `chunks` alternate by `from`), each one segment with the right sequence numbers, then FINs.
 */
export function tcpConversation(
  client: [string, number],
  server: [string, number],
  chunks: Array<{ from: 'client' | 'server'; bytes: Buffer }>,
  t0 = Date.now(),
): CapturedPacket[] {
  let cs = 1000;
  let ss = 5000;
  let t = t0;
  const out: CapturedPacket[] = [];
  const seg = (from: 'client' | 'server', flags: number, payload: Buffer = Buffer.alloc(0)) => {
    const [src, dst] = from === 'client' ? [client, server] : [server, client];
    out.push({
      at: (t += 0.1),
      src,
      dst,
      payload,
      tcp: { seq: from === 'client' ? cs : ss, ack: from === 'client' ? ss : cs, flags },
    });
    const used = payload.length + (flags & (TCP.SYN | TCP.FIN) ? 1 : 0);
    if (from === 'client') cs += used;
    else ss += used;
  };
  seg('client', TCP.SYN);
  out[0]!.tcp!.ack = 0;
  seg('server', TCP.SYN | TCP.ACK);
  seg('client', TCP.ACK);
  for (const c of chunks) seg(c.from, TCP.ACK | TCP.PSH, c.bytes);
  seg('client', TCP.FIN | TCP.ACK);
  seg('server', TCP.FIN | TCP.ACK);
  seg('client', TCP.ACK);
  return out;
}
