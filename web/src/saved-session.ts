/**
 * A session kept across a reload of its tab (docs/PROTOCOL.md, "Resume"):
 * the nick, the resume token and the last ids (common/resume-state.ts), the
 * rooms and the current one, in the tab's sessionStorage: per tab, and gone
 * when the tab closes, so closing the last tab leaves (once the server's
 * resume window ends) while F5 comes back. Never localStorage: that outlives
 * the tab and is shared by every tab of the origin, and the token is a bearer
 * secret. It is written only when the page may be going (hidden, frozen,
 * unloading) and taken out again as soon as it is back or has read it, so
 * an open page keeps the token in memory alone, and a tab duplicated from
 * an open one (which copies sessionStorage) starts a session of its own.
 */
import type { ResumeSnapshot } from '../../common/resume-state.js';

const KEY = 'heartbeat-chat.session';

export interface SavedSession {
  nick: string;
  resume: ResumeSnapshot;
  rooms: string[];
  current: string;
}

function isSaved(v: unknown): v is SavedSession {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Partial<SavedSession>;
  return (
    typeof s.nick === 'string' &&
    typeof s.resume === 'object' &&
    s.resume !== null &&
    Array.isArray(s.rooms) &&
    s.rooms.every((r) => typeof r === 'string') &&
    typeof s.current === 'string'
  );
}

/** The session this tab kept before it was reloaded, taken out of storage (null: none, or not readable). */
export function takeSaved(): SavedSession | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    sessionStorage.removeItem(KEY);
    const saved: unknown = raw === null ? null : JSON.parse(raw);
    return isSaved(saved) ? saved : null;
  } catch {
    return null; // storage off (a privacy setting) or a damaged copy: a new session
  }
}

/** Keeps `current()` (null: nothing to come back to) in the tab's storage while the page may be going away. */
export class SessionKeeper {
  constructor(private readonly current: () => SavedSession | null) {
    // pagehide: a reload or a navigation; hidden: a phone may kill a tab in the background without pagehide;
    // freeze: the browser may discard a frozen tab and load it again later.
    window.addEventListener('pagehide', () => this.save());
    document.addEventListener('freeze', () => this.save());
    document.addEventListener('visibilitychange', () => (document.hidden ? this.save() : this.drop()));
    window.addEventListener('pageshow', () => this.drop());
    document.addEventListener('resume', () => this.drop());
  }

  /** The session changed (a new token): the stored copy follows while the page is hidden. */
  changed(): void {
    if (document.hidden) this.save();
    else this.drop();
  }

  private save(): void {
    const session = this.current();
    try {
      if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
      else sessionStorage.removeItem(KEY);
    } catch {
      // Storage off or full: a reload then starts a new session.
    }
  }

  private drop(): void {
    try {
      sessionStorage.removeItem(KEY);
    } catch {
      // Storage off: nothing was kept.
    }
  }
}
