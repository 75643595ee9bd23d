/**
 * The address-validation token of a server's RETRY (docs/LFTP.md, "Address
 * validation"; QUIC's Retry token, RFC 9000 §8.1.2, is the model). The
 * server keeps nothing: the token says, under its secret, that a RETRY for
 * this very SYN went to this address and port, and until when it counts.
 *
 *   token = expiry (u64, ms since the Unix epoch) ‖ MAC (16)
 *   MAC   = HMAC-SHA256(secret, "lftp retry" 0x00 ‖ expiry ‖ len(address) (u8) ‖ address ‖ port (u16)
 *                               ‖ flags (u8) ‖ connection id (u32) ‖ ISN (u32)
 *                               ‖ UTF-8(name "\n" mss "\n" size "\n") ‖ salt ‖ proof)[0..16]
 *
 * `address` is its text in ASCII, an IPv4-mapped IPv6 address as its IPv4
 * quad (a dual-stack socket's view of an IPv4 client is that client). The
 * token is opaque to clients: only the server that made it reads it. Pure:
 * the secret and the clock are the caller's.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SynFacts } from './keys.js';

export const RETRY_SECRET_BYTES = 32;
const EXPIRY_BYTES = 8;
const MAC_BYTES = 16;
export const RETRY_TOKEN_BYTES = EXPIRY_BYTES + MAC_BYTES;

/** What a token is bound to: where the SYN came from, and all of it (what it asks, its salt and its proof). */
export interface RetryBinding {
  address: string;
  port: number;
  syn: SynFacts;
  proof: Buffer;
}

export type RetryVerdict = 'ok' | 'expired' | 'invalid';

/** An IPv4 client seen through a dual-stack socket is the same client. */
function canonicalAddress(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped ? mapped[1]! : address.toLowerCase();
}

function mac(secret: Buffer, expiry: Buffer, b: RetryBinding): Buffer {
  const address = Buffer.from(canonicalAddress(b.address), 'ascii');
  const fixed = Buffer.alloc(1 + address.length + 2 + 9);
  let at = fixed.writeUInt8(address.length, 0);
  at += address.copy(fixed, at);
  at = fixed.writeUInt16BE(b.port, at);
  at = fixed.writeUInt8(b.syn.flags, at);
  at = fixed.writeUInt32BE(b.syn.conn >>> 0, at);
  fixed.writeUInt32BE(b.syn.isn >>> 0, at);
  return createHmac('sha256', secret)
    .update('lftp retry\0')
    .update(expiry)
    .update(fixed)
    .update(`${b.syn.name}\n${b.syn.mss}\n${b.syn.size ?? ''}\n`, 'utf8')
    .update(b.syn.salt)
    .update(b.proof)
    .digest()
    .subarray(0, MAC_BYTES);
}

/** A token for this SYN from this address and port, good until now + lifetimeMs. */
export function mintRetryToken(secret: Buffer, b: RetryBinding, now: number, lifetimeMs: number): Buffer {
  const expiry = Buffer.alloc(EXPIRY_BYTES);
  expiry.writeBigUInt64BE(BigInt(Math.floor(now + lifetimeMs)));
  return Buffer.concat([expiry, mac(secret, expiry, b)]);
}

/** 'ok': this server made the token for this SYN from this address and port, and it has not expired. */
export function checkRetryToken(secret: Buffer, token: Buffer, b: RetryBinding, now: number): RetryVerdict {
  if (token.length !== RETRY_TOKEN_BYTES) return 'invalid';
  const expiry = token.subarray(0, EXPIRY_BYTES);
  if (!timingSafeEqual(mac(secret, expiry, b), token.subarray(EXPIRY_BYTES))) return 'invalid';
  return now < Number(expiry.readBigUInt64BE(0)) ? 'ok' : 'expired';
}
