/** The command line's rooms and history options (server/process/options.ts takes the rest). */
import { resolve } from 'node:path';
import { UsageError } from '../../common/errors.js';
import { parseDuration, parseInteger, parseSize } from '../../common/units.js';
import { checkRoomName } from '../../common/unicode/room-rule.js';
import type { Retention } from '../store/history.js';
import { DEFAULT_ROOM_LIMITS, type RoomLimits } from '../store/rooms.js';
import { HISTORY_PAGE_MAX } from '../store/room-read-requests.js';
import { MAX_CAPACITY } from '../shm/session-table.js';

export interface HistoryOptions {
  /** null: --no-history. */
  dataDir: string | null;
  retention: Retention;
  /** Messages a client gets on joining a room (--history-on-join). */
  onJoin: number;
  /** How long a lost session waits to be resumed (--resume-window); 0 with --no-history: nothing to replay from. */
  resumeWindowMs: number;
}

export interface RoomOptions {
  defaultRoom: string;
  limits: RoomLimits;
}

export function roomOptions(v: {
  'default-room'?: string;
  'max-rooms'?: string;
  'max-rooms-per-user'?: string;
  'max-room-members'?: string;
  'max-rooms-per-prefix'?: string;
  'max-rooms-per-account'?: string;
  'room-grace'?: string;
  'max-registrations-per-prefix'?: string;
  'max-inbox-conversations'?: string;
  'max-inbox-size'?: string;
}): RoomOptions {
  const room = checkRoomName(v['default-room'] ?? '#lobby');
  if (!room.ok) throw new UsageError(`--default-room: ${room.reason}`);
  const count = (value: string | undefined, name: string, fallback: number) =>
    value !== undefined ? parseInteger(value, name, 1, MAX_CAPACITY) : fallback;
  return {
    defaultRoom: room.room,
    limits: {
      maxRooms: count(v['max-rooms'], '--max-rooms', DEFAULT_ROOM_LIMITS.maxRooms),
      maxRoomsPerUser: count(v['max-rooms-per-user'], '--max-rooms-per-user', DEFAULT_ROOM_LIMITS.maxRoomsPerUser),
      maxMembersPerRoom: count(v['max-room-members'], '--max-room-members', DEFAULT_ROOM_LIMITS.maxMembersPerRoom),
      ...accountLimits(v),
      maxRoomsPerPrefix: count(
        v['max-rooms-per-prefix'],
        '--max-rooms-per-prefix',
        DEFAULT_ROOM_LIMITS.maxRoomsPerPrefix,
      ),
      maxRoomsPerAccount: count(
        v['max-rooms-per-account'],
        '--max-rooms-per-account',
        DEFAULT_ROOM_LIMITS.maxRoomsPerAccount,
      ),
      roomGraceMs:
        v['room-grace'] !== undefined
          ? parseDuration(v['room-grace'], '--room-grace')
          : DEFAULT_ROOM_LIMITS.roomGraceMs,
    },
  };
}

/** Registrations per address prefix an hour, and an offline nick's inbox (conversations, bytes of text). */
function accountLimits(v: {
  'max-registrations-per-prefix'?: string;
  'max-inbox-conversations'?: string;
  'max-inbox-size'?: string;
}): Pick<Required<RoomLimits>, 'maxRegistrationsPerPrefix' | 'maxInboxConversations' | 'maxInboxBytes'> {
  const d = DEFAULT_ROOM_LIMITS;
  const count = (value: string | undefined, name: string, fallback: number) =>
    value !== undefined ? parseInteger(value, name, 1, 1_000_000) : fallback;
  return {
    maxRegistrationsPerPrefix: count(
      v['max-registrations-per-prefix'],
      '--max-registrations-per-prefix',
      d.maxRegistrationsPerPrefix,
    ),
    maxInboxConversations: count(v['max-inbox-conversations'], '--max-inbox-conversations', d.maxInboxConversations),
    maxInboxBytes:
      v['max-inbox-size'] !== undefined ? parseSize(v['max-inbox-size'], '--max-inbox-size') : d.maxInboxBytes,
  };
}

export const DEFAULT_HISTORY_MAX_AGE_MS = 30 * 86_400_000;
export const DEFAULT_HISTORY_MAX_SIZE = 2 ** 30;

export const DEFAULT_RESUME_WINDOW_MS = 120_000;
/** A day: a longer window would hold nicks and memory for sessions nobody comes back to. */
export const MAX_RESUME_WINDOW_MS = 86_400_000;

export function historyOptions(v: {
  data?: string;
  'no-history'?: boolean;
  'history-max-age'?: string;
  'history-max-size'?: string;
  'history-on-join'?: string;
  'resume-window'?: string;
}): HistoryOptions {
  if (v['no-history'] && v['resume-window'] !== undefined)
    throw new UsageError('--no-history keeps nothing to resume from: --resume-window does not apply');
  const resumeWindowMs = v['no-history']
    ? 0
    : v['resume-window'] !== undefined
      ? parseDuration(v['resume-window'], '--resume-window')
      : DEFAULT_RESUME_WINDOW_MS;
  if (resumeWindowMs > MAX_RESUME_WINDOW_MS) throw new UsageError('--resume-window must be at most 1d');
  if (v['no-history'] && (v['history-max-age'] !== undefined || v['history-max-size'] !== undefined)) {
    throw new UsageError('--no-history keeps nothing: --history-max-age and --history-max-size do not apply');
  }
  const maxBytes =
    v['history-max-size'] !== undefined
      ? parseSize(v['history-max-size'], '--history-max-size')
      : DEFAULT_HISTORY_MAX_SIZE;
  if (maxBytes < 1 << 20) throw new UsageError('--history-max-size must be at least 1MiB');
  return {
    dataDir: v['no-history'] ? null : resolve(v.data ?? 'data'),
    retention: {
      maxAgeMs:
        v['history-max-age'] !== undefined
          ? parseDuration(v['history-max-age'], '--history-max-age')
          : DEFAULT_HISTORY_MAX_AGE_MS,
      maxBytes,
    },
    onJoin:
      v['history-on-join'] !== undefined
        ? parseInteger(v['history-on-join'], '--history-on-join', 0, HISTORY_PAGE_MAX)
        : 50,
    resumeWindowMs,
  };
}
