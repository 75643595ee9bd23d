/**
 * The chat requests the door made for one IRC session, by the ref each
 * carries (PROTOCOL.md, "Request references"): which IRC command a chat
 * answer is for, so that a refusal names the refused command's target and
 * not the last one sent, and (labeled-response) the lines answering a
 * labeled command gathered until its last chat request is answered, then
 * written labeled at once (docs/IRC.md, "labeled-response").
 *
 * The chat answers every request that carries a ref with at least one frame
 * carrying it; which frame is the last depends on the request: a join's
 * NOTICE is followed by its JOINED (the NAMES the door sends along with a
 * client's JOIN is a request of the same command), a HISTORY_REQUEST ends
 * with its HISTORY frame marked done, anything else (its echo, its reply,
 * its refusal) ends it.
 */
import type { ClientMessage, ServerMessage } from '../../common/messages.js';
import type { IrcMessage } from '../irc/message.js';
import type { Refused } from '../irc/numeric-errors.js';
import { LazyMap } from './lazy-map.js';

/** A labeled command's answer: its lines so far, and how many of its requests the chat has still to answer. */
interface LabelGroup {
  label: string;
  lines: IrcMessage[];
  open: number;
  /** One of its requests was given up (MAX_OPEN_REQUESTS): what else answers it goes out unlabeled. */
  abandoned?: true;
}

interface DoorRequest {
  refused: Refused;
  group: LabelGroup | null;
}

/** A labeled command answered in full: its lines, to be written labeled (labels.ts). */
export interface Finished {
  label: string;
  lines: IrcMessage[];
}

/** Requests waiting for their answer, at most this many: past it, the oldest is given up (its lines go unlabeled). */
export const MAX_OPEN_REQUESTS = 128;

/** Frames that are not requests the chat answers: a heartbeat's answer, the end. */
const UNANSWERED: ReadonlySet<ClientMessage['type']> = new Set(['HEARTBEAT_ACK', 'BYE', 'HELLO']);

export class IrcRequests {
  private seq = 0;
  private readonly open = new Map<string, DoorRequest>();
  /** HISTORY frames name their request by its id, not by ref. */
  private readonly byHistoryId = new LazyMap<number, string>();

  /**
   * A client's command, as the frames it became: each given a ref. With a label, the door's own replies open its
   * group; `finished` is set when nothing was asked of the chat (the answer is complete now). Without one, the
   * replies are to be written now.
   */
  command(
    msg: IrcMessage,
    frames: readonly ClientMessage[],
    replies: readonly IrcMessage[],
    label: string | undefined,
  ): { frames: ClientMessage[]; now: IrcMessage[]; finished: Finished | null; given: IrcMessage[] } {
    const group = label === undefined ? null : { label, lines: [...replies], open: 0 };
    const out = frames.map((f) => this.track(f, refusedOf(msg, f), group));
    const given: IrcMessage[] = [];
    const finished = group && group.open === 0 ? { label: group.label, lines: group.lines } : null;
    if (this.open.size > MAX_OPEN_REQUESTS) given.push(...this.giveUpOldest());
    return { frames: out, now: group ? [] : [...replies], finished, given };
  }

  /** Requests the door asks while answering the request `ref` (NAMES after a JOINED it sent none with): part of the same command. */
  follow(ref: string | undefined, frames: readonly ClientMessage[]): ClientMessage[] {
    const parent = ref === undefined ? undefined : this.open.get(ref);
    return frames.map((f) => this.track(f, parent?.refused ?? { command: '*', ...targetOf(f) }, parent?.group ?? null));
  }

  /** What a refusal answering `ref` names: the command refused and its target. */
  refusedOf(ref: string | undefined): Refused {
    return (ref === undefined ? undefined : this.open.get(ref)?.refused) ?? { command: '*' };
  }

  /** The IRC command a frame answers, if it answers one of the door's requests. */
  commandOf(msg: ServerMessage): string | undefined {
    const ref = this.refOf(msg);
    return ref === undefined ? undefined : this.open.get(ref)?.refused.command;
  }

  /**
   * A frame from the chat and the lines it became: the lines to write now (a labeled command's are kept until
   * its answer is complete), and that command's whole answer once it is.
   */
  answered(msg: ServerMessage, lines: IrcMessage[]): { now: IrcMessage[]; finished: Finished | null } {
    const ref = this.refOf(msg);
    const req = ref === undefined ? undefined : this.open.get(ref);
    if (!req) return { now: lines, finished: null };
    const last = isLast(msg);
    if (last) {
      this.open.delete(ref!);
      if (msg.type === 'HISTORY') this.byHistoryId.delete(msg.id!);
    }
    const group = req.group;
    if (!group || group.abandoned) return { now: lines, finished: null };
    group.lines.push(...lines);
    if (last) group.open--;
    return { now: [], finished: group.open === 0 ? { label: group.label, lines: group.lines } : null };
  }

  private refOf(msg: ServerMessage): string | undefined {
    if (msg.type === 'HISTORY') return msg.id === undefined ? undefined : this.byHistoryId.get(msg.id);
    return 'ref' in msg ? msg.ref : undefined;
  }

  private track(f: ClientMessage, refused: Refused, group: LabelGroup | null): ClientMessage {
    if (UNANSWERED.has(f.type)) return f;
    const ref = `r${++this.seq}`;
    this.open.set(ref, { refused, group });
    if (group) group.open++;
    if (f.type === 'HISTORY_REQUEST') this.byHistoryId.set(f.id, ref);
    return { ...f, ref } as ClientMessage;
  }

  /** The oldest request, given up: its command's lines so far go out unlabeled (a bound, never reached by a chat that answers). */
  private giveUpOldest(): IrcMessage[] {
    const [ref, req] = this.open.entries().next().value!;
    this.open.delete(ref);
    for (const [id, r] of this.byHistoryId.entries()) if (r === ref) this.byHistoryId.delete(id);
    if (!req.group) return [];
    const lines = req.group.lines;
    req.group.lines = [];
    req.group.abandoned = true;
    return lines;
  }
}

/** Whether this frame is the last its request gets (JOINED is: the NAMES the door asks after it has a ref of its own). */
function isLast(msg: ServerMessage): boolean {
  if (msg.type === 'HISTORY') return msg.done;
  return msg.type !== 'NOTICE' || msg.event !== 'joined';
}

function targetOf(f: ClientMessage): { target?: string } {
  return 'room' in f && f.room !== undefined ? { target: f.room } : {};
}

/** What a refusal of this frame names: the command, and the room the frame is about or the command's target. */
function refusedOf(msg: IrcMessage, f: ClientMessage): Refused {
  const target = targetOf(f).target ?? (msg.command === 'CHATHISTORY' ? msg.params[1] : msg.params[0]);
  return target === undefined ? { command: msg.command } : { command: msg.command, target };
}
