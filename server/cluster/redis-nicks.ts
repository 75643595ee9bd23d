/**
 * The cluster's NickRegistry (bus/nick-registry.ts): one nick space for every
 * node, kept in Redis (keys.ts) by scripts that check and write in one step
 * (nick-scripts.ts), beside this node's session table, which still holds the
 * node's own sessions' slots, counters and heartbeats.
 *
 * A claim takes a slot here first (cheap to give back), then the nick for the
 * cluster; a nick held anywhere, or one that looks like it, gives the slot
 * back. A resume finds the token's session wherever it is: on this node the
 * table moves it, as alone; on another, this node claims a slot for it and
 * the record moves here in one script, which also checks that the token is
 * still the current one (two nodes resuming with one token: one wins, the
 * other is told USED). A session moved or ended away from another node is
 * told to `displaced`, for that node to let go of it. Releases are not told
 * here: node-presence.ts keeps the node's records in step with its table.
 *
 * Not across nodes: a rename by the nick's owner (asOwner) of a nick held on
 * another node ends that session (REPLACED) as on one node; a take-over moves
 * the record here, and the session's rooms follow only where the store is
 * cluster-wide.
 */
import { ProtocolError } from '../../common/errors.js';
import type { NickHolder, NickRegistry, ResumeTo } from '../bus/nick-registry.js';
import { sessionKey } from '../bus/node-id.js';
import { foldKey, nickKeys } from '../shm/nick-keys.js';
import { NICK_MAX_CHARS } from '../../common/unicode/nick-rule.js';
import type {
  ClaimResult,
  RenameResult,
  ResumeResult,
  SessionInfo,
  SessionTable,
  SlotRef,
} from '../shm/session-table.js';
import type { NewSession } from '../shm/slot-claims.js';
import { sessionScriptKeys, type ClusterKeys } from './keys.js';
import { CLAIM, DROP, FIND_TOKEN, LOOKUP, MOVE, UPDATE } from './nick-scripts.js';
import { COUNT } from './presence-scripts.js';
import type { LuaScript } from './lua.js';
import type { RedisLink } from './redis-link.js';
import { heldOf, holderOf, infoOf, newRecord, parseRecord, type SessionRecord } from './session-records.js';

export interface DisplacedSession {
  /** A session that lived on another node was moved here (a resume, a take-over) or ended (its owner's claim). */
  displaced(from: NickHolder, how: 'moved' | 'ended'): void;
}

type Conflict = Extract<ClaimResult, { reason: 'NICK_TAKEN' }>;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** How long the other nodes' sessions, read once for WHO, are answered from (the local ones are always fresh). */
export const WHO_CACHE_MS = 1000;

export class RedisNickRegistry implements NickRegistry {
  private others: { at: number; read: Promise<SessionInfo[]> } | null = null;
  /** Every node's sessions and the live nodes, as the cluster last counted them (online(), nodes()). */
  private readonly counted = { at: 0, n: 0, nodes: 1 };
  constructor(
    private readonly table: SessionTable,
    private readonly node: string,
    private readonly link: RedisLink,
    private readonly keys: ClusterKeys,
    private readonly events: DisplacedSession,
  ) {
    void this.count();
  }

  async claim(s: NewSession): Promise<ClaimResult> {
    const local = this.table.claim(s);
    if (!local.ok) return local;
    const rec = newRecord(this.node, s, local);
    const r = await this.run(CLAIM, rec.key, JSON.stringify(rec), '', '0').catch((err: unknown) => {
      this.table.release(local);
      throw err;
    });
    if (r[0] === 'taken') {
      this.table.release(local);
      return conflict(r);
    }
    // The count its welcome says: read after the claim, so that it counts this session.
    await this.count();
    return local;
  }

