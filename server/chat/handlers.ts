/**
 * What each client message does in an active session: one handler per type,
 * each given the session it arrived on. The session's lifecycle (framing,
 * HELLO, heartbeats, the end) is connection.ts's; these are the commands.
 */
import { ProtocolError } from '../../common/errors.js';
import { encodeMessage, type ClientMessage, type ServerMessage } from '../../common/protocol.js';
import { withRef } from '../../common/messages.js';
import { validateNick } from '../../common/text.js';
import { checkRoomName } from '../../common/unicode/room-rule.js';
import { clipChars, isBlank, neutralizeControls } from '../../common/unicode/text-policy.js';
import { nickTakenText } from '../shm/nick-keys.js';
import type { RenameResult } from '../shm/session-table.js';
import type { SessionAddress } from '../bus/room-bus.js';
import type { NickHolder } from '../bus/nick-registry.js';
import { whoReply } from './who-reply.js';
import { checkNick } from '../../common/unicode/nick-rule.js';
import { accountCommand } from './account-commands.js';

export type { ActiveSession } from './active-session.js';
import type { ActiveSession } from './active-session.js';

type Handlers = { [T in ClientMessage['type']]: (s: ActiveSession, msg: Extract<ClientMessage, { type: T }>) => void };

/** Neutralised text, or null after telling the client why it was refused. */
function checkText(s: ActiveSession, raw: string, ref: string | undefined): string | null {
  const text = neutralizeControls(raw);
  const max = s.host.limits.maxText;
  if (isBlank(text))
    s.reject('TEXT_INVALID', 'empty message (nothing in it shows: only spaces or invisible characters)', ref);
  else if (Buffer.byteLength(text) > max) s.reject('TEXT_INVALID', `message longer than ${max} bytes`, ref);
  else return text;
  return null;
}

/** A topic is one line of this many characters at most. */
export const TOPIC_MAX_CHARS = 300;

/** Rooms are version 2: a version-1 client cannot have sent this (its own protocol has no such frame). */
function v2(s: ActiveSession, type: string): boolean {
  if (s.version >= 2) return true;
  throw new ProtocolError(
    'UNKNOWN_TYPE',
    `${type} needs protocol version 2 (this session said HELLO with version ${s.version})`,
  );
}

/** The room's name as the rule takes it, or null after telling the client why not. */
function roomName(s: ActiveSession, raw: string, ref: string | undefined): string | null {
  const check = checkRoomName(raw);
  if (check.ok) return check.room;
  s.reject(
    'ROOM_INVALID',
    `invalid room name ${JSON.stringify(clipChars(neutralizeControls(raw), 40))}: ${check.reason}`,
    ref,
  );
  return null;
}

/** A new nick for the session, if nobody has it; a registered nick left behind is no longer this session's. */
function rename(s: ActiveSession, nick: string, ref: string | undefined): void {
  // Asked of the registry (cluster-wide when there are nodes); what the session sends next waits for the answer.
  s.inOrder(s.host.nicks.rename(s.ref, nick), (result) => renamed(s, nick, result, ref));
}

function renamed(s: ActiveSession, nick: string, result: RenameResult, ref: string | undefined): void {
  if (result === 'GONE') return;
  if (result !== 'ok' && result.reason === 'NICK_TAKEN')
    return s.reject(
      'NICK_TAKEN',
      nickTakenText(nick, result, { windowMs: s.host.resumeWindowMs, now: s.host.clock.wallNow() }),
      ref,
    );
  const old = s.nick;
  s.renamed(nick);
  s.host.event(`* ${old} is now ${nick}`);
  s.host.sequencer.send({
    k: 'rename',
    session: address(s),
    nick,
    notice: encodeMessage(nickNotice(old, nick)),
    account: false,
    ...ownCopy(ref, nickNotice(old, nick)),
  });
}

