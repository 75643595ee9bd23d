/**
 * One IRC connection's state once it carries a session, shared by what it
 * reads (irc-inbound.ts) and what it is sent (irc-outbound.ts): its nick as
 * the chat has it, its rooms, and the chat requests the door made on its
 * behalf whose answers must become IRC replies (NAMES for a join, WHO and
 * WHOIS, CHATHISTORY pages). Each kind of answer comes back in the order
 * asked, because the chat answers one session's requests in order.
 */
import { withRef, type ClientMessage, type HistoryEntry, type WhoEntry } from '../../common/messages.js';
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

/**
 * Why the door asked NAMES: the client did, a join shows them, or a WHO on the room needs them. A client's JOIN
 * sends its NAMES along (one trip to the store, not two): `join` says whether that JOIN was answered yet, and
 * how; its NAMES are shown only after a JOINED (the default room's, asked after its JOINED, have no `join`).
 */
export type NamesAsk = { room: string } & (
  | { purpose: 'names' }
  | { purpose: 'join'; join?: 'asked' | 'joined' | 'refused'; ref?: string }
  | { purpose: 'who'; who: WhoRoom }
);
type JoinNames = Extract<NamesAsk, { purpose: 'join' }>;

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
  /** The NAMES sent along with a client's JOIN, by that JOIN's ref, until the chat answers the JOIN. */
  private readonly joinsAsked = new LazyMap<string, JoinNames>();
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
  /** foldCase(me) and the `me` it was made of: every notice about someone else is told from one about this session by it. */
  private meFold = '';
  private meFoldOf = '';

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

  /** foldCase(me), made again only when the nick changed. */
  meFolded(): string {
    if (this.meFoldOf !== this.me) {
      this.meFold = foldCase(this.me);
      this.meFoldOf = this.me;
    }
    return this.meFold;
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

  /** A command's frames with their refs: each JOIN followed by its room's NAMES (irc-inbound.ts) waits for both answers. */
  joinsSent(frames: readonly ClientMessage[]): void {
    frames.forEach((f, i) => {
      const names = frames[i + 1];
      if (f.type !== 'JOIN' || f.ref === undefined || names?.type !== 'NAMES') return;
      const ask: JoinNames = { room: names.room, purpose: 'join', join: 'asked', ...withRef(names.ref) };
      this.namesAsks.push(ask);
      this.joinsAsked.set(f.ref, ask);
    });
  }

  /** The chat answered the JOIN `ref` (JOINED, or refused it): true when its NAMES went with it. */
  joinAnswered(ref: string | undefined, joined: boolean): boolean {
    const ask = ref === undefined ? undefined : this.joinsAsked.get(ref);
    if (!ask) return false;
    this.joinsAsked.delete(ref!);
    ask.join = joined ? 'joined' : 'refused';
    return true;
  }

  /** The NAMES request `ref`, sent along with a JOIN that was not answered with JOINED, taken off the list. */
  takeUnjoinedNames(ref: string | undefined): JoinNames | undefined {
    const i =
      ref === undefined
        ? -1
        : this.namesAsks.findIndex((a) => a.purpose === 'join' && a.ref === ref && a.join !== 'joined');
    return i < 0 ? undefined : (this.namesAsks.splice(i, 1)[0] as JoinNames);
  }

  /** The first NAMES asked for this room, taken off the list. */
  takeNames(room: string): NamesAsk | undefined {
    const key = roomKey(room);
    const i = this.namesAsks.findIndex((a) => roomKey(a.room) === key);
    return i < 0 ? undefined : this.namesAsks.splice(i, 1)[0];
  }
}
