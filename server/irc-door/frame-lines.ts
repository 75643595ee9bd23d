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

/** A room message or notice about another, as the lines every session with these capabilities gets (null: not one). */
export function sharedLines(
  frame: Buffer,
  msg: ServerMessage,
  st: IrcSessionState,
  caps: { has(cap: Capability): boolean },
): Buffer | null {
  const who = aboutSomeone(msg);
  if (who === null || foldCase(who) === foldCase(st.me)) return null;
  const variant = `${caps.has('server-time') ? 't' : ''}${caps.has('message-tags') ? 'm' : ''}${caps.has('account-tag') ? 'a' : ''}${caps.has('away-notify') ? 'w' : ''}`;
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
