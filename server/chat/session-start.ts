/**
 * What HELLO does to the session table: a new session claims a slot for its
 * nick (with a resume token, when it can be resumed), or a resuming one takes
 * over its session's slot with its token (docs/PROTOCOL.md, "Resume").
 * Fatal refusals throw ProtocolError; a resume that cannot be done is not
 * fatal, the client may say HELLO again without a token.
 */
import { ProtocolError } from '../../common/errors.js';
import { SERVER_PROTOCOL_VERSIONS, type ClientMessage } from '../../common/protocol.js';
import { validateNick } from '../../common/text.js';
import { formatDuration } from '../../common/units.js';
import { nickTakenText } from '../shm/nick-keys.js';
import { TOKEN_PATTERN, hashHex, newToken, tokenHash } from '../shm/resume-token.js';
import { endReplaced } from './session-end.js';
import type { SessionAddress } from '../bus/room-bus.js';
import type { HeldSession, SlotRef } from '../shm/session-table.js';
import type { TransportKind } from './transport.js';
import type { ConnectionHost } from './session-host.js';

export type Hello = Extract<ClientMessage, { type: 'HELLO' }>;

export interface StartedSession {
  ref: SlotRef;
  sessionId: number;
  nick: string;
  /** The token to give the client (WELCOME resume) and its hash; null when the session cannot be resumed. */
  token: { token: string; hash: Uint8Array } | null;
  /** Set when the session resumed: where it was. */
  previous: SessionAddress | null;
  /** The nick is registered and its password was given. */
  account: boolean;
  /**
   * With the password: the session that held the nick, taken over (version 2: this is that session now, in its
   * rooms) or replaced (version 1: it ended, this one is new); null when the nick was free.
   */
  held: { session: HeldSession; how: 'taken' | 'replaced' } | null;
}

export interface Peer {
  transport: TransportKind;
  address: string;
  port: number;
  /** TLS (or the page over https): passwords may come over it. */
  secure: boolean;
}

function checkVersion(msg: Hello): void {
  if (!(SERVER_PROTOCOL_VERSIONS as readonly number[]).includes(msg.version)) {
    throw new ProtocolError(
      'VERSION_UNSUPPORTED',
      `protocol version ${msg.version} is not supported (this server speaks ${SERVER_PROTOCOL_VERSIONS.join(' and ')})`,
    );
  }
}

/** Version 2 on a server that keeps history: the session gets a token, unless its client cannot resume. */
function resumable(host: ConnectionHost, msg: Pick<Hello, 'version' | 'resumable'>): boolean {
  return msg.version >= 2 && host.resumeWindowMs > 0 && msg.resumable !== false;
}

/**
 * What HELLO must pass before anything else: the version, and a private
 * server's password (before the nick's, so that outsiders cannot probe which
 * nicks are registered). A resume token proves the session passed it already.
 */
export function checkHello(host: ConnectionHost, peer: Peer, msg: Hello): void {
  checkVersion(msg);
  if (host.serverPassword && msg.resume === undefined)
    host.serverPassword.check(peer.address, msg.password, host.clock.wallNow());
}

/** Whether HELLO must wait for the store (is the nick registered, is its password right) before its session can start. */
export function needsLogin(host: ConnectionHost, msg: Hello): boolean {
  return host.accounts !== null && msg.resume === undefined;
}

/**
 * HELLO's session, once checkHello and (needsLogin) the nick's password have
 * passed: claimed, or resumed (then a string says why it could not be), through
 * the nick registry, whose answers may take a round trip (a cluster's do).
 * The connection's per-address place goes from 'pending' to 'session' when it
 * has one, and stays 'pending' when not. A connection that ended meanwhile
 * (`alive` false) gets null: what was claimed for it is given back.
 */
export async function startSession(
  host: ConnectionHost,
  peer: Peer,
  msg: Hello,
  account: boolean,
  alive: () => boolean,
): Promise<StartedSession | string | null> {
  const { admission } = host;
  if (!admission.enter(peer.address, 'session')) {
    throw new ProtocolError(
      'ADDRESS_LIMIT',
      `${peer.address} already has ${admission.limit('session')} sessions on this server, the most one address may have`,
    );
  }
  let started: StartedSession | string;
  try {
    await withinCluster(admission, peer.address);
    started =
      msg.resume !== undefined
        ? await resumeSession(host, peer, { ...msg, resume: msg.resume })
        : await claimSession(host, peer, msg, account);
  } catch (err) {
    admission.leave(peer.address, 'session');
    throw err;
  }
  // The connection, gone, left its 'pending' place when it ended.
  if (!alive()) {
    admission.leave(peer.address, 'session');
    if (typeof started !== 'string') giveBack(host, started, msg.version);
    return null;
  }
  admission.leave(peer.address, typeof started === 'string' ? 'session' : 'pending');
  return started;
}

