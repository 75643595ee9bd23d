/**
 * The servers the page connects to: its own (the one that served it) and,
 * on a cluster, the other nodes' web sides, which its own lists at
 * /nodes (and allows in the page's connect-src). After a lost
 * connection each try goes to the next, in turn, as the terminal client's
 * repeated --host do (the session resumes on any node of the cluster).
 */
export class ServerList {
  private readonly own = location.origin;
  private others: string[] = [];
  private at = 0;

  /** The WebSocket URL of the server to try now. */
  socketUrl(): string {
    return `${this.current.replace(/^http/, 'ws')}/chat`;
  }

  /** The server tried now, as its origin (http://HOST:PORT). */
  get current(): string {
    return this.at === 0 ? this.own : (this.others[this.at - 1] ?? this.own);
  }

  /** Whether there is another to try. */
  get several(): boolean {
    return this.others.length > 0;
  }

  /** Lost: the next try goes to the next server. */
  next(): void {
    this.at = (this.at + 1) % (this.others.length + 1);
  }

  /**
   * Welcomed on the page's own server: the other nodes as it lists them now (none on one server). Asked of the
   * page's own only (its policy allows that connection); on another node the list stays as it was.
   */
  async learn(): Promise<void> {
    if (this.at !== 0) return;
    try {
      const r = await fetch('/nodes', { cache: 'no-store' });
      const body = (await r.json()) as { nodes?: unknown };
      if (!Array.isArray(body.nodes)) return;
      this.others = body.nodes.filter((n): n is string => typeof n === 'string' && n !== this.own);
    } catch {
      // An older server without the list, or one going down: the list stays as it was.
    }
  }
}
