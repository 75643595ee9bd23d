/**
 * Where the log is scrolled, as chat readers expect (The Lounge, Slack): it
 * sticks to the newest line unless the reader scrolled up; then new lines
 * wait below and a "new messages" marker says so (clicking it goes down).
 * Each room keeps its own place: switching back to a room shows its newest
 * lines, or where the reader left it if they had scrolled up there. One's
 * own line always brings the view down to it.
 */

/** Within this many pixels of the end counts as at the end (a fraction of a line, rounding, zoom). */
const NEAR_END_PX = 40;

interface Place {
  stuck: boolean;
  top: number;
}

export class LogScroll {
  /** Following the newest line (the reader has not scrolled up). */
  private stuck = true;
  private readonly places = new Map<string, Place>();

  constructor(
    private readonly list: HTMLElement,
    private readonly marker: HTMLButtonElement,
  ) {
    list.addEventListener('scroll', () => this.scrolled(), { passive: true });
    marker.addEventListener('click', () => this.toEnd());
    // The log's box changes (the chat view shown, the window resized, a phone's keyboard): still at the end if it was.
    new ResizeObserver(() => {
      if (this.stuck) this.toEnd();
    }).observe(list);
  }

  /** A room is about to be hidden: where the reader was in it. */
  leave(room: string): void {
    if (room) this.places.set(room, { stuck: this.stuck, top: this.list.scrollTop });
  }

  /** A room's lines are showing: its newest, unless the reader had scrolled up in it. */
  enter(room: string): void {
    const place = this.places.get(room);
    if (!place || place.stuck) return this.toEnd();
    this.list.scrollTop = place.top;
    this.stuck = false;
    this.marker.hidden = true;
  }

  /** A line was added; `shown`: it is in the current view (not another room's); `mine`: the reader's own. */
  added(shown: boolean, mine = false): void {
    if (!shown) return;
    if (this.stuck || mine) this.toEnd();
    else this.marker.hidden = false;
  }

  /** Lines were put above the others (older ones): the newest stay in view if they were. */
  grewAbove(): void {
    if (this.stuck) this.toEnd();
  }

  toEnd(): void {
    this.list.scrollTop = this.list.scrollHeight;
    this.stuck = true;
    this.marker.hidden = true;
  }

  private scrolled(): void {
    const l = this.list;
    // A hidden log (the join form showing) has no place to keep.
    if (l.clientHeight === 0) return;
    this.stuck = l.scrollHeight - l.scrollTop - l.clientHeight < NEAR_END_PX;
    if (this.stuck) this.marker.hidden = true;
  }
}
