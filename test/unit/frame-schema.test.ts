/**
 * One schema, two decoders: the server's (common/protocol.ts) and the browser
 * page's (web/src/codec.ts) accept and refuse the same frames, for the same reasons.
 */
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../common/frame.js';
import { FrameType, decodeServerMessage, encodeMessage, type ServerMessage } from '../../common/protocol.js';
import { decodeMessage as decodeInBrowser } from '../../web/src/codec.js';

const frame = (type: number, body: unknown) =>
  encodeFrame(type, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)));
const asArrayBuffer = (b: Buffer) => b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;

function bothDecode(b: Buffer): { node: ServerMessage | string; browser: ServerMessage | string } {
  const attempt = (fn: () => ServerMessage) => {
    try {
      return fn();
    } catch (err) {
      return (err as Error).message;
    }
  };
  const body = b.subarray(5);
  return {
    node: attempt(() => decodeServerMessage({ type: b[4]!, body })),
    browser: attempt(() => decodeInBrowser(asArrayBuffer(b))),
  };
}

describe('the shared frame schema', () => {
  const good: ServerMessage[] = [
    { type: 'CHAT', from: 'alice', text: 'hi 大家好', action: false, ts: 1 },
    { type: 'NOTICE', event: 'shared', nick: 'bob', name: 'a.txt', size: 3 },
    { type: 'WHO_REPLY', users: [{ nick: 'a', idleMs: 0, rttMs: null }], total: 1 },
    { type: 'TICKET', id: 1, ok: false, op: 'get', name: 'x', code: 'NOT_FOUND', message: 'no such file' },
    { type: 'TICKET', id: 2, ok: true, op: 'post', name: 'y', ticket: 'ab', key: 'k3y', port: 9000, size: 5 },
  ];
  it.each(good.map((m) => [m.type, m] as const))('decodes a good %s the same on both sides', (_t, msg) => {
    const r = bothDecode(encodeMessage(msg));
    expect(r.node).toEqual(msg);
    expect(r.browser).toEqual(msg);
  });

  const bad: Array<[string, Buffer, RegExp]> = [
    ['a CHAT without text', frame(FrameType.CHAT, { from: 'a', ts: 1 }), /CHAT\.text must be a string/],
    [
      'a CHAT whose ts is a string',
      frame(FrameType.CHAT, { from: 'a', text: 'x', ts: '1' }),
      /CHAT\.ts must be a number/,
    ],
    [
      'a NOTICE with an unknown event',
      frame(FrameType.NOTICE, { event: 'exploded', nick: 'a' }),
      /NOTICE\.event must be one of/,
    ],
    [
      'a WHO_REPLY whose users is not an array',
      frame(FrameType.WHO_REPLY, { users: {} }),
      /WHO_REPLY\.users must be an array/,
    ],
    [
      'a WHO_REPLY user without a nick',
      frame(FrameType.WHO_REPLY, { users: [{ idleMs: 1 }] }),
      /WHO_REPLY\.users\[0\]\.nick must be a string/,
    ],
    [
      'a granted TICKET without its ticket',
      frame(FrameType.TICKET, { id: 1, op: 'get', name: 'x', ok: true, port: 1, size: 1 }),
      /TICKET\.ticket must be a string/,
    ],
    [
      'an ERROR whose fatal is "yes"',
      frame(FrameType.ERROR, { code: 'X', message: 'y', fatal: 'yes' }),
      /ERROR\.fatal must be a boolean/,
    ],
    ['a type only clients send', frame(FrameType.HELLO, { version: 1, nick: 'a' }), /HELLO is not sent by servers/],
  ];
  it.each(bad)('refuses %s on both sides, with the same words', (_what, b, why) => {
    const r = bothDecode(b);
    expect(r.node).toMatch(why);
    expect(r.browser).toMatch(why);
  });
});