/** A cluster's node: this login's place counted with the address's sessions on the other nodes (its own taken). */
async function withinCluster(admission: ConnectionHost['admission'], address: string): Promise<void> {
  if (!admission.elsewhere || admission.isTrusted(address)) return;
  // Redis unreachable: the login fails at its claim anyway, with the reason; this check does not add another.
  const others = await admission.elsewhere(address).catch(() => 0);
  const limit = admission.limit('session');
  if (admission.count(address, 'session') + others > limit)
    throw new ProtocolError(
      'ADDRESS_LIMIT',
      `${address} already has ${limit} sessions on this cluster's nodes, the most one address may have`,
    );
}

/**
 * A session claimed for a connection that ended before the claim came back: a new one is freed (no one was told of
 * it). One resumed or taken over is away again, as if its connection had been lost right after: the store thread
 * moves its member to the new place first (as the connection's start would have: else the member stays at the old
 * one, which the window's end could never free), then hears it is away. Its token went with the connection, so it
 * ends when its window does.
 */
function giveBack(host: ConnectionHost, s: StartedSession, version: number): void {
  const taken = s.held?.how === 'taken' ? s.held.session : null;
  if ((!s.previous && !taken) || !s.token) {
    host.table.release(s.ref);
    // Replaced by its owner's claim (version 1): the old session ended, and its rooms hear it.
    if (s.held) endReplaced(host, s.held.session, `${s.nick} logged in again on another connection`);
    return;
  }
  if (!host.table.away(s.ref, Infinity, host.clock.wallNow())) return;
  const at = { node: host.node, ...s.ref, owner: host.workerIndex };
  const was = s.previous ?? { ...taken!, node: taken!.node ?? host.node };
  host.sequencer.send({
    ...{ k: 'resume', previous: was, session: at, nick: s.nick, version, token: hashHex(s.token.hash), last: [] },
    partBytes: Math.floor(host.limits.maxSendQueue / 4),
    ...(s.previous ? {} : { takeOver: true as const }),
  });
  host.sequencer.send({ k: 'away', session: at });
}

/**
 * A new session for HELLO's nick. With the nick's password (account), whoever holds this very nick is its
 * owner's session: taken over when it can be resumed (version 2), else ended and replaced (docs/PROTOCOL.md,
 * "Registered nicks"). Anyone else meets NICK_TAKEN, told how long an away holder keeps the nick.
 */
async function claimSession(host: ConnectionHost, peer: Peer, msg: Hello, account: boolean): Promise<StartedSession> {
  const nick = validateNick(msg.nick);
  const token = resumable(host, msg) ? newToken() : null;
  const now = host.clock.wallNow();
  const session = {
    nick,
    owner: host.workerIndex,
    transport: peer.transport,
    address: peer.address,
    port: peer.port,
    now,
    token: token?.hash ?? null,
  };
  const claim = account
    ? await host.nicks.claimAsOwner(session, token ? 'take-over' : 'replace')
    : await host.nicks.claim(session);
  if (!claim.ok) {
    if (claim.reason === 'NICK_TAKEN')
      throw new ProtocolError('NICK_TAKEN', nickTakenText(nick, claim, { windowMs: host.resumeWindowMs, now }));
    throw new ProtocolError('SERVER_FULL', 'the server is full, try again later');
  }
  const held = claim.taken ?? claim.replaced ?? null;
  return {
    ref: { slot: claim.slot, generation: claim.generation },
    sessionId: claim.sessionId,
    // Taken over, it is that session: its nick as it was (the same nick, maybe in another case).
    nick: claim.taken?.nick ?? nick,
    token,
    previous: null,
    account,
    held: held && { session: held, how: claim.taken ? 'taken' : 'replaced' },
  };
}

/** The session whose token this is, moved to this connection; or why not (a string: RESUME_FAILED, not fatal). */
async function resumeSession(
  host: ConnectionHost,
  peer: Peer,
  msg: Hello & { resume: string },
): Promise<StartedSession | string> {
  if (!resumable(host, { version: msg.version })) {
    return host.resumeWindowMs > 0
      ? 'resuming needs protocol version 2'
      : 'this server keeps no sessions to resume (it runs with --no-history)';
  }
  if (!TOKEN_PATTERN.test(msg.resume)) return 'that is not a resume token (24 characters of base64url)';
  const next = newToken();
  const r = await host.nicks.resume(tokenHash(msg.resume), next.hash, {
    owner: host.workerIndex,
    transport: peer.transport,
    address: peer.address,
    port: peer.port,
    now: host.clock.wallNow(),
  });
  if (!r.ok) {
    return r.reason === 'USED'
      ? 'this token was used already: the session was resumed with it, and that connection has the new one'
      : `no session has this token: it ended more than ${formatDuration(host.resumeWindowMs)} after its connection was lost, with /quit, or by a kick, or the token is wrong`;
  }
  return {
    ref: { slot: r.slot, generation: r.generation },
    sessionId: r.sessionId,
    nick: r.nick,
    token: next,
    previous: { node: host.node, ...r.previous },
    account: false,
    held: null,
  };
}

export { announceStart } from './session-announce.js';
