/**
 * LFTP datagram: a 24-byte header and a payload (docs/LFTP.md, "Header").
 *
 *  0      version (u8) = 1
 *  1      flags (u8): SYN 0x01, ACK 0x02, FIN 0x04, DAT 0x08, END 0x10, ERR 0x20, POST 0x40,
 *         RETRY 0x80 (alone: the server's answer to a SYN whose address it has not validated)
 *  2      payload length (u16)
 *  4      connection id (u32)
 *  8      sequence number (u32, in packets)
 *  12     acknowledgement number (u32): next sequence number expected
 *  16     receive window (u32, packets beyond the acknowledgement number)
 *  20     checksum (u32): CRC-32 of the whole datagram with this field zero
 *  24     payload
 * All big-endian.
 */
import { crc32 } from 'node:zlib';

export const LFTP_VERSION = 1;
export const HEADER_BYTES = 24;
/** Payload that keeps a datagram within a 1500-byte Ethernet MTU: 1500 − 20 (IPv4) − 8 (UDP) − 24. */
export const DEFAULT_MSS = 1448;
/**
 * A protected datagram is 16 bytes longer (its tag): its default payload leaves room for it, so that a sealed
 * datagram is 1472 bytes too and fits the same MTU (1448 made 1488: fragmented, or dropped with the
 * don't-fragment bit, on every 1500-byte link).
 */
export const PROTECTED_MSS = DEFAULT_MSS - 16;
export const MIN_MSS = 64;
/** UDP payload limit (65,507 over IPv4) less our header. */
export const MAX_MSS = 65_507 - HEADER_BYTES;

export const Flag = {
  SYN: 0x01,
  ACK: 0x02,
  FIN: 0x04,
  DAT: 0x08,
  END: 0x10,
  ERR: 0x20,
  POST: 0x40,
  RETRY: 0x80,
} as const;

export interface Packet {
  flags: number;
  conn: number;
  seq: number;
  ack: number;
  window: number;
  payload: Buffer;
  /** Sending only: a size probe (DPLPMTUD), to go with the don't-fragment bit. Nothing on the wire says so. */
  probe?: boolean;
}

export type DecodeFailure = 'short' | 'checksum' | 'version' | 'length';

/** The whole datagram in one buffer (tests and tools; the engine sends header and payload apart). */
export function encodePacket(p: Packet): Buffer {
  return Buffer.concat([encodeHeader(p), p.payload]);
}

/**
 * The header alone, with the checksum over header and payload: sent together
 * with the payload as two buffers (one sendmsg with two iovecs), so the
 * payload is never copied.
 */
export function encodeHeader(p: Packet): Buffer {
  const h = Buffer.allocUnsafe(HEADER_BYTES);
  h.writeUInt8(LFTP_VERSION, 0);
  h.writeUInt8(p.flags, 1);
  h.writeUInt16BE(p.payload.length, 2);
  h.writeUInt32BE(p.conn >>> 0, 4);
  h.writeUInt32BE(p.seq >>> 0, 8);
  h.writeUInt32BE(p.ack >>> 0, 12);
  h.writeUInt32BE(Math.max(0, Math.min(0xffffffff, p.window)) >>> 0, 16);
  h.writeUInt32BE(0, 20);
  h.writeUInt32BE(crc32(p.payload, crc32(h)), 20);
  return h;
}

/**
 * Parses and verifies a datagram; a corrupted one is reported, never returned.
 * The checksum field is zeroed for the CRC and put back: one CRC call over the
 * whole datagram costs less than three over its parts, and the buffer is the
 * caller's own (a received datagram), so nobody sees it change.
 */
export function decodePacket(buf: Buffer): Packet | DecodeFailure {
  if (buf.length < HEADER_BYTES) return 'short';
  const sent = buf.readUInt32BE(20);
  buf.writeUInt32BE(0, 20);
  const actual = crc32(buf);
  buf.writeUInt32BE(sent, 20);
  if (actual !== sent) return 'checksum';
  if (buf.readUInt8(0) !== LFTP_VERSION) return 'version';
  const len = buf.readUInt16BE(2);
  if (len !== buf.length - HEADER_BYTES) return 'length';
  return {
    flags: buf.readUInt8(1),
    conn: buf.readUInt32BE(4),
    seq: buf.readUInt32BE(8),
    ack: buf.readUInt32BE(12),
    window: buf.readUInt32BE(16),
    payload: buf.subarray(HEADER_BYTES),
  };
}

export function flagNames(flags: number): string {
  const names: string[] = [];
  for (const [name, bit] of Object.entries(Flag)) if (flags & bit) names.push(name);
  return names.join('|') || '-';
}

/** Sequence arithmetic modulo 2^32 (RFC 1982 style): a − b as a signed 32-bit distance. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/**
 * A data ACK's payload: SACK blocks, [start, end) pairs of u32, most recent first (RFC 2018); then, where both
 * ends take packed datagrams (docs/LFTP.md, "Datagram size"), a u32: the largest data datagram received so far
 * (as version 1), which answers the sender's size probes.
 */
export function encodeSack(blocks: Array<[number, number]>, largest?: number): Buffer {
  const buf = Buffer.allocUnsafe(blocks.length * 8 + (largest === undefined ? 0 : 4));
  blocks.forEach(([s, e], i) => {
    buf.writeUInt32BE(s >>> 0, i * 8);
    buf.writeUInt32BE(e >>> 0, i * 8 + 4);
  });
  if (largest !== undefined) buf.writeUInt32BE(largest >>> 0, blocks.length * 8);
  return buf;
}

/** A data ACK's SACK blocks and its report of the largest datagram received (null: none), or null. */
export function decodeAck(payload: Buffer): { sack: Array<[number, number]>; largest: number | null } | null {
  const trailer = payload.length % 8 === 4;
  if (payload.length % 8 !== 0 && !trailer) return null;
  const end = trailer ? payload.length - 4 : payload.length;
  const sack: Array<[number, number]> = [];
  for (let i = 0; i < end; i += 8) sack.push([payload.readUInt32BE(i), payload.readUInt32BE(i + 4)]);
  return { sack, largest: trailer ? payload.readUInt32BE(end) : null };
}

export function decodeSack(payload: Buffer): Array<[number, number]> | null {
  return decodeAck(payload)?.sack ?? null;
}
