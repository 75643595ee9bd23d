/**
 * Sealing and opening with whichever AES-128-GCM this process has (docs/LFTP.md, "Batched datagrams"): the
 * addon's, one OpenSSL context per traffic key reused for every datagram (node:crypto makes a cipher object
 * per datagram, about 7 µs, nearly all of it per call), else node:crypto's (sealed-packet.ts). Both make
 * the same bytes: nonce = iv XOR packet number, the clear header (and prefix) authenticated, the tag last.
 */
import { HEADER_BYTES, type Packet } from '../engine/packet.js';
import { nativeAddon, type NativeKey } from '../native/load.js';
import type { TrafficKeys } from './keys.js';
import { TAG_BYTES, open, seal, sealedHeader, sealedPacket } from './sealed-packet.js';

/** A direction's keys, with the addon's context for them when the addon is loaded. */
export interface CipherKeys extends TrafficKeys {
  native: NativeKey | null;
}

export function cipherKeys(keys: TrafficKeys): CipherKeys {
  const addon = nativeAddon();
  return { ...keys, native: addon ? addon.keyCreate(keys.key, keys.iv) : null };
}

/**
 * Datagram pn as parts to send. With the addon's key, the parts are the clear header [and prefix] and the
 * plaintext, and `key` seals them in the send batch (native-socket.ts); else they are sealed already.
 */
export function sealParts(
  k: CipherKeys,
  pn: number,
  p: Packet,
  prefix: Buffer | null,
): { parts: Buffer[]; key?: NativeKey } {
  if (!k.native) return { parts: seal(k, pn, p, prefix) };
  const h = sealedHeader(pn, p, prefix?.length ?? 0);
  return { parts: prefix ? [h, prefix, p.payload] : [h, p.payload], key: k.native };
}

/** Datagram pn sealed now: [header, [prefix], ciphertext, tag]. */
export function sealNow(k: CipherKeys, pn: number, p: Packet, prefix: Buffer | null): Buffer[] {
  if (!k.native) return seal(k, pn, p, prefix);
  const h = sealedHeader(pn, p, prefix?.length ?? 0);
  const body = Buffer.allocUnsafe(p.payload.length + TAG_BYTES);
  nativeAddon()!.keySeal(k.native, prefix ? Buffer.concat([h, prefix]) : h, p.payload, body);
  return prefix ? [h, prefix, body] : [h, body];
}

/** The packet, or null when it does not authenticate; the addon opens it in place (the datagram is ours). */
export function openPacket(k: CipherKeys, buf: Buffer, prefixBytes: number): Packet | null {
  if (!k.native) return open(k, buf, prefixBytes);
  const end = buf.length - TAG_BYTES;
  if (end < HEADER_BYTES + prefixBytes || !nativeAddon()!.keyOpen(k.native, buf, HEADER_BYTES + prefixBytes))
    return null;
  return sealedPacket(buf, buf.subarray(HEADER_BYTES + prefixBytes, end));
}
