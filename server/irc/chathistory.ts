/**
 * CHATHISTORY (IRCv3 draft/chathistory) as the chat's HISTORY_REQUEST. The
 * chat pages a conversation backwards from an id (`before`), or forwards
 * from a time (`since`), the newest first when neither (docs/PROTOCOL.md).
 *   LATEST <target> * <n>              the newest n
 *   LATEST <target> <ref> <n>          the newest n, those after ref kept
 *   BEFORE <target> msgid=<m> <n>      before: m's id
 *   AFTER  <target> <ref> <n>          since: ref's time, those after ref kept
 * A reference is msgid= (one of ours: its id and time, msgid.ts) or
 * timestamp= (ISO 8601). BEFORE a timestamp has no id to page from, and
 * AROUND, BETWEEN and TARGETS have no chat request: those are refused
 * (FAIL CHATHISTORY INVALID_MSGREFTYPE or INVALID_PARAMS). The worker sends
 * the request, drops the entries `keep` refuses, and answers in a
 * chathistory batch (history-batch.ts).
 */
import type { HistoryEntry } from '../../common/messages.js';
import { fail } from './numeric-errors.js';
import type { IrcMessage } from './message.js';
import { type Conversation, conversationTag, parseMsgid } from './msgid.js';
import { fromIrcChannel, fromIrcNick } from './nick-map.js';

export interface HistoryAsk {
  /** HISTORY_REQUEST without its id (the worker numbers its requests). */
  request: { room?: string; with?: string; before?: number; since?: number; limit: number };
  /** The target as the client wrote it (the batch names it). */
  target: string;
  /** Entries at or before this place are not part of the answer. */
  after?: { id?: number; ts: number };
  /** The most entries the answer may still hold: AFTER asks the chat for more than the client's limit. */
  left?: number;
}

/**
 * What an AFTER asks for beyond the client's limit. The chat pages forward from a time, so its answer starts with
 * the entries of the reference's own millisecond (the referenced message itself), which keep() drops: asked for
 * exactly the limit, the page came back short (AFTER msgid=m2 2 gave m3 alone), and a client may read a short
 * page as the end of the history.
 */
const AFTER_SLACK = 4;

type Ref = { kind: 'msgid'; id: number; ts: number } | { kind: 'timestamp'; ts: number } | { kind: 'none' };

export function parseChathistory(
  server: string,
  me: string,
  params: readonly string[],
  maxLimit: number,
): { ok: true; ask: HistoryAsk } | { ok: false; reply: IrcMessage } {
  const sub = (params[0] ?? '').toUpperCase();
  const refuse = (code: string, text: string, ...context: string[]) => ({
    ok: false as const,
    reply: fail(server, 'CHATHISTORY', code, text, ...context),
  });
  if (sub === '') return refuse('NEED_MORE_PARAMS', 'Missing parameters', '*');
  if (!['LATEST', 'BEFORE', 'AFTER'].includes(sub))
    return refuse('INVALID_PARAMS', `${sub} is not supported here: LATEST, BEFORE and AFTER are`, sub);
  const [, target, refText, limitText] = params;
  if (target === undefined || refText === undefined || limitText === undefined)
    return refuse('NEED_MORE_PARAMS', 'Missing parameters', sub);
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit)
    return refuse('INVALID_PARAMS', `the limit is 1 to ${maxLimit}`, sub);
  const conv = conversation(target, me);
  if (conv === null) return refuse('INVALID_TARGET', 'Messages could not be retrieved', sub, target);
  const ref = reference(refText, sub === 'LATEST');
  if (ref === null) return refuse('INVALID_PARAMS', `not a reference: ${refText}`, sub);
  if (ref.kind === 'msgid' && ref.tag !== conversationTag(conv.of))
    return refuse('INVALID_PARAMS', 'that msgid is of another conversation', sub);
  const request = { ...conv.request, limit };
  if (sub === 'LATEST') return { ok: true, ask: { request, target, ...afterRef(ref) } };
  if (sub === 'BEFORE') {
    if (ref.kind !== 'msgid') return refuse('INVALID_MSGREFTYPE', 'BEFORE needs a msgid= here', sub);
    return { ok: true, ask: { request: { ...request, before: ref.id }, target } };
  }
  if (ref.kind === 'none') return refuse('INVALID_PARAMS', 'AFTER needs a reference', sub);
  const since = { ...request, since: Math.floor(ref.ts), limit: Math.min(maxLimit, limit + AFTER_SLACK) };
  return { ok: true, ask: { request: since, target, left: limit, ...afterRef(ref) } };
}

function afterRef(ref: Ref & { tag?: string }): { after?: HistoryAsk['after'] } {
  if (ref.kind === 'msgid') return { after: { id: ref.id, ts: ref.ts } };
  if (ref.kind === 'timestamp') return { after: { ts: ref.ts } };
  return {};
}

function conversation(
  target: string,
  me: string,
): { request: { room: string } | { with: string }; of: Conversation } | null {
  if (target.startsWith('#')) {
    const room = fromIrcChannel(target);
    return room.ok ? { request: { room: room.name }, of: { room: room.name } } : null;
  }
  const nick = fromIrcNick(target);
  return nick.ok ? { request: { with: nick.name }, of: { between: [me, nick.name] } } : null;
}

function reference(text: string, starAllowed: boolean): (Ref & { tag?: string }) | null {
  if (text === '*') return starAllowed ? { kind: 'none' } : null;
  if (text.startsWith('msgid=')) {
    const ref = parseMsgid(text.slice(6));
    return ref ? { kind: 'msgid', id: ref.id, ts: ref.ts, tag: ref.tag } : null;
  }
  if (text.startsWith('timestamp=')) {
    const iso = text.slice(10);
    const ts = Date.parse(iso);
    return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(iso) && Number.isFinite(ts)
      ? { kind: 'timestamp', ts }
      : null;
  }
  return null;
}

/** The entries of one frame of the chat's answer that belong in the CHATHISTORY answer, the oldest first. */
export function keptEntries(ask: HistoryAsk, entries: readonly HistoryEntry[]): HistoryEntry[] {
  const kept = entries.filter((e) => keep(ask, e));
  if (ask.left === undefined) return kept;
  const out = kept.slice(0, ask.left);
  ask.left -= out.length;
  return out;
}

/** Whether an entry of the chat's answer belongs in the CHATHISTORY answer. */
export function keep(ask: HistoryAsk, e: HistoryEntry): boolean {
  if (ask.after === undefined) return true;
  return ask.after.id !== undefined ? e.id > ask.after.id : e.ts > ask.after.ts;
}