  async claimAsOwner(s: NewSession, how: 'take-over' | 'replace'): Promise<ClaimResult> {
    const found = await this.value(LOOKUP, hex(foldKey(s.nick)));
    const holder = found ? parseRecord(found) : null;
    const remote = holder !== null && holder.node !== this.node;
    const local = remote ? this.table.claim(s) : this.table.claimAsOwner(s, how);
    if (!local.ok) return local;
    const rec = newRecord(this.node, s, local);
    const r = await this.run(CLAIM, rec.key, JSON.stringify(rec), holder?.key ?? '', holder ? '1' : '0');
    if (r[0] !== 'ok') {
      // Another node took the nick, or one like it, between the look and the claim: this claim lost the race.
      this.table.release(local);
      return r[0] === 'taken' ? conflict(r) : { ok: false, reason: 'NICK_TAKEN', holder: s.nick, same: true };
    }
    if (!remote) return local;
    const held = { ...heldOf(holder), node: holder.node };
    this.events.displaced(holderOf(holder), how === 'take-over' ? 'moved' : 'ended');
    return how === 'take-over' ? { ...local, taken: held } : { ...local, replaced: held };
  }

  async resume(token: Uint8Array, next: Uint8Array, to: ResumeTo): Promise<ResumeResult> {
    const found = await this.run(FIND_TOKEN, hex(token));
    if (found[0] !== 'at') return { ok: false, reason: found[0] === 'used' ? 'USED' : 'UNKNOWN' };
    const was = parseRecord(found[1] as string);
    if (was.node === this.node) {
      const r = this.table.resume(token, next, to);
      // Gone from this table meanwhile: another node resumed it with this token (and this node let it go).
      if (!r.ok && r.reason === 'UNKNOWN' && (await this.run(FIND_TOKEN, hex(token)))[0] === 'used')
        return { ok: false, reason: 'USED' };
      if (!r.ok) return r;
      // Another node resumed it with the same token first: that node has it now (and tells this one to let go).
      const moved = await this.moved(was, { ...to, nick: r.nick, token: next }, r, token).catch((err: unknown) => {
        this.table.release(r);
        throw err;
      });
      if (moved === 'ok') return r;
      this.table.release(r);
      return { ok: false, reason: moved };
    }
    const local = this.table.claim({ ...to, nick: was.nick, token: next });
    if (!local.ok) throw new ProtocolError('SERVER_FULL', 'the server is full, try again later');
    const moved = await this.moved(was, { ...to, nick: was.nick, token: next }, local, token).catch((err: unknown) => {
      this.table.release(local);
      throw err;
    });
    if (moved !== 'ok') {
      this.table.release(local);
      return { ok: false, reason: moved };
    }
    this.events.displaced(holderOf(was), 'moved');
    const previous = { slot: was.slot, generation: was.generation, owner: was.owner, node: was.node };
    return {
      ok: true,
      slot: local.slot,
      generation: local.generation,
      sessionId: local.sessionId,
      nick: was.nick,
      previous,
    };
  }

  async rename(ref: SlotRef, nick: string, asOwner = false): Promise<RenameResult> {
    const key = sessionKey({ node: this.node, ...ref });
    const kept = (await this.link.hGet(this.keys.sessions, key).catch(failed)) as string | null;
    if (kept === null) return 'GONE';
    const was = parseRecord(kept);
    const local = this.table.rename(ref, nick, asOwner);
    if (local !== 'ok' && !(typeof local === 'object' && local.reason === 'REPLACED')) return local;
    if (typeof local === 'object') await this.run(DROP, sessionKey({ node: this.node, ...local.replaced }));
    const keys = nickKeys(nick);
    const rec: SessionRecord = { ...was, nick, fold: hex(keys.fold), look: hex(keys.look) };
    // Whatever happens to the cluster's record, the table ends as the record does: the nick is never held by
    // one and not the other (a Redis that fails here gets the old nick back in the table).
    const r = await this.renameRecord(key, rec, asOwner).catch((err: unknown) => {
      this.table.rename(ref, was.nick);
      throw err;
    });
    if (r.ok) return r.replaced ?? local;
    this.table.rename(ref, was.nick);
    return r.conflict ?? 'GONE';
  }

  /** The record under its new nick; asOwner: the holder of that very nick elsewhere is ended (REPLACED). */
  private async renameRecord(
    key: string,
    rec: SessionRecord,
    asOwner: boolean,
  ): Promise<{ ok: true; replaced?: RenameResult } | { ok: false; conflict?: Conflict }> {
    const r = await this.run(UPDATE, key, JSON.stringify(rec));
    if (r[0] === 'ok') return { ok: true };
    if (r[0] !== 'taken') return { ok: false };
    if (!asOwner || r[2] !== '1') return { ok: false, conflict: conflict(r) };
    const holder = parseRecord(r[1] as string);
    const again = await this.run(CLAIM, key, JSON.stringify(rec), holder.key, '1');
    if (again[0] !== 'ok') return { ok: false, ...(again[0] === 'taken' ? { conflict: conflict(again) } : {}) };
    this.events.displaced(holderOf(holder), 'ended');
    return { ok: true, replaced: { reason: 'REPLACED', replaced: { ...heldOf(holder), node: holder.node } } };
  }

