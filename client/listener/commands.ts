/**
 * What the main thread asks of the listener (ToListener), done: lines to
 * send (into the current room; kept while reconnecting), room commands,
 * transfers, quitting.
 */
import type { ClientMessage } from '../../common/protocol.js';
import type { ChatTransfers } from '../chat-transfers.js';
import type { ToListener } from '../thread-messages.js';
import type { ListenerOutput, ListenerPort } from './io.js';
import type { RoomState } from '../room-state.js';
import { MAX_HELD } from '../reconnection.js';
import { PLAIN_PASSWORD_REFUSAL } from '../password-prompts.js';
import { neutralizeControls as safe } from '../../common/unicode/text-policy.js';

export interface CommandTarget {
  connected(): boolean;
  /** Passwords may be sent on this connection (TLS, or --allow-plain-passwords). */
  passwordsAllowed(): boolean;
  reconnecting(): boolean;
  readonly rooms: RoomState;
  readonly transfers: ChatTransfers;
  readonly out: ListenerOutput;
  readonly port: ListenerPort;
  /** The nick the session has now (what a pending line shows). */
  nick(): string;
  now(): number;
  send(msg: ClientMessage): void;
  /** Keeps a line for after the reconnection; false when the bound is reached. */
  hold(msg: ClientMessage): boolean;
  quit(reason: string): void;
  /** The current room changed here (a switch): the prompt and the completion follow. */
  roomChanged(): void;
}

export function runCommand(t: CommandTarget, msg: ToListener): void {
  switch (msg.k) {
    case 'send': {
      // A plain line goes to the current room (the one current when it was typed).
      if (msg.msg.type === 'ACCOUNT' && !t.passwordsAllowed()) return t.out.line(PLAIN_PASSWORD_REFUSAL);
      if (msg.msg.type === 'ACCOUNT' && !t.connected())
        return t.out.line('! not connected: account commands are not kept for later');
      const m =
        msg.msg.type === 'CHAT' && msg.msg.room === undefined && t.rooms.current
          ? { ...msg.msg, room: t.rooms.current }
          : msg.msg;
      if (t.connected() || !t.reconnecting()) return t.send(m);
      // Kept, and shown as kept: the line must not vanish from the screen until the server echoes it.
      if (t.hold(m)) t.out.line(pendingLine(m, t));
      else t.out.line(`! not connected: this line was not kept (${MAX_HELD} lines already wait to be sent)`);
      return;
    }
    case 'room': {
      const r = t.rooms.resolve(msg.command, t.now());
      if (!r.ok) return t.out.line(`! ${r.error}`);
      if (r.msg) t.send(r.msg);
      if (r.line) t.out.line(r.line);
      if (msg.command.cmd === 'switch') t.roomChanged();
      return;
    }
    case 'get':
      if (t.connected()) void t.transfers.requestGet(msg.name, msg.dest, msg.fresh);
      return;
    case 'post':
      if (t.connected()) void t.transfers.requestPost(msg.path, msg.name, msg.fresh);
      return;
    case 'transfers':
      for (const line of t.transfers.list(t.out.columns?.() ?? null)) t.out.line(line);
      return;
    case 'quit':
      t.quit(msg.reason);
      return;
  }
}

/** A line typed while reconnecting, as it will read once sent, marked as waiting: "(pending) <alice> hello". */
export function pendingLine(m: ClientMessage, t: Pick<CommandTarget, 'nick' | 'rooms'>): string {
  const mark = '(pending)';
  const me = safe(t.nick());
  switch (m.type) {
    case 'CHAT': {
      const where = m.room !== undefined && !t.rooms.isCurrent(m.room) ? `[${safe(m.room)}] ` : '';
      return `${mark} ${where}${m.action ? `* ${me} ${safe(m.text)}` : `<${me}> ${safe(m.text)}`}`;
    }
    case 'DIRECT':
      return `${mark} -> *${safe(m.to)}* ${m.action === true ? `* ${me} ` : ''}${safe(m.text)}`;
    case 'NICK':
      return `${mark} /nick ${safe(m.nick)}`;
    default:
      return `${mark} /${m.type.toLowerCase()}`;
  }
}
