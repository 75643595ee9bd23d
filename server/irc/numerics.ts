/**
 * The numeric replies of registration and of the informational commands,
 * each built in the shape modern.ircdocs.horse gives (RFC 2812 where they
 * agree). `me` is the client's nick, or '*' before it has one. Replies that
 * list many names (353, 319) are cut into as many lines as the 512-byte
 * limit needs. Errors are in numeric-errors.ts.
 */
import type { IrcMessage } from './message.js';
import { splitWords } from './words.js';

export interface ServerInfo {
  /** The server's name: the source of every numeric. */
  name: string;
  network: string;
  version: string;
  /** When this server started, as people read it (003). */
  createdAt: string;
}

export function numeric(server: string, code: string, me: string, ...params: string[]): IrcMessage {
  const last = params.length - 1;
  return { source: server, command: code, params: [asWord(me), ...params.map((p, i) => (i < last ? asWord(p) : p))] };
}

/**
 * What a client named, echoed where a numeric has one word (401 <nick>,
 * 421 <command>): a name sent as a trailing parameter may be empty or hold
 * spaces or a leading ':', which one word cannot carry. Spaces become '_',
 * a leading ':' goes, nothing at all is '*'.
 */
export function asWord(text: string): string {
  return text.replace(/^:+/, '').replaceAll(' ', '_') || '*';
}

/** 001-004 (005 is isupport.ts). */
export function welcomeReplies(s: ServerInfo, me: string, mask: string): IrcMessage[] {
  return [
    numeric(s.name, '001', me, `Welcome to the ${s.network} Network, ${mask}`),
    numeric(s.name, '002', me, `Your host is ${s.name}, running version ${s.version}`),
    numeric(s.name, '003', me, `This server was created ${s.createdAt}`),
    // No user or channel modes to set: the mode lists are empty but present (clients read positions).
    numeric(s.name, '004', me, s.name, s.version, 'i', 'n'),
  ];
}

/** 375, 372 a line, 376; or 422 without a message of the day. */
export function motdReplies(server: string, me: string, motd: readonly string[] | null): IrcMessage[] {
  if (motd === null || motd.length === 0) return [numeric(server, '422', me, 'MOTD File is missing')];
  return [
    numeric(server, '375', me, `- ${server} Message of the day - `),
    ...motd.map((line) => numeric(server, '372', me, `- ${line}`)),
    numeric(server, '376', me, 'End of /MOTD command.'),
  ];
}

/** 353 (as many as fit) then 366. `=` marks a public channel: every room is. */
export function namesReplies(server: string, me: string, room: string, nicks: readonly string[]): IrcMessage[] {
  const base = numeric(server, '353', me, '=', room);
  return [
    ...splitWords(base, nicks).map((line) => numeric(server, '353', me, '=', room, line)),
    numeric(server, '366', me, room, 'End of /NAMES list'),
  ];
}

/** TOPIC's answer: 331 when none, else 332 and 333 (who set it, when in seconds) when known. */
export function topicReplies(
  server: string,
  me: string,
  room: string,
  topic: string,
  setBy?: { nick: string; atMs: number },
): IrcMessage[] {
  if (topic === '') return [numeric(server, '331', me, room, 'No topic is set')];
  const out = [numeric(server, '332', me, room, topic)];
  if (setBy) out.push(numeric(server, '333', me, room, setBy.nick, String(Math.floor(setBy.atMs / 1000))));
  return out;
}

/** Someone as WHO, WHOX and WHOIS show them. */
export interface UserView {
  nick: string;
  user: string;
  host: string;
  realname: string;
  away?: string | undefined;
  account?: string | undefined;
  idleSeconds: number;
  /** When the session began (seconds since the epoch), when known: 317 leaves it out otherwise (RFC 1459's form). */
  signonSeconds?: number | undefined;
  /** The rooms to show in WHOIS (319), each as its name. */
  rooms: readonly string[];
}

/** WHO's flags: H here or G gone (away). Nobody is an operator or has a prefix. */
function whoFlags(u: UserView): string {
  return u.away === undefined ? 'H' : 'G';
}

/** 352 for one user; `channel` is the room asked about, or '*'. Hop count 0: one network, no links. */
export function whoReply(server: string, me: string, channel: string, u: UserView): IrcMessage {
  return numeric(server, '352', me, channel, u.user, u.host, server, u.nick, whoFlags(u), `0 ${u.realname}`);
}

export function endOfWho(server: string, me: string, mask: string): IrcMessage {
  return numeric(server, '315', me, mask, 'End of WHO list');
}

/** WHOX's request: `%fields[,token]` (the fields tcuihsnfdlaor, in any order). */
export interface WhoxRequest {
  fields: Set<string>;
  token: string;
}

