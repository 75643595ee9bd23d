/**
 * Message ids for IRC (the msgid tag) from the chat's own: a message's id is
 * its place in its conversation (docs/PROTOCOL.md, "History"), unique only
 * there, so the msgid also names the conversation (a hash of its key: the
 * folded room name, or the two folded nicks of a direct conversation) and
 * carries the message's time. `<conversation>.<id>.<ms in base 36>`, for
 * example `1x3k9qz.42.mitc5r40`. The time lets CHATHISTORY AFTER a msgid be
 * asked of the chat, which pages forwards by time only (chathistory.ts).
 * Every node computes the same msgid for the same message.
 */
import { roomKey } from '../../common/unicode/room-rule.js';
import { foldCase } from '../../common/unicode/text-policy.js';

export type Conversation = { room: string } | { between: [string, string] };

/** FNV-1a, 32 bits, over the key's UTF-16 units: short, stable, no dependency. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36);
}

export function conversationTag(c: Conversation): string {
  if ('room' in c) return fnv1a(`#${roomKey(c.room)}`);
  const [a, b] = c.between.map(foldCase).sort() as [string, string];
  return fnv1a(`${a}\n${b}`);
}

export function msgid(c: Conversation, id: number, ts: number): string {
  return `${conversationTag(c)}.${id}.${Math.floor(ts).toString(36)}`;
}

export interface MsgRef {
  tag: string;
  id: number;
  ts: number;
}

/** A msgid this door made, read back; null when it is not one. */
export function parseMsgid(value: string): MsgRef | null {
  const m = /^([0-9a-z]{1,7})\.(\d{1,15})\.([0-9a-z]{1,12})$/.exec(value);
  if (!m) return null;
  const id = Number(m[2]);
  const ts = Number.parseInt(m[3]!, 36);
  if (!Number.isSafeInteger(id) || id < 1 || !Number.isSafeInteger(ts)) return null;
  return { tag: m[1]!, id, ts };
}
