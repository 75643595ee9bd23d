/**
 * Address validation (docs/LFTP.md, "Address validation") without sockets:
 * the RETRY token's MAC, expiry and binding with an injected clock and
 * secret (common/lftp/protect/retry-token.ts); the --token endpoint's gate,
 * which sends a RETRY, refuses a bad token, and runs no scrypt before a
 * good one (server/files/syn-keys.ts); the client's engine, which takes one
 * RETRY and repeats its SYN with the token (common/lftp/engine/connection.ts).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Flag, encodePacket, type Packet } from '../../common/lftp/engine/packet.js';
import { decodeSynRequest, encodeSynRequest } from '../../common/lftp/engine/payloads.js';
import { LftpConnection, type ConnectionOptions, type TransferEvent } from '../../common/lftp/engine/connection.js';
import {
  RETRY_TOKEN_BYTES,
  checkRetryToken,
  mintRetryToken,
  type RetryBinding,
} from '../../common/lftp/protect/retry-token.js';
import { synProof, tokenMaster } from '../../common/lftp/protect/keys.js';
import { TransferProtection } from '../../common/lftp/protect/transfer-protection.js';
import { PROVEN_SALT_MS, SynKeys } from '../../server/files/syn-keys.js';
import { LftpError } from '../../common/lftp/engine/errors.js';

const secret = randomBytes(32);
const LIFETIME = 30_000;
const T0 = 1_700_000_000_000;
const salt = randomBytes(16);
const facts = { flags: Flag.SYN | Flag.POST, conn: 77, isn: 4242, name: 'notes.txt', mss: 1448, size: 10 };
const binding: RetryBinding = {
  address: '127.0.0.2',
  port: 40000,
  syn: { ...facts, salt },
  proof: randomBytes(16),
};

describe('the RETRY token', () => {
  const token = mintRetryToken(secret, binding, T0, LIFETIME);

  it('is 24 bytes, the same for the same inputs, and good until its expiry, not after', () => {
    expect(token).toHaveLength(RETRY_TOKEN_BYTES);
    expect(mintRetryToken(secret, binding, T0, LIFETIME).equals(token)).toBe(true);
    expect(checkRetryToken(secret, token, binding, T0)).toBe('ok');
    expect(checkRetryToken(secret, token, binding, T0 + LIFETIME - 1)).toBe('ok');
    expect(checkRetryToken(secret, token, binding, T0 + LIFETIME)).toBe('expired');
    expect(checkRetryToken(secret, token, binding, T0 + 10 * LIFETIME)).toBe('expired');
  });

  it('is bound to the address and port it went to (an IPv4-mapped address is the same IPv4 one)', () => {
    const at = (over: Partial<RetryBinding>) => checkRetryToken(secret, token, { ...binding, ...over }, T0);
    expect(at({ address: '127.0.0.3' })).toBe('invalid');
    expect(at({ address: '::1' })).toBe('invalid');
    expect(at({ port: 40001 })).toBe('invalid');
    expect(at({ address: '::ffff:127.0.0.2' })).toBe('ok');
    expect(at({ address: '::FFFF:127.0.0.2' })).toBe('ok');
    const v6 = { ...binding, address: 'fe80::1' };
    expect(checkRetryToken(secret, mintRetryToken(secret, v6, T0, LIFETIME), { ...v6, address: 'FE80::1' }, T0)).toBe(
      'ok',
    );
  });

  it('is bound to the whole SYN: flags, connection id, ISN, name, mss, size, salt and proof', () => {
    const other: Array<Partial<RetryBinding['syn']>> = [
      { flags: Flag.SYN },
      { conn: 78 },
      { isn: 4243 },
      { name: 'notes.txt2' },
      { mss: 1447 },
      { size: 11 },
      { size: undefined },
      { salt: randomBytes(16) },
    ];
    for (const o of other)
      expect(checkRetryToken(secret, token, { ...binding, syn: { ...binding.syn, ...o } }, T0), JSON.stringify(o)).toBe(
        'invalid',
      );
    expect(checkRetryToken(secret, token, { ...binding, proof: randomBytes(16) }, T0)).toBe('invalid');
  });

  it('cannot be forged, extended or made by another secret: any flipped bit, any other length, fails', () => {
    expect(checkRetryToken(randomBytes(32), token, binding, T0)).toBe('invalid');
    for (let bit = 0; bit < token.length * 8; bit++) {
      const bad = Buffer.from(token);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      // A later expiry (a flipped bit of the first 8 bytes) is not the one the MAC covers.
      expect(checkRetryToken(secret, bad, binding, T0), `bit ${bit}`).toBe('invalid');
    }
    expect(checkRetryToken(secret, token.subarray(0, 23), binding, T0)).toBe('invalid');
    expect(checkRetryToken(secret, Buffer.concat([token, Buffer.alloc(1)]), binding, T0)).toBe('invalid');
    expect(checkRetryToken(secret, Buffer.alloc(0), binding, T0)).toBe('invalid');
  });
});

describe("the SYN's retry field", () => {
  it('is empty before a RETRY, the token after; anything else in it is BAD_REQUEST', () => {
    const base = { name: 'a', mss: 1448 };
    const first = encodeSynRequest('get', { ...base, retry: Buffer.alloc(0) });
    expect(JSON.parse(first.toString())).toEqual({ ...base, retry: '' });
    expect(decodeSynRequest(first, 65_000).retry).toEqual(Buffer.alloc(0));
    const token = randomBytes(24);
    expect(decodeSynRequest(encodeSynRequest('get', { ...base, retry: token }), 65_000).retry).toEqual(token);
    expect(decodeSynRequest(encodeSynRequest('get', base), 65_000).retry).toBeUndefined();
    for (const retry of ['a+b/', 'AAA=', 5, randomBytes(65).toString('base64url')])
      expect(() => decodeSynRequest(Buffer.from(JSON.stringify({ ...base, retry })), 65_000)).toThrow(/retry must be/);
  });
});

describe('the --token endpoint: address validation before scrypt', () => {
  const from = { address: '127.0.0.2', port: 40000 };
  const token = 'the token';
  const keys = () => new SynKeys({ kind: 'token', token }, { secret, lifetimeMs: LIFETIME });
  const signed = async (retry: Buffer | undefined) => {
    const master = await tokenMaster(token, salt);
    return { auth: undefined, salt, proof: synProof(master, { ...facts, salt }), retry };
  };
  const refusal = (f: () => unknown) => {
    try {
      f();
    } catch (err) {
      return err instanceof LftpError ? `${err.code}: ${err.message}` : String(err);
    }
    return 'not refused';
  };

  it('a SYN without a token gets one (a RETRY), a SYN from before RETRY is told to update: no scrypt either way', async () => {
    const k = keys();
    const retry = k.addressCheck(await signed(Buffer.alloc(0)), facts, from, T0);
    expect(retry).toHaveLength(RETRY_TOKEN_BYTES);
    const old = await signed(undefined);
    expect(refusal(() => k.addressCheck(old, facts, from, T0))).toMatch(/^BAD_REQUEST: .*RETRY.*update/);
    expect(k.counts).toEqual({ retries: 1, retryTokensRefused: 0, oldClients: 1, scryptChecks: 0 });
  });

  it('a forged, expired, or misdirected token is refused (AUTH) without scrypt; the right one lets the proof be checked', async () => {
    const k = keys();
    const syn = await signed(Buffer.alloc(0));
    const t = k.addressCheck(syn, facts, from, T0)!;
    const forged = Buffer.from(t);
    forged[20]! ^= 0x40;
    expect(refusal(() => k.addressCheck({ ...syn, retry: forged }, facts, from, T0))).toMatch(
      /^AUTH: address validation failed/,
    );
    expect(refusal(() => k.addressCheck({ ...syn, retry: t }, facts, { ...from, address: '127.0.0.9' }, T0))).toMatch(
      /^AUTH: address validation failed/,
    );
    expect(refusal(() => k.addressCheck({ ...syn, retry: t }, facts, { ...from, port: 1 }, T0))).toMatch(
      /^AUTH: address validation failed/,
    );
    expect(refusal(() => k.addressCheck({ ...syn, retry: t }, { ...facts, isn: 1 }, from, T0))).toMatch(
      /^AUTH: address validation failed/,
    );
    expect(refusal(() => k.addressCheck({ ...syn, retry: t }, facts, from, T0 + LIFETIME))).toMatch(
      /^AUTH: address validation token expired/,
    );
    expect(k.counts.scryptChecks).toBe(0);
    expect(k.counts.retryTokensRefused).toBe(5);
    expect(k.addressCheck({ ...syn, retry: t }, facts, from, T0 + LIFETIME - 1)).toBeNull();
    const master = await k.check({ ...syn, retry: t }, facts, from.address, T0);
    expect(master?.equals(await tokenMaster(token, salt))).toBe(true);
    expect(k.counts.scryptChecks).toBe(1);
  });

  it("a salt whose key a SYN proved spares the next SYN with it a scrypt (a folder's files); a wrong proof with it is still a wrong token", async () => {
    const k = keys();
    const syn = await signed(Buffer.alloc(0));
    expect((await k.check(syn, facts, from.address, T0))?.equals(await tokenMaster(token, salt))).toBe(true);
    const next = { ...facts, isn: facts.isn + 1, name: 'folder/next.bin' };
    const master = await tokenMaster(token, salt);
    const again = { ...syn, proof: synProof(master, { ...next, salt }) };
    expect((await k.check(again, next, from.address, T0 + 1000))?.equals(master)).toBe(true);
    expect(k.counts.scryptChecks).toBe(1);
    const forged = { ...syn, proof: Buffer.alloc(16) };
    await expect(k.check(forged, next, from.address, T0 + 2000)).rejects.toThrow(/wrong token/);
    // Remembered for PROVEN_SALT_MS only: after that, a scrypt again.
    await k.check(again, next, from.address, T0 + PROVEN_SALT_MS + 1);
    expect(k.counts.scryptChecks).toBe(2);
  });

  it('ticket and open endpoints ask for no RETRY (their checks cost no more than the token would)', async () => {
    const syn = await signed(Buffer.alloc(0));
    for (const keying of [{ kind: 'ticket' as const, secret }, { kind: 'open' as const }]) {
      const k = new SynKeys(keying, { secret, lifetimeMs: LIFETIME });
      expect(k.addressCheck(syn, facts, from, T0)).toBeNull();
      expect(k.addressCheck({ ...syn, retry: undefined }, facts, from, T0)).toBeNull();
      expect(k.counts.retries).toBe(0);
    }
  });
});

describe("the client's engine takes one RETRY", () => {
  const ISN = 1000;
  const client = (retry: Buffer | undefined, handshakeTimeoutMs = 30_000) => {
    const sent: Packet[] = [];
    const events: TransferEvent[] = [];
    const opts: ConnectionOptions = {
      side: 'client',
      conn: 42,
      isn: ISN,
      request: { op: 'get', name: 'f', mss: 1448, ...(retry ? { retry } : {}) },
      receiveCapacity: 64,
      maxWindow: 64,
      idleTimeoutMs: 30_000,
      handshakeTries: 16,
      closeTries: 16,
      handshakeTimeoutMs,
    };
    const c = new LftpConnection(opts, { send: (p) => sent.push(p), event: (e) => events.push(e) }, 0);
    c.open(0);
    return { c, sent, events };
  };
  const retryPacket = (token: Buffer, ack = ISN + 1): Packet => ({
    flags: Flag.RETRY,
    conn: 42,
    seq: 0,
    ack,
    window: 0,
    payload: token,
  });
  const json = (p: Packet) => JSON.parse(p.payload.toString()) as Record<string, unknown>;

  it('sends the same SYN again with the token, once: a second RETRY, a wrong ack, a bad token are dropped', () => {
    const { c, sent, events } = client(Buffer.alloc(0));
    expect(json(sent[0]!)).toEqual({ name: 'f', mss: 1448, retry: '' });
    const token = randomBytes(24);
    c.onPacket(retryPacket(randomBytes(24), ISN + 2), 5);
    c.onPacket(retryPacket(Buffer.alloc(0)), 5);
    c.onPacket(retryPacket(randomBytes(65)), 5);
    expect(sent).toHaveLength(1);
    c.onPacket(retryPacket(token), 10);
    expect(sent).toHaveLength(2);
    expect({ ...sent[1]!, payload: null }).toEqual({ ...sent[0]!, payload: null });
    expect(json(sent[1]!)).toEqual({ name: 'f', mss: 1448, retry: token.toString('base64url') });
    expect(events.filter((e) => e.type === 'retry')).toEqual([{ type: 'retry', tokenBytes: 24 }]);
    // The RETRY came back at once: the first RTT sample.
    expect(c.rtt.srtt).toBe(10);
    c.onPacket(retryPacket(randomBytes(24)), 20);
    expect(sent).toHaveLength(2);
    // Its retransmissions are the SYN with the token.
    c.tick(10_000);
    expect(sent.at(-1)!.payload.equals(sent[1]!.payload)).toBe(true);
    expect(c.state).toBe('SYN_SENT');
  });

  it('keeps the handshake deadline, and a client that did not offer RETRY ignores one', () => {
    const { c, sent } = client(Buffer.alloc(0), 3000);
    c.onPacket(retryPacket(randomBytes(24)), 2500);
    expect(sent).toHaveLength(2);
    for (let t = 2600; t <= 6000 && c.state !== 'FAILED'; t += 100) c.tick(t);
    expect(c.state).toBe('FAILED');
    expect(c.failure?.code).toBe('HANDSHAKE_TIMEOUT');
    const old = client(undefined);
    old.c.onPacket(retryPacket(randomBytes(24)), 5);
    expect(old.sent).toHaveLength(1);
  });

  it('once queued, a RETRY is not taken; a protected client takes one in the clear only while its SYN is unanswered', () => {
    const { c, sent } = client(Buffer.alloc(0));
    c.onPacket({ flags: Flag.ACK, conn: 42, seq: 9, ack: ISN + 1, window: 0, payload: Buffer.from('{"queued":1}') }, 5);
    expect(c.state).toBe('QUEUED');
    c.onPacket(retryPacket(randomBytes(24)), 6);
    expect(sent).toHaveLength(1);
    const prot = TransferProtection.client(randomBytes(32), salt);
    const r = retryPacket(randomBytes(24));
    expect(prot.allowPlain(r, 'SYN_SENT', ISN)).toBe(true);
    expect(prot.allowPlain(r, 'QUEUED', ISN)).toBe(false);
    expect(prot.allowPlain({ ...r, ack: ISN }, 'SYN_SENT', ISN)).toBe(false);
    expect(prot.allowPlain({ ...r, flags: Flag.RETRY | Flag.ACK }, 'SYN_SENT', ISN)).toBe(false);
    expect(encodePacket(r).length).toBe(24 + 24);
  });
});
