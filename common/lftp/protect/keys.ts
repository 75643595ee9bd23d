/**
 * LFTP's key schedule (docs/LFTP.md, "Packet protection"). Each transfer's
 * datagrams are protected with keys only its two ends can make:
 *
 *   master  32 bytes both ends hold before the SYN:
 *           chat:       HMAC-SHA256(server's ticket secret, "lftp ticket key" 0x00 ticket),
 *                       sent to the client in TICKET over the (TLS) chat session;
 *           standalone: scrypt(token, "lftp token key" 0x00 salt, N=2^14, r=8, p=1, 32 bytes).
 *   salt    16 random bytes, the client's, in the SYN.
 *   nonce   16 random bytes, the server's, at the front of the SYN-ACK.
 *   proof   HMAC-SHA256(master, "lftp syn" 0x00 ‖ what the SYN asks, its resume fields too)[0..16]:
 *           the server acts on a SYN only if it proves the master.
 *   traffic for each direction d ("c2s", "s2c"):
 *           key = HKDF-SHA256(ikm = master, salt = salt ‖ nonce, info = "lftp d key", 16 bytes)
 *           iv  = HKDF-SHA256(ikm = master, salt = salt ‖ nonce, info = "lftp d iv", 12 bytes)
 *
 * The server's nonce makes every transfer's keys new even when a client's SYN
 * (salt and all) is replayed, so a recorded transfer cannot be played again.
 */
import { createHmac, hkdfSync, scrypt, timingSafeEqual } from 'node:crypto';
import { PROOF_BYTES } from '../engine/payloads.js';

export const MASTER_BYTES = 32;
export const NONCE_BYTES = 16;
export const KEY_BYTES = 16;
export const IV_BYTES = 12;
/** scrypt's cost for a token: about 40 ms and 16 MiB, once per transfer on each end (a token is typed, so guessing it from a capture must be slow). */
export const TOKEN_SCRYPT = { N: 2 ** 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

export interface TrafficKeys {
  key: Buffer;
  iv: Buffer;
}

export type Direction = 'c2s' | 's2c';

export function ticketMaster(secret: Buffer, ticket: string): Buffer {
  return createHmac('sha256', secret).update('lftp ticket key\0').update(ticket, 'utf8').digest();
}

export function tokenMaster(token: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      token.normalize('NFC'),
      Buffer.concat([Buffer.from('lftp token key\0'), salt]),
      MASTER_BYTES,
      TOKEN_SCRYPT,
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

/** What a SYN asks, as its proof covers it: the flags, the connection id, the ISN and every field of its request. */
export interface SynFacts {
  flags: number;
  conn: number;
  isn: number;
  name: string;
  mss: number;
  size: number | undefined;
  salt: Buffer;
  /** The SYN's resume fields (docs/LFTP.md, "Resume"), when it has any. */
  resume?: { have?: number; tag?: string; mtime?: number } | undefined;
}

export function synProof(master: Buffer, s: SynFacts): Buffer {
  const fixed = Buffer.alloc(9);
  fixed.writeUInt8(s.flags, 0);
  fixed.writeUInt32BE(s.conn >>> 0, 1);
  fixed.writeUInt32BE(s.isn >>> 0, 5);
  const r = s.resume;
  const resume = r ? `${r.have ?? ''}\n${r.tag ?? ''}\n${r.mtime ?? ''}\n` : '';
  const fields = `${s.name}\n${s.mss}\n${s.size ?? ''}\n${resume}`;
  return createHmac('sha256', master)
    .update('lftp syn\0')
    .update(fixed)
    .update(fields, 'utf8')
    .update(s.salt)
    .digest()
    .subarray(0, PROOF_BYTES);
}

export function proofMatches(master: Buffer, s: SynFacts, proof: Buffer): boolean {
  return proof.length === PROOF_BYTES && timingSafeEqual(synProof(master, s), proof);
}

export function trafficKeys(master: Buffer, salt: Buffer, nonce: Buffer, d: Direction): TrafficKeys {
  const both = Buffer.concat([salt, nonce]);
  return {
    key: Buffer.from(hkdfSync('sha256', master, both, `lftp ${d} key`, KEY_BYTES)),
    iv: Buffer.from(hkdfSync('sha256', master, both, `lftp ${d} iv`, IV_BYTES)),
  };
}
