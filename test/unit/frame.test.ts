import { describe, expect, it } from 'vitest';
import { FrameDecoder, HEADER_SIZE, encodeFrame, type RawFrame } from '../../common/frame.js';
import {
  FrameType,
  decodeClientMessage,
  decodeServerMessage,
  encodeMessage,
  isKnownFrameType,
  type AnyMessage,
} from '../../common/protocol.js';
import { ProtocolError } from '../../common/errors.js';

const decoder = (maxFrame = 64 * 1024) => new FrameDecoder({ maxFrame, isKnownType: isKnownFrameType });

const sample: AnyMessage[] = [
  { type: 'HELLO', version: 1, nick: 'alice' },
  { type: 'CHAT', text: 'héllo wörld ✓', action: false },
  { type: 'CHAT', text: '', action: true },
  { type: 'DIRECT', to: 'bob', text: 'x'.repeat(3000) },
  { type: 'HEARTBEAT_ACK', seq: 7, ts: 123.5 },
  { type: 'BYE', reason: 'done' },
];
const stream = Buffer.concat(sample.map(encodeMessage));

function frames(chunks: Buffer[], d = decoder()): RawFrame[] {
  return chunks.flatMap((c) => d.push(c));
}

describe('frame decoder', () => {
  it('decodes a stream split at every possible single point', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const out = frames([stream.subarray(0, cut), stream.subarray(cut)]);
      expect(out.map((f) => decodeClientMessage(f))).toEqual(sample);
    }
  });

  it('decodes a stream split at every pair of points in the first frames', () => {
    const head = Buffer.concat(sample.slice(0, 3).map(encodeMessage));
    for (let a = 0; a <= head.length; a++) {
      for (let b = a; b <= head.length; b++) {
        const out = frames([head.subarray(0, a), head.subarray(a, b), head.subarray(b)]);
        expect(out.length).toBe(3);
      }
    }
  });

  it('decodes a stream fed one byte at a time', () => {
    const d = decoder();
    const out: RawFrame[] = [];
    for (const byte of stream) out.push(...d.push(Buffer.from([byte])));
    expect(out.map((f) => decodeClientMessage(f))).toEqual(sample);
    expect(d.bufferedBytes).toBe(0);
  });

  it('decodes merged frames delivered in one chunk, and random splits', () => {
    expect(frames([stream]).length).toBe(sample.length);
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let round = 0; round < 200; round++) {
      const chunks: Buffer[] = [];
      let at = 0;
      while (at < stream.length) {
        const n = 1 + Math.floor(rnd() * 40);
        chunks.push(stream.subarray(at, at + n));
        at += n;
      }
      expect(frames(chunks).map((f) => decodeClientMessage(f))).toEqual(sample);
    }
  });

  it('accepts an empty body and a body of exactly the limit', () => {
    const d = decoder(1024);
    const out = d.push(
      Buffer.concat([
        encodeFrame(FrameType.WHO, Buffer.alloc(0)),
        encodeFrame(FrameType.WHO, Buffer.alloc(1024, 0x20)),
      ]),
    );
    expect(out.map((f) => f.body.length)).toEqual([0, 1024]);
  });

  it('refuses an oversized length from the header alone, before buffering the body', () => {
    const d = decoder(1024);
    const header = Buffer.alloc(HEADER_SIZE);
    header.writeUInt32BE(0xffffffff, 0);
    header.writeUInt8(FrameType.CHAT, 4);
    expect(() => d.push(header)).toThrowError(expect.objectContaining({ code: 'FRAME_TOO_LARGE' }));
    expect(d.bufferedBytes).toBe(0);
    // A failed stream stays failed: its framing is lost.
    expect(() => d.push(Buffer.from([1]))).toThrow(ProtocolError);
  });

  it('refuses one byte over the limit', () => {
    const d = decoder(1024);
    expect(() => d.push(encodeFrame(FrameType.CHAT, Buffer.alloc(1025)))).toThrowError(
      expect.objectContaining({ code: 'FRAME_TOO_LARGE' }),
    );
  });

  it('refuses an unknown type from the header', () => {
    const d = decoder();
    expect(() => d.push(encodeFrame(0x7f, Buffer.from('{}')))).toThrowError(
      expect.objectContaining({ code: 'UNKNOWN_TYPE' }),
    );
  });
});

describe('message decoding', () => {
  const raw = (type: number, body: string | Buffer): RawFrame => ({
    type,
    body: Buffer.isBuffer(body) ? body : Buffer.from(body),
  });

  it.each([
    ['invalid UTF-8', raw(FrameType.CHAT, Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d])), 'INVALID_UTF8'],
    ['not JSON', raw(FrameType.CHAT, '{text:'), 'BAD_FRAME'],
    ['a JSON array', raw(FrameType.CHAT, '[1]'), 'BAD_FRAME'],
    ['a JSON string', raw(FrameType.CHAT, '"hi"'), 'BAD_FRAME'],
    ['a missing field', raw(FrameType.CHAT, '{}'), 'BAD_FRAME'],
    ['a wrongly typed field', raw(FrameType.CHAT, '{"text":5}'), 'BAD_FRAME'],
    ['a non-finite number', raw(FrameType.HEARTBEAT_ACK, '{"seq":"1","ts":0}'), 'BAD_FRAME'],
    ['a server-only type from a client', raw(FrameType.WELCOME, '{}'), 'UNKNOWN_TYPE'],
  ])('rejects %s', (_name, frame, code) => {
    expect(() => decodeClientMessage(frame)).toThrowError(expect.objectContaining({ code }));
  });

  it('round-trips every server message', () => {
    const msgs: AnyMessage[] = [
      {
        type: 'WELCOME',
        version: 1,
        nick: 'a',
        session: '1',
        heartbeatIntervalMs: 5000,
        heartbeatTimeoutMs: 15000,
        maxFrame: 65536,
        maxText: 32512,
        server: 's',
        users: 1,
      },
      { type: 'CHAT', from: 'a', text: 't', action: false, ts: 1 },
      { type: 'DIRECT', from: 'a', to: 'b', text: 't', ts: 1 },
      { type: 'DIRECT', from: 'a', to: 'b', text: 'waves', ts: 1, id: 2, action: true },
      { type: 'BROADCAST', text: 't', ts: 1 },
      { type: 'NOTICE', event: 'kicked', nick: 'a', reason: 'spam' },
      { type: 'NOTICE', event: 'nick', nick: 'a', newNick: 'b' },
      { type: 'WHO_REPLY', users: [{ nick: 'a', idleMs: 1, rttMs: null }], total: 1 },
      { type: 'HEARTBEAT', seq: 1, ts: 2 },
      { type: 'ERROR', code: 'X', message: 'y', fatal: true },
      { type: 'BYE', reason: 'r' },
    ];
    for (const m of msgs) {
      const [f] = decoder().push(encodeMessage(m));
      expect(decodeServerMessage(f!)).toEqual(m);
    }
  });

  it("DIRECT's action: kept when sent, absent when not (clients before it send none), a non-boolean refused", () => {
    const client = (body: string) => decodeClientMessage(raw(FrameType.DIRECT, body));
    expect(client('{"to":"bob","text":"waves","action":true}')).toEqual({
      type: 'DIRECT',
      to: 'bob',
      text: 'waves',
      action: true,
    });
    expect(client('{"to":"bob","text":"hi"}')).toEqual({ type: 'DIRECT', to: 'bob', text: 'hi' });
    expect(() => client('{"to":"bob","text":"hi","action":"yes"}')).toThrowError(
      expect.objectContaining({ code: 'BAD_FRAME' }),
    );
  });
});