/** DIRECT, once the registry has said where the nick's session is (null: nowhere). */
function direct(s: ActiveSession, msg: Extract<ClientMessage, { type: 'DIRECT' }>, target: NickHolder | null): void {
  // No session: a registered nick keeps it for its next login (the store knows the accounts); a nick no rule allows is no one.
  const offline = !target && s.host.accounts !== null && checkNick(msg.to).ok;
  if (!target && !offline) {
    s.reject('NO_SUCH_NICK', `no user named ${clipChars(neutralizeControls(msg.to), 40)}`, msg.ref);
    return;
  }
  const text = checkText(s, msg.text, msg.ref);
  if (text === null) return;
  s.counted();
  // Both copies come from the store once it has the message: the sender's confirms it, and shows the exact recipient.
  if (target)
    s.host.sequencer.send({
      k: 'direct',
      from: s.nick,
      to: target.nick,
      text,
      action: msg.action === true,
      sender: address(s),
      target,
      ...withRef(msg.ref),
    });
  else
    s.host.sequencer.send({
      k: 'direct-offline',
      from: s.nick,
      to: msg.to,
      text,
      action: msg.action === true,
      sender: address(s),
      ...withRef(msg.ref),
    });
}

/** A nick change as the chat tells it. */
function nickNotice(old: string, nick: string, ref?: string): ServerMessage {
  return { type: 'NOTICE', event: 'nick', nick: old, newNick: nick, ...withRef(ref) };
}

/** The sender's own copy of what goes to its rooms, with its request's ref (the others' copy has none). */
function ownCopy(ref: string | undefined, msg: ServerMessage): { own?: Uint8Array } {
  return ref === undefined ? {} : { own: encodeMessage({ ...msg, ref } as ServerMessage) };
}

/** The session as the room bus addresses it. */
function address(s: ActiveSession): SessionAddress {
  return { node: s.host.node, slot: s.ref.slot, generation: s.ref.generation, owner: s.host.workerIndex };
}

