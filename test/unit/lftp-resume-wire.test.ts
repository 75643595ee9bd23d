/**
 * Resume on the wire (docs/LFTP.md, "Resume"), with the fake link: the SYN's have/tag/mtime, covered by the
 * proof; the SYN-ACK's from/tag/mtime/dropped; only the missing bytes cross, the END still names the whole
 * file; a SYN-ACK that resumes where the client did not offer is a PROTOCOL error; an older server's SYN-ACK
 * (no `from`) starts over.
 */
import { describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { FakeLink, MemorySink, MemorySource } from '../helpers/fake-link.js';
import type { ConnectionOptions, Op } from '../../common/lftp/engine/connection.js';
import {
  decodeSynAck,
  decodeSynRequest,
  encodeSynAck,
  encodeSynRequest,
  type ResumeAnswer,
  type ResumeAsk,
} from '../../common/lftp/engine/payloads.js';
import { decodeEnd } from '../../common/lftp/engine/payloads.js';
import { Flag } from '../../common/lftp/engine/packet.js';
import { synProof } from '../../common/lftp/protect/keys.js';

const MSS = 100;
const TAG = 'AAAAAAAAAAAAAAAAAAAAAA';

/** The file from byte `from` on, as a resumed sender's source is: the whole file's size and SHA-256. */
class ResumedSource extends MemorySource {
  constructor(
    readonly whole: Buffer,
    from: number,
  ) {
    super(whole.subarray(from), MSS);
  }
  override get size(): number {
    return this.whole.length;
  }
  override sha256(): Buffer {
    return createHash('sha256').update(this.whole).digest();
  }
}

/** A receiver holding the file's first bytes from an earlier try: `data` is the whole file once done. */
class HeldSink extends MemorySink {
  constructor(readonly held: Buffer) {
    super();
  }
  /** Bytes that crossed in this transfer. */
  get moved(): number {
    return this.parts.reduce((n, b) => n + b.length, 0);
  }
  override get data(): Buffer {
    return Buffer.concat([this.held.subarray(0, this.from), ...this.parts]);
  }
}

function transfer(op: Op, data: Buffer, ask: ResumeAsk | undefined, answer: ResumeAnswer | undefined) {
  const from = answer?.from ?? 0;
  const source = new ResumedSource(data, from);
  const sink = new HeldSink(ask?.have !== 0 ? data : Buffer.alloc(0));
  const common = { receiveCapacity: 64, maxWindow: 256, idleTimeoutMs: 30_000, handshakeTries: 16, closeTries: 16 };
  const clientOpts: ConnectionOptions = {
    ...common,
    side: 'client',
    conn: 7,
    isn: 100,
    request: {
      op,
      name: 'f',
      mss: MSS,
      ...(op === 'post' ? { size: data.length } : {}),
      ...(ask ? { resume: ask } : {}),
    },
    ...(op === 'post' ? { source } : { sink }),
  };
  const link = new FakeLink(
    clientOpts,
    { ...common, side: 'server', conn: 7, isn: 900, ...(op === 'get' ? { source } : { sink }) },
    data.length,
  );
  link.serverResume = answer;
  link.run();
  const dataPackets = link.log.filter((l) => l.flags.includes('DAT')).length;
  return { link, sink, dataPackets };
}

describe('resume on the wire', () => {
  const data = randomBytes(20 * MSS + 37);

  it('get: the client offers what it holds, the server resumes there; only the rest crosses, END names the whole file', () => {
    const have = 12 * MSS;
    const { link, sink, dataPackets } = transfer(
      'get',
      data,
      { have, tag: TAG, mtime: 5 },
      { from: have, tag: TAG, mtime: 5 },
    );
    expect(link.client.succeeded).toBe(true);
    expect(sink.from).toBe(have);
    expect(sink.moved).toBe(data.length - have);
    expect(sink.data).toEqual(data);
    expect(dataPackets).toBe(Math.ceil((data.length - have) / MSS));
    expect(link.client.resumed).toMatchObject({ from: have, tag: TAG, mtime: 5 });
    expect(link.client.progressBytes()).toBe(data.length);
    const established = link.events.find((x) => x.side === 'client' && x.e.type === 'established');
    expect(established?.e).toMatchObject({ from: have });
  });

  it('post: the server holds a part of the same source, and says from where', () => {
    const from = 7 * MSS;
    const { link, sink, dataPackets } = transfer('post', data, { tag: TAG, mtime: 5 }, { from });
    expect(link.server.succeeded && link.client.succeeded).toBe(true);
    expect(sink.moved).toBe(data.length - from);
    expect(sink.data).toEqual(data);
    expect(dataPackets).toBe(Math.ceil((data.length - from) / MSS));
    const end = link.log.find((l) => l.flags.includes('END'));
    expect(end).toBeDefined();
  });

  it('a server that starts over (from 0), or an older one (no resume fields), sends everything', () => {
    const fresh = transfer(
      'get',
      data,
      { have: 5 * MSS, tag: TAG, mtime: 5 },
      { from: 0, tag: 'BBBBBBBBBBBBBBBBBBBBBB' },
    );
    expect(fresh.link.client.succeeded).toBe(true);
    expect(fresh.sink.from).toBe(0);
    expect(fresh.sink.data).toEqual(data);
    const old = transfer('get', data, { have: 5 * MSS, tag: TAG, mtime: 5 }, undefined);
    expect(old.link.client.succeeded).toBe(true);
    expect(old.link.client.resumed?.from).toBe(0);
    expect(old.sink.data).toEqual(data);
  });

  it('a SYN-ACK resuming where the client did not offer is PROTOCOL', () => {
    const get = transfer('get', data, { have: 5 * MSS, tag: TAG }, { from: 4 * MSS });
    expect(get.link.client.succeeded).toBe(false);
    expect(get.link.events.find((x) => x.side === 'client' && x.e.type === 'error')?.e).toMatchObject({
      code: 'PROTOCOL',
    });
    const post = transfer('post', data, { tag: TAG, have: 0 }, { from: 3 * MSS });
    expect(post.link.client.succeeded).toBe(false);
  });

  it('the SYN carries have, tag and mtime; a malformed one is BAD_REQUEST; the SYN-ACK carries from, tag, mtime, dropped', () => {
    const syn = encodeSynRequest('get', { name: 'f', mss: MSS, resume: { have: 300, tag: TAG, mtime: 9 } });
    expect(decodeSynRequest(syn, 1448).resume).toEqual({ have: 300, tag: TAG, mtime: 9 });
    expect(decodeSynRequest(encodeSynRequest('get', { name: 'f', mss: MSS }), 1448).resume).toBeUndefined();
    for (const bad of [{ have: -1 }, { have: 1.5 }, { tag: 'short' }, { mtime: '1' }]) {
      expect(() => decodeSynRequest(Buffer.from(JSON.stringify({ name: 'f', mss: MSS, ...bad })), 1448)).toThrow(
        /have|tag/,
      );
    }
    const ack = encodeSynAck(1000, MSS, { from: 300, tag: TAG, mtime: 9, dropped: 4 });
    expect(decodeSynAck(ack, MSS)).toEqual({ size: 1000, mss: MSS, from: 300, tag: TAG, mtime: 9, dropped: 4 });
    expect(decodeSynAck(encodeSynAck(1000, MSS), MSS)).toEqual({ size: 1000, mss: MSS, from: 0 });
    expect(decodeSynAck(Buffer.from(JSON.stringify({ size: 10, mss: MSS, from: 11 })), MSS)).toBeNull();
    expect(decodeEnd(Buffer.alloc(3))).toBeNull();
  });

  it('the proof covers the resume fields, and is the old one without them', () => {
    const master = randomBytes(32);
    const salt = randomBytes(16);
    const facts = { flags: Flag.SYN, conn: 7, isn: 100, name: 'f', mss: MSS, size: undefined, salt };
    const plain = synProof(master, facts);
    expect(synProof(master, { ...facts, resume: undefined })).toEqual(plain);
    const a = synProof(master, { ...facts, resume: { have: 300, tag: TAG, mtime: 9 } });
    expect(a).not.toEqual(plain);
    expect(synProof(master, { ...facts, resume: { have: 301, tag: TAG, mtime: 9 } })).not.toEqual(a);
    expect(synProof(master, { ...facts, resume: { have: 300, tag: TAG, mtime: 8 } })).not.toEqual(a);
    expect(synProof(master, { ...facts, resume: { have: 300, tag: 'BBBBBBBBBBBBBBBBBBBBBB', mtime: 9 } })).not.toEqual(
      a,
    );
  });
});
