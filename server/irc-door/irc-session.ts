/**
 * One IRC connection's state once it carries a session, shared by what it
 * reads (irc-inbound.ts) and what it is sent (irc-outbound.ts): its nick as
 * the chat has it, its rooms, and the chat requests the door made on its
 * behalf whose answers must become IRC replies (NAMES for a join, WHO and
 * WHOIS, CHATHISTORY pages). Each kind of answer comes back in the order
 * asked, because the chat answers one session's requests in order.
 */
import type { HistoryEntry, WhoEntry } from '../../common/messages.js';
import { roomKey } from '../../common/unicode/room-rule.js';
import { foldCase } from '../../common/unicode/text-policy.js';
import type { HistoryAsk } from '../irc/chathistory.js';
import type { WhoxRequest } from '../irc/numerics.js';
import type { OutContext } from '../irc/to-irc.js';
import type { DoorConfig } from './door-services.js';
import type { IrcPeople, Person } from './irc-people.js';
import { IrcRequests } from './irc-requests.js';
import { LazyMap } from './lazy-map.js';

/** A WHO on a room: its members (NAMES_REPLY) and everyone's state (WHO_REPLY), answered once both came. */
export interface WhoRoom {
  mask: string;
  whox: WhoxRequest | null;
  members?: string[];
  users?: WhoEntry[];
}

/** Why the door asked NAMES: the client did, a join shows them, or a WHO on the room needs them. */
export type NamesAsk = { room: string } & (
  | { purpose: 'names' }
  | { purpose: 'join' }
  | { purpose: 'who'; who: WhoRoom }
);

export type WhoAsk =
  | { kind: 'mask'; mask: string; whox: WhoxRequest | null }
  | { kind: 'whois'; nick: string }
  | { kind: 'room'; who: WhoRoom };

export type HistoryFrame = { room?: string; with?: string; entries: HistoryEntry[]; done: boolean };

/** CHATHISTORY requests waiting for their answer, at most this many (a refused one's place is taken by the next). */
const MAX_HISTORY_ASKS = 16;

export class IrcSessionState {
  /** The session's nick as the chat has it ('' before WELCOME). */
  me = '';
  /** This session in the worker's IrcPeople, from WELCOME to the end. */
  person: Person | null = null;
  /** Its rooms: key (room-rule.ts roomKey) → name as the room has it. */
  readonly rooms = new Map<string, string>();
  readonly namesAsks: NamesAsk[] = [];
  readonly whoAsks: WhoAsk[] = [];
  readonly historyAsks = new LazyMap<number, HistoryAsk>();
  /** A joined room's history waits until its NAMES are shown (JOIN, topic, NAMES, then history, as Ergo sends them). */
  readonly heldHistory = new LazyMap<string, HistoryFrame[]>();
  /** The batch a history answer is being sent in, by its stream (a room's join, a request's id, missed messages). */
  readonly batches = new LazyMap<string, string>();
  /** The chat requests made for the client's commands, by ref: what a refusal names, labeled answers. */
  readonly requests = new IrcRequests();
  private refs = 0;
  private historyIds = 0;

  constructor(
    readonly config: DoorConfig,
    readonly people: IrcPeople,
    readonly caps: OutContext['caps'],
  ) {}

  /** What to-irc.ts and history-batch.ts need to write for this session. */
  out(): OutContext {
    const self = this.person;
    return {
      server: this.config.server.name,
      host: this.config.host,
      nickMode: this.config.nickMode,
      me: this.me,
      caps: this.caps,
      defaultRoom: this.config.defaultRoom,
      doorOf: (nick) =>
        self && foldCase(nick) === foldCase(this.me) ? { kind: 'irc', ident: self.ident } : this.people.doorOf(nick),
      accountOf: (nick) => this.people.accountOf(nick),
    };
  }

  batchRef(): string {
    return `b${++this.refs}`;
  }

  /** A CHATHISTORY request's id (the chat's HISTORY_REQUEST numbers them per session; the door's own stay apart). */
  askHistory(ask: HistoryAsk): number {
    const id = 1_000_000 + ++this.historyIds;
    this.historyAsks.set(id, ask);
    if (this.historyAsks.size > MAX_HISTORY_ASKS) this.historyAsks.delete(this.historyAsks.first()!);
    return id;
  }

  inRoom(room: string): boolean {
    return this.rooms.has(roomKey(room));
  }

  joined(room: string): void {
    this.rooms.set(roomKey(room), room);
  }

  parted(room: string): void {
    this.rooms.delete(roomKey(room));
    this.heldHistory.delete(roomKey(room));
  }

  /** The first NAMES asked for this room, taken off the list. */
  takeNames(room: string): NamesAsk | undefined {
    const key = roomKey(room);
    const i = this.namesAsks.findIndex((a) => roomKey(a.room) === key);
    return i < 0 ? undefined : this.namesAsks.splice(i, 1)[0];
  }
}
