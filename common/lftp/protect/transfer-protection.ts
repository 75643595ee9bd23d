/**
 * One transfer's packet protection, as its driver uses it (docs/LFTP.md,
 * "Packet protection"). The handshake starts unprotected: the client's SYN
 * (which proves the master key, keys.ts), the server's queue answers and its
 * refusals are version-1 datagrams with a CRC-32. From the SYN-ACK on, every
 * datagram either way is sealed (sealed-packet.ts), and one that does not
 * open, or opens with a packet number seen before, is dropped here, before
 * the connection sees it. What version-1 datagrams a protected transfer
 * still takes is allowPlain's rule.
 */
import { randomBytes } from 'node:crypto';
import { Flag, seqAdd, type Packet } from '../engine/packet.js';
import type { ConnState } from '../engine/events.js';
import { LftpError } from '../engine/errors.js';
import { NONCE_BYTES, trafficKeys, type Direction } from './keys.js';
import { MAX_PACKET_NUMBER, readSealedHeader } from './sealed-packet.js';
import { cipherKeys, openPacket, sealNow, sealParts, type CipherKeys } from './packet-cipher.js';
import type { NativeKey } from '../native/load.js';
import { ReplayWindow } from './replay-window.js';

export interface DroppedCounts {
  /** Did not open: forged, altered, or sealed with another key. */
  forged: number;
  /** Opened before (a packet number seen already). */
  replayed: number;
  /** Version 1 where the transfer takes only sealed datagrams. */
  plain: number;
}

export class TransferProtection {
  private sealKeys: CipherKeys | null = null;
  private openKeys: CipherKeys | null = null;
  private nonce: Buffer | null;
  private nextPn = 0;
  private readonly replay = new ReplayWindow();
  readonly dropped: DroppedCounts = { forged: 0, replayed: 0, plain: 0 };

  private constructor(
    private readonly side: 'client' | 'server',
    private readonly master: Buffer,
    private readonly salt: Buffer,
    /** The server's: the SYN that started the transfer (a retransmission must be the same bytes). */
    private readonly syn: Buffer | null,
  ) {
    this.nonce = side === 'server' ? randomBytes(NONCE_BYTES) : null;
  }

  /** The client's: keys come with the server's nonce, in the first SYN-ACK that opens. */
  static client(master: Buffer, salt: Buffer): TransferProtection {
    return new TransferProtection('client', master, salt, null);
  }

  /** The server's, once the SYN proved the master; it seals from begin() on. */
  static server(master: Buffer, salt: Buffer, synPayload: Buffer): TransferProtection {
    return new TransferProtection('server', master, salt, Buffer.from(synPayload));
  }

  /** Server: the SYN-ACK is about to go; from here on everything is sealed. */
  begin(): void {
    this.sealKeys = this.keys(this.nonce!, 's2c');
    this.openKeys = this.keys(this.nonce!, 'c2s');
  }

  /** Whether what this side sends now is sealed (false: the unprotected handshake start). */
  get sealing(): boolean {
    return this.sealKeys !== null;
  }

  /** The datagram for p, sealed now: [header, [prefix], ciphertext, tag]. */
  seal(p: Packet): Buffer[] {
    const [pn, prefix] = this.number(p);
    return sealNow(this.sealKeys!, pn, p, prefix);
  }

  /** The datagram for p as the endpoint sends it: with the addon's key, it is sealed in the send batch. */
  sealForBatch(p: Packet): { parts: Buffer[]; key?: NativeKey } {
    const [pn, prefix] = this.number(p);
    return sealParts(this.sealKeys!, pn, p, prefix);
  }

  private number(p: Packet): [number, Buffer | null] {
    if (!this.sealKeys) throw new Error('TransferProtection: nothing may be sealed before the keys exist');
    if (this.nextPn > MAX_PACKET_NUMBER)
      throw new LftpError('PROTOCOL', 'this transfer has sent 2^32 datagrams, the most one direction may number');
    // The server's answer to the SYN carries its nonce in the clear, in front: the client makes the keys from it.
    const prefix = this.side === 'server' && p.flags & Flag.SYN ? this.nonce : null;
    return [this.nextPn++, prefix];
  }

  private keys(nonce: Buffer, d: Direction): CipherKeys {
    return cipherKeys(trafficKeys(this.master, this.salt, nonce, d));
  }

  /** A version-2 datagram for this transfer, opened; null when dropped (counted). */
  open(buf: Buffer): Packet | null {
    const h = readSealedHeader(buf);
    if (!h) return this.drop('forged');
    if (!this.replay.fresh(h.pn)) return this.drop('replayed');
    const answersSyn = this.side === 'client' && (h.flags & Flag.SYN) !== 0;
    let keys = this.openKeys;
    let nonce: Buffer | null = null;
    if (answersSyn) {
      nonce = buf.subarray(24, 24 + NONCE_BYTES);
      // Keys are made once, from the first SYN-ACK that opens; another nonce after that is not the server's.
      if (this.nonce === null) keys = this.keys(nonce, 's2c');
      else if (!nonce.equals(this.nonce)) return this.drop('forged');
    }
    if (!keys) return this.drop('forged');
    const p = openPacket(keys, buf, answersSyn ? NONCE_BYTES : 0);
    if (!p) return this.drop('forged');
    if (answersSyn && this.nonce === null) {
      this.nonce = Buffer.from(nonce!);
      this.openKeys = keys;
      this.sealKeys = this.keys(this.nonce, 'c2s');
    }
    this.replay.mark(h.pn);
    return p;
  }

  /**
   * A version-1 datagram (its CRC checked) for a protected transfer: the server takes only a retransmission of
   * the SYN (the same bytes); the client only, while it waits for the SYN-ACK, a queue answer, a refusal or
   * (before any queue answer) a RETRY that acknowledges its SYN (ack = ISN + 1, which only a peer that saw the SYN can know, as TCP asks of a RST in
   * SYN-SENT: RFC 5961 §3). Anything else is dropped.
   */
  allowPlain(p: Packet, state: ConnState, isn: number): boolean {
    const ok =
      this.side === 'server'
        ? (p.flags & ~Flag.POST) === Flag.SYN && this.syn !== null && p.payload.equals(this.syn)
        : (state === 'SYN_SENT' || state === 'QUEUED') &&
          !(p.flags & Flag.SYN) &&
          p.ack === seqAdd(isn, 1) &&
          (p.flags === Flag.ACK || (p.flags & Flag.ERR) !== 0 || (p.flags === Flag.RETRY && state === 'SYN_SENT'));
    if (!ok) this.dropped.plain++;
    return ok;
  }

  private drop(why: 'forged' | 'replayed'): null {
    this.dropped[why]++;
    return null;
  }
}
