/**
 * Chat frames as the door reads them, once per worker: a room's message is
 * one Buffer shared by every session it goes to, so it is decoded once, and
 * a message or a notice about someone else (a join, a part, a quit, a nick,
 * a topic, away) is the same lines for every IRC session that asked the
 * same capabilities, serialized once per variant: a room of N hears each
 * join as one Buffer, not N.
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
/** A frame as the door read it: its message, who it is about (folded; null: its lines are not shared), its lines by variant. */
export interface Decoded {
  msg: ServerMessage;
  about: string | null;
  lines: Map<number, Buffer> | null;
}
const decoded = new WeakMap<Buffer, Decoded>();

/** The frame's message (null: a type the chat does not send), with what every receiver's write needs of it, once. */
export function decodeOwn(frame: Buffer): Decoded | null {
  let d = decoded.get(frame);
  if (d === undefined) {
    const type = FRAME_NAMES.get(frame[4]!);
    if (type === undefined) return null;
    const msg = { type, ...(JSON.parse(frame.toString('utf8', 5)) as object) } as ServerMessage;
    const who = aboutSomeone(msg);
    d = { msg, about: who === null ? null : foldCase(who), lines: null };
    decoded.set(frame, d);
  }
  return d;
}

/** Notices whose lines do not depend on who receives them ('shared' names the receiver). */
const SHARED_NOTICES: ReadonlySet<string> = new Set([
  'joined',
  'parted',
  'left',
  'timed_out',
  'kicked',
  'nick',
  'topic',
  'away',
  'back',
]);

/** Who a room frame is about, if its lines are the same for every receiver but that person (null: not such a frame). */
function aboutSomeone(msg: ServerMessage): string | null {
  if (msg.type === 'CHAT' && msg.ref === undefined) return msg.from;
  if (msg.type === 'NOTICE' && msg.ref === undefined && SHARED_NOTICES.has(msg.event)) return msg.nick;
  return null;
}

/** The capabilities a shared frame's lines depend on, as one number (a frame's every receiver asks per write). */
function variantOf(caps: { has(cap: Capability): boolean }): number {
  return (
    (caps.has('server-time') ? 1 : 0) |
    (caps.has('message-tags') ? 2 : 0) |
    (caps.has('account-tag') ? 4 : 0) |
    (caps.has('away-notify') ? 8 : 0)
  );
}

/** A room message or notice about another, as the lines every session with these capabilities gets (null: not one). */
export function sharedLines(d: Decoded, st: IrcSessionState, caps: { has(cap: Capability): boolean }): Buffer | null {
  if (d.about === null || d.about === st.meFolded()) return null;
  const variant = variantOf(caps);
  const hit = d.lines?.get(variant);
  if (hit) return hit;
  let text: string;
  try {
    text = chatToIrc(st, d.msg)
      .lines.map((l) => `${serialize(l)}\r\n`)
      .join('');
  } catch {
    return null; // written line by line then, what cannot be sent left out
  }
  const bytes = Buffer.from(text, 'utf8');
  (d.lines ??= new Map<number, Buffer>()).set(variant, bytes);
  return bytes;
}
