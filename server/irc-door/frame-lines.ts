/**
 * Chat frames as the door reads them, once per worker: a room's message is
 * one Buffer shared by every session it goes to, so it is decoded once, and
 * a message from someone else is the same lines for every IRC session that
 * asked the same capabilities, serialized once per variant.
 */
import { FrameType, type ServerMessage } from '../../common/messages.js';
import { foldCase } from '../../common/unicode/text-policy.js';
import type { Capability } from '../irc/caps.js';
import { serialize } from '../irc/message.js';
import { chatToIrc } from './irc-outbound.js';
import type { IrcSessionState } from './irc-session.js';

const FRAME_NAMES = new Map<number, ServerMessage['type']>(
  Object.entries(FrameType).map(([name, type]) => [type, name as ServerMessage['type']]),
);
const decoded = new WeakMap<Buffer, ServerMessage>();
const written = new WeakMap<Buffer, Map<string, Buffer>>();

/** The frame's message (null: a type the chat does not send). */
export function decodeOwn(frame: Buffer): ServerMessage | null {
  let msg = decoded.get(frame);
  if (msg === undefined) {
    const type = FRAME_NAMES.get(frame[4]!);
    if (type === undefined) return null;
    msg = { type, ...(JSON.parse(frame.toString('utf8', 5)) as object) } as ServerMessage;
    decoded.set(frame, msg);
  }
  return msg;
}

/** A room message from another, as the lines every session with these capabilities gets (null: not one). */
export function sharedLines(
  frame: Buffer,
  msg: ServerMessage,
  st: IrcSessionState,
  caps: { has(cap: Capability): boolean },
): Buffer | null {
  if (msg.type !== 'CHAT' || msg.ref !== undefined || foldCase(msg.from) === foldCase(st.me)) return null;
  const variant = `${caps.has('server-time') ? 't' : ''}${caps.has('message-tags') ? 'm' : ''}${caps.has('account-tag') ? 'a' : ''}`;
  let byVariant = written.get(frame);
  const hit = byVariant?.get(variant);
  if (hit) return hit;
  let text: string;
  try {
    text = chatToIrc(st, msg)
      .lines.map((l) => `${serialize(l)}\r\n`)
      .join('');
  } catch {
    return null; // written line by line then, what cannot be sent left out
  }
  const bytes = Buffer.from(text, 'utf8');
  if (!byVariant) written.set(frame, (byVariant = new Map<string, Buffer>()));
  byVariant.set(variant, bytes);
  return bytes;
}