const WHOX_ORDER = 'tcuihsnfdlaor';

/** The second parameter of WHO, if it asks for WHOX; null when it is not one. */
export function parseWhox(arg: string | undefined): WhoxRequest | null {
  if (!arg?.startsWith('%')) return null;
  const [fields = '', token = '0'] = arg.slice(1).split(',', 2);
  const set = new Set([...fields].filter((f) => WHOX_ORDER.includes(f)));
  // The token is at most three digits (the WHOX convention); anything else is not echoed.
  return { fields: set, token: /^\d{1,3}$/.test(token) ? token : '0' };
}

/** 354: the asked fields in WHOX's fixed order; the address is never shown (255.255.255.255). */
export function whoxReply(server: string, me: string, channel: string, u: UserView, req: WhoxRequest): IrcMessage {
  const value: Record<string, string> = {
    t: req.token,
    c: channel,
    u: u.user,
    i: '255.255.255.255',
    h: u.host,
    s: server,
    n: u.nick,
    f: whoFlags(u),
    d: '0',
    l: String(u.idleSeconds),
    a: u.account ?? '0',
    o: 'n/a',
    r: u.realname,
  };
  return numeric(server, '354', me, ...[...WHOX_ORDER].filter((f) => req.fields.has(f)).map((f) => value[f]!));
}

/** WHOIS: 311, 319 (when in rooms), 312, 301 (away), 330 (logged in), 317, 318. */
export function whoisReplies(s: ServerInfo, me: string, u: UserView): IrcMessage[] {
  const out = [numeric(s.name, '311', me, u.nick, u.user, u.host, '*', u.realname)];
  if (u.rooms.length > 0)
    out.push(
      ...splitWords(numeric(s.name, '319', me, u.nick), u.rooms).map((line) =>
        numeric(s.name, '319', me, u.nick, line),
      ),
    );
  out.push(numeric(s.name, '312', me, u.nick, s.name, s.network));
  if (u.away !== undefined) out.push(numeric(s.name, '301', me, u.nick, u.away));
  if (u.account !== undefined) out.push(numeric(s.name, '330', me, u.nick, u.account, 'is logged in as'));
  out.push(
    u.signonSeconds === undefined
      ? numeric(s.name, '317', me, u.nick, String(u.idleSeconds), 'seconds idle')
      : numeric(s.name, '317', me, u.nick, String(u.idleSeconds), String(u.signonSeconds), 'seconds idle, signon time'),
  );
  out.push(numeric(s.name, '318', me, u.nick, 'End of /WHOIS list'));
  return out;
}

/** LIST: 321, one 322 a room, 323. */
export function listReplies(
  server: string,
  me: string,
  rooms: ReadonlyArray<{ room: string; members: number; topic: string }>,
): IrcMessage[] {
  return [
    numeric(server, '321', me, 'Channel', 'Users  Name'),
    ...rooms.map((r) => numeric(server, '322', me, r.room, String(r.members), r.topic)),
    numeric(server, '323', me, 'End of /LIST'),
  ];
}

export interface Counts {
  users: number;
  /** Nodes of the cluster (1 for a single server). */
  servers: number;
  rooms: number;
  /** Connections that have not finished registering (HELLO or NICK/USER). */
  unknown: number;
  /** Sessions on this node, and the most there have been. */
  local: number;
  localMax: number;
  globalMax: number;
}

/** LUSERS: 251-255, 265, 266. Nobody is an IRC operator (252 says 0) and nobody is invisible. */
export function lusersReplies(server: string, me: string, c: Counts): IrcMessage[] {
  return [
    numeric(server, '251', me, `There are ${c.users} users and 0 invisible on ${c.servers} servers`),
    numeric(server, '252', me, '0', 'operator(s) online'),
    numeric(server, '253', me, String(c.unknown), 'unknown connection(s)'),
    numeric(server, '254', me, String(c.rooms), 'channels formed'),
    numeric(server, '255', me, `I have ${c.local} clients and ${c.servers - 1} servers`),
    numeric(
      server,
      '265',
      me,
      String(c.local),
      String(c.localMax),
      `Current local users ${c.local}, max ${c.localMax}`,
    ),
    numeric(
      server,
      '266',
      me,
      String(c.users),
      String(c.globalMax),
      `Current global users ${c.users}, max ${c.globalMax}`,
    ),
  ];
}

/** 301 to someone messaging an away user; 305 back; 306 away. */
export function awayReplies(server: string, me: string) {
  return {
    away: (nick: string, message: string) => numeric(server, '301', me, nick, message),
    unaway: () => numeric(server, '305', me, 'You are no longer marked as being away'),
    nowAway: () => numeric(server, '306', me, 'You have been marked as being away'),
  };
}
