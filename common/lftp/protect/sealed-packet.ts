/**
 * A protected LFTP datagram (docs/LFTP.md, "Packet protection"): version 2,
 * the same 24-byte header in the clear with the packet number where version
 * 1 has its CRC, then the payload encrypted with AES-128-GCM and its 16-byte
 * tag. The header (and the SYN-ACK's nonce, sent in the clear before the
 * ciphertext) is the additional authenticated data: nothing of a datagram
 * can change without its tag failing. Each direction numbers its datagrams
 * from 0; the GCM nonce is the direction's IV XOR the packet number, so no
 * nonce is ever used twice with a key (a retransmission is a new datagram
 * with a new number).
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { HEADER_BYTES, type Packet } from '../engine/packet.js';
import type { TrafficKeys } from './keys.js';

export const PROTECTED_VERSION = 2;
export const TAG_BYTES = 16;
/** A direction's datagrams are numbered in a u32: a transfer that would send more ends (4 × 10⁹ datagrams: terabytes). */
export const MAX_PACKET_NUMBER = 0xffffffff;

/** The clear header of a version-2 datagram, read before it is opened (to find its transfer). */
export interface SealedHeader {
  flags: number;
  conn: number;
  pn: number;
}

export function readSealedHeader(buf: Buffer): SealedHeader | null {
  if (buf.length < HEADER_BYTES + TAG_BYTES || buf.readUInt8(0) !== PROTECTED_VERSION) return null;
  if (buf.readUInt16BE(2) !== buf.length - HEADER_BYTES) return null;
  return { flags: buf.readUInt8(1), conn: buf.readUInt32BE(4), pn: buf.readUInt32BE(20) };
}

function nonceFor(iv: Buffer, pn: number): Buffer {
  const n = Buffer.from(iv);
  n.writeUInt32BE((n.readUInt32BE(8) ^ pn) >>> 0, 8);
  return n;
}

/** The clear header of datagram pn: the additional authenticated data, with the clear prefix when there is one. */
export function sealedHeader(pn: number, p: Packet, prefixBytes: number): Buffer {
  const h = Buffer.allocUnsafe(HEADER_BYTES);
  h.writeUInt8(PROTECTED_VERSION, 0);
  h.writeUInt8(p.flags, 1);
  h.writeUInt16BE(prefixBytes + p.payload.length + TAG_BYTES, 2);
  h.writeUInt32BE(p.conn >>> 0, 4);
  h.writeUInt32BE(p.seq >>> 0, 8);
  h.writeUInt32BE(p.ack >>> 0, 12);
  h.writeUInt32BE(Math.max(0, Math.min(0xffffffff, p.window)) >>> 0, 16);
  h.writeUInt32BE(pn >>> 0, 20);
  return h;
}

/** The packet a sealed datagram carries, given its payload once opened. */
export function sealedPacket(buf: Buffer, payload: Buffer): Packet {
  return {
    flags: buf.readUInt8(1),
    conn: buf.readUInt32BE(4),
    seq: buf.readUInt32BE(8),
    ack: buf.readUInt32BE(12),
    window: buf.readUInt32BE(16),
    payload,
  };
}

/**
 * The datagram as buffers to send together (header, [clear prefix], ciphertext, tag), sealed with node:crypto:
 * the payload is encrypted into a new buffer, never changed in place (the sender keeps it for retransmission).
 */
export function seal(keys: TrafficKeys, pn: number, p: Packet, clearPrefix: Buffer | null): Buffer[] {
  const h = sealedHeader(pn, p, clearPrefix?.length ?? 0);
  const cipher = createCipheriv('aes-128-gcm', keys.key, nonceFor(keys.iv, pn), { authTagLength: TAG_BYTES });
  cipher.setAAD(clearPrefix ? Buffer.concat([h, clearPrefix]) : h);
  const body = p.payload.length > 0 ? cipher.update(p.payload) : Buffer.alloc(0);
  cipher.final();
  return clearPrefix ? [h, clearPrefix, body, cipher.getAuthTag()] : [h, body, cipher.getAuthTag()];
}

/** The packet, or null when the datagram was not sealed with these keys (forged, altered, or for another transfer). */
export function open(keys: TrafficKeys, buf: Buffer, prefixBytes: number): Packet | null {
  const pn = buf.readUInt32BE(20);
  const end = buf.length - TAG_BYTES;
  if (end < HEADER_BYTES + prefixBytes) return null;
  try {
    const decipher = createDecipheriv('aes-128-gcm', keys.key, nonceFor(keys.iv, pn), { authTagLength: TAG_BYTES });
    decipher.setAAD(buf.subarray(0, HEADER_BYTES + prefixBytes));
    decipher.setAuthTag(buf.subarray(end));
    const body = decipher.update(buf.subarray(HEADER_BYTES + prefixBytes, end));
    decipher.final();
    return sealedPacket(buf, body);
  } catch {
    return null;
  }
}