const handlers: Handlers = {
  HELLO() {
    throw new ProtocolError('ALREADY_HELLO', 'HELLO sent twice');
  },

  CHAT(s, msg) {
    const text = checkText(s, msg.text, msg.ref);
    if (text === null) return;
    const room = msg.room === undefined || s.version < 2 ? s.host.defaultRoom : roomName(s, msg.room, msg.ref);
    if (room === null) return;
    s.counted();
    // Stored, numbered and posted to the room by the sequencer, which also checks that the sender is in it.
    s.host.sequencer.send({
      ...{ k: 'say', room, from: s.nick, text, action: msg.action, sender: address(s) },
      ...withRef(msg.ref),
    });
  },

  DIRECT(s, msg) {
    // Where the nick's session is, asked of the registry (cluster-wide when there are nodes); what follows waits.
    s.inOrder(s.host.nicks.lookup(msg.to), (target) => direct(s, msg, target));
  },

  WHO(s, msg) {
    // Asked of the registry (cluster-wide when there are nodes), answered in turn with the session's other requests.
    s.inTurn(async () => ({
      ...whoReply(await s.host.nicks.who(), s.host.limits.maxFrame, Date.now()),
      ...withRef(msg.ref),
    }));
  },

  NICK(s, msg) {
    let nick: string;
    try {
      nick = validateNick(msg.nick);
    } catch (err) {
      s.reject('NICK_INVALID', (err as Error).message, msg.ref);
      return;
    }
    // The same nick: nothing changes, so nothing answers a request without a ref; one with a ref gets its NOTICE.
    if (nick === s.nick) return msg.ref === undefined ? undefined : s.reply(nickNotice(nick, nick, msg.ref));
    const gate = s.host.accounts;
    if (!gate) return rename(s, nick, msg.ref);
    // A registered nick (or one that looks like it) is taken with /identify, never by a rename.
    gate.checkUnregistered(nick).then(
      () => rename(s, nick, msg.ref),
      (err: ProtocolError) => s.reject(err.code, err.message, msg.ref),
    );
  },

  ACCOUNT(s, msg) {
    if (v2(s, 'ACCOUNT')) accountCommand(s, msg);
  },

  HEARTBEAT_ACK(s, msg) {
    s.heartbeatAnswered(msg.seq, msg.ts);
  },

  FILES(s) {
    s.inTurn(() => s.host.files.list());
  },

  TICKET_REQUEST(s, msg) {
    s.inTurn(() =>
      s.host.files.ticket(msg.id, msg.op, msg.name, msg.size, {
        nick: s.nick,
        session: s.sessionId,
        address: s.caller.address,
      }),
    );
  },

  JOIN(s, msg) {
    const room = v2(s, 'JOIN') && roomName(s, msg.room, msg.ref);
    if (room) s.host.sequencer.send({ k: 'join', session: address(s), room, ...withRef(msg.ref) });
  },

  PART(s, msg) {
    const room = v2(s, 'PART') && roomName(s, msg.room, msg.ref);
    const reason = clipChars(neutralizeControls(msg.reason ?? '').trim(), 200);
    if (room)
      s.host.sequencer.send({
        ...{ k: 'part', session: address(s), room, ...(isBlank(reason) ? {} : { reason }) },
        ...withRef(msg.ref),
      });
  },

  TOPIC(s, msg) {
    const room = v2(s, 'TOPIC') && roomName(s, msg.room, msg.ref);
    if (!room) return;
    if (msg.text === undefined)
      return s.host.sequencer.send({ k: 'topic', session: address(s), room, ...withRef(msg.ref) });
    const text = neutralizeControls(msg.text).trim();
    if ([...text].length > TOPIC_MAX_CHARS)
      return s.reject('TEXT_INVALID', `a topic is at most ${TOPIC_MAX_CHARS} characters`, msg.ref);
    s.host.sequencer.send({
      ...{ k: 'topic', session: address(s), room, text: isBlank(text) ? '' : text },
      ...withRef(msg.ref),
    });
  },

  ROOMS(s, msg) {
    if (v2(s, 'ROOMS')) s.host.sequencer.send({ k: 'rooms', session: address(s), ...withRef(msg.ref) });
  },

  NAMES(s, msg) {
    const room = v2(s, 'NAMES') && roomName(s, msg.room, msg.ref);
    if (room) s.host.sequencer.send({ k: 'names', session: address(s), room, ...withRef(msg.ref) });
  },

  HISTORY_REQUEST(s, msg) {
    if (!v2(s, 'HISTORY_REQUEST')) return;
    const { id, before, since, limit } = msg;
    const paging = {
      ...(before !== undefined ? { before } : {}),
      ...(since !== undefined ? { since } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...withRef(msg.ref),
    };
    if (msg.room !== undefined) {
      const room = roomName(s, msg.room, msg.ref);
      if (room) s.host.sequencer.send({ k: 'history', session: address(s), id, room, ...paging });
    } else if (msg.with !== undefined) {
      s.host.sequencer.send({ k: 'history', session: address(s), id, with: msg.with, ...paging });
    } else s.reject('BAD_FRAME', 'HISTORY_REQUEST names a room or, with "with", a user', msg.ref);
  },

  BYE(s, msg) {
    const trimmed = clipChars(neutralizeControls(msg.reason).trim(), 200);
    const said = isBlank(trimmed) ? '' : trimmed;
    s.end({ kind: 'left', detail: said ? `quit: ${said}` : 'quit', ...(said ? { said } : {}) }, 'graceful', {
      type: 'BYE',
      reason: 'goodbye',
    });
  },
};

/** Runs the handler for msg; a ProtocolError it throws is fatal for the connection. */
export function handleActive(s: ActiveSession, msg: ClientMessage): void {
  (handlers[msg.type] as (s: ActiveSession, msg: ClientMessage) => void)(s, msg);
}