  async lookup(nick: string): Promise<NickHolder | null> {
    // Anything no nick could be is nobody, without a round trip.
    if (nick.length === 0 || nick.length > NICK_MAX_CHARS * 2 || /[\s\p{Cc}]/u.test(nick)) return null;
    const found = await this.value(LOOKUP, hex(foldKey(nick)));
    return found ? holderOf(parseRecord(found)) : null;
  }

  /**
   * Every node's sessions: this node's as its table has them (with their counters), the others' from their
   * records, read at most once a WHO_CACHE_MS (every record is one read of the whole hash: many users asking /who at
   * once must not each cost it).
   */
  online(): number {
    // A count a second old is good enough for a welcome line; reading it again (one script) is not waited for.
    if (Date.now() - this.counted.at >= WHO_CACHE_MS) void this.count();
    return Math.max(this.counted.n, this.table.activeCount());
  }

  /** The nodes whose lease lives (this one among them), counted with online()'s sessions. */
  nodes(): number {
    if (Date.now() - this.counted.at >= WHO_CACHE_MS) void this.count();
    return Math.max(1, this.counted.nodes);
  }

  private async count(): Promise<void> {
    this.counted.at = Date.now();
    const r = await COUNT.run(this.link, sessionScriptKeys(this.keys), [this.keys.prefix]).catch(() => null);
    if (!Array.isArray(r)) return;
    this.counted.n = Number(r[0]);
    this.counted.nodes = Number(r[1]);
  }

  async who(): Promise<SessionInfo[]> {
    const now = Date.now();
    if (!this.others || now - this.others.at >= WHO_CACHE_MS) {
      const read = this.link.hVals(this.keys.sessions).then((all) =>
        all
          .map((j) => parseRecord(String(j)))
          .filter((r) => r.node !== this.node)
          .map(infoOf),
      );
      this.others = { at: now, read };
      read.catch(() => (this.others = null));
    }
    return [...this.table.snapshot(), ...(await this.others.read.catch(failed))];
  }

  /** The session `was` is now at `at` on this node, with its next token; its old one spent. */
  private async moved(
    was: SessionRecord,
    s: NewSession,
    at: SlotRef & { sessionId: number },
    token: Uint8Array,
  ): Promise<'ok' | 'USED' | 'UNKNOWN'> {
    const rec = newRecord(this.node, s, at, hex(token));
    const r = await this.run(MOVE, was.key, rec.key, JSON.stringify(rec), hex(token));
    // A nick that is someone else's now cannot be resumed under: as an unknown token, the client logs in again.
    return r[0] === 'ok' ? 'ok' : r[0] === 'used' ? 'USED' : 'UNKNOWN';
  }

  private async value(script: LuaScript, ...args: string[]): Promise<string | null> {
    const r = await script.run(this.link, sessionScriptKeys(this.keys), [this.keys.prefix, ...args]).catch(failed);
    return typeof r === 'string' ? r : null;
  }

  private async run(script: LuaScript, ...args: string[]): Promise<unknown[]> {
    const r = await script.run(this.link, sessionScriptKeys(this.keys), [this.keys.prefix, ...args]).catch(failed);
    return (Array.isArray(r) ? r : [r]) as unknown[];
  }
}

function conflict(r: unknown[]): Conflict {
  const holder = r[1] ? parseRecord(r[1] as string) : null;
  const c: Conflict = { ok: false, reason: 'NICK_TAKEN', holder: holder?.nick ?? '', same: r[2] === '1' };
  if (holder && holder.awaySince > 0) c.awaySince = holder.awaySince;
  return c;
}

function failed(err: unknown): never {
  throw new ProtocolError('STORE_FAILED', `the chat's shared store (Redis) did not answer: ${(err as Error).message}`);
}
