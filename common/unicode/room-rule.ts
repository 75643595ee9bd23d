/**
 * What a room may be called: '#' and then a name under the nick rule
 * (nick-rule.ts: letters and digits of any script, _ - . [ ] { } | ^ `, one
 * script or an accepted mix, nothing invisible, 1-32 characters and columns).
 * Rooms are told apart case-insensitively (roomKey), as nicks are; the
 * server also refuses a new room that looks like an existing one.
 * Dependency-free: the page checks names with the same rule.
 */
import { checkName } from './nick-rule.js';
import { foldCase } from './text-policy.js';

export type RoomCheck = { ok: true; room: string } | { ok: false; reason: string };

export function checkRoomName(raw: string): RoomCheck {
  if (!raw.startsWith('#')) return { ok: false, reason: `a room's name starts with # (#${raw.slice(0, 32)})` };
  const name = checkName(raw.slice(1), "room's name");
  return name.ok ? { ok: true, room: `#${name.nick}` } : name;
}

/** The room's identity: two names that differ only in case are one room. */
export function roomKey(room: string): string {
  return foldCase(room.normalize('NFC'));
}
