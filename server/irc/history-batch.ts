/**
 * History as IRC lines: the room's recent messages on join (Ergo's
 * autoreplay, for clients without draft/chathistory: irssi, WeeChat) and
 * the pages of a CHATHISTORY answer. With batch they go inside
 * `BATCH +ref chathistory <target>` ... `BATCH -ref`, each line tagged with
 * the batch; with server-time each carries its time. A client with neither
 * would show old messages as if said now, so their text starts with the
 * time instead ("[2026-12-07 08:00:00 UTC] ").
 */
import type { HistoryEntry } from '../../common/messages.js';
import type { IrcMessage } from './message.js';
import { toIrcNick } from './nick-map.js';
import type { Conversation } from './msgid.js';
import { type OutContext, isMe, messageTags, privmsg } from './to-irc.js';

export function batchStart(ctx: OutContext, ref: string, target: string): IrcMessage | null {
  return ctx.caps.has('batch')
    ? { source: ctx.server, command: 'BATCH', params: [`+${ref}`, 'chathistory', target] }
    : null;
}

export function batchEnd(ctx: OutContext, ref: string): IrcMessage | null {
  return ctx.caps.has('batch') ? { source: ctx.server, command: 'BATCH', params: [`-${ref}`] } : null;
}

function stamped(ts: number): string {
  return `[${new Date(Math.floor(ts)).toISOString().slice(0, 19).replace('T', ' ')} UTC] `;
}

/** The entries of one HISTORY frame; `room` for a room's, else a direct conversation's. */
export function historyLines(
  ctx: OutContext,
  entries: readonly HistoryEntry[],
  room: string | null,
  ref: string,
): IrcMessage[] {
  const out: IrcMessage[] = [];
  for (const e of entries) {
    const conversation: Conversation = room !== null ? { room } : { between: [e.from, e.to ?? ctx.me] };
    const tags: Record<string, string> = { ...messageTags(ctx, { ...e, conversation }) };
    if (ctx.caps.has('batch')) tags.batch = ref;
    const text = tags.time === undefined ? stamped(e.ts) + e.text : e.text;
    const target = room ?? toIrcNick(isMe(ctx, e.from) ? (e.to ?? ctx.me) : ctx.me, ctx.nickMode);
    const hasTags = Object.keys(tags).length > 0;
    out.push(...privmsg(ctx, e.from, target, text, e.action, hasTags ? tags : undefined));
  }
  return out;
}
