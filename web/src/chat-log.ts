/**
 * The page's log: one list holding every room's lines (rooms-panel.ts shows
 * the current room's), each with its time; bounded, and scrolled as chat
 * readers expect (log-scroll.ts). A chat line, live or from the history,
 * carries its nick in its colour and isolated from the text around it (a
 * right-to-left nick does not reorder the line), its links and the mentions
 * of the reader (rich-text.ts); a live one asks for the reader's attention
 * when the tab is in the background (attention.ts).
 */
import { mentions, nickColorIndex } from '../../common/mentions.js';
import type { Attention } from './attention.js';
import { clock, el } from './dom.js';
import type { LogScroll } from './log-scroll.js';
import { richText } from './rich-text.js';
import type { RoomsPanel } from './rooms-panel.js';

/** Colours for nicks (classes nick-c0 … in style.css). */
const NICK_COLORS = 9;
/** A long-running tab keeps the last this many lines. */
const MAX_LINES = 2000;

/** How a chat line is shown: an action (`* nick text`), and from the history (dated, never unread). */
export interface ChatLineKind {
  action?: boolean;
  history?: boolean;
}

export class ChatLog {
  /** Where older lines go (a reload's history, above what came after it); null: none. */
  private olderAt: HTMLLIElement | null = null;
  private inserting = false;

  constructor(
    private readonly list: HTMLOListElement,
    private readonly rooms: RoomsPanel,
    private readonly scroll: LogScroll,
    private readonly attention: Attention,
    /** The reader's nick: their own lines, and the mentions of them. */
    private readonly me: () => string,
  ) {}

  /** A line in the log; with `room`, it shows while that room is current (and counts as unread elsewhere when `unread`). */
  line(text: string, kind: string, ts = Date.now(), room?: string, unread = false, dated = false): void {
    const li = el('li', { class: kind }, this.time(ts, dated), text);
    this.rooms.place(li, room, unread && !this.inserting);
    this.append(li);
  }

  /** What someone said: their nick in its colour, then the text with its links and mentions. */
  chat(from: string, text: string, ts: number, room?: string, how: ChatLineKind = {}): void {
    const me = this.me();
    const mine = from === me;
    const named = !mine && mentions(text, me);
    const kind = how.history ? 'history' : how.action ? 'action' : mine ? 'msg mine' : named ? 'msg mentioned' : 'msg';
    // <bdi>: the nick is its own bidi island, so an Arabic or Hebrew nick and the text beside it keep their places.
    const nick = el('bdi', { class: `nick nick-c${nickColorIndex(from, NICK_COLORS)}` }, from);
    const said = el('span', { class: 'text', dir: 'auto' }, ...richText(text, mine ? '' : me));
    const li = how.action
      ? el('li', { class: kind }, this.time(ts, how.history), '* ', nick, ' ', said)
      : el('li', { class: kind }, this.time(ts, how.history), '<', nick, '> ', said);
    this.rooms.place(li, room, !mine && !how.history && !this.inserting);
    this.append(li, mine);
    if (!mine && !how.history) this.attention.message(from, text, named);
  }

  /** A button at the end of the log (Join again), in view, gone once clicked. */
  offer(label: string, action: () => void): void {
    const button = el('button', { type: 'button', class: 'inline' }, label);
    button.addEventListener('click', () => {
      button.remove();
      action();
    });
    this.append(el('li', { class: 'notice offer' }, button), true);
  }

  /** A line of no room above which older lines (a reload's history) can be put from now on. */
  olderAbove(text: string, kind: string): void {
    this.olderAt = el('li', { class: kind }, this.time(Date.now()), text);
    this.append(this.olderAt);
  }

  /** Draws lines above the mark olderAbove set (at the end if there is none). */
  older(draw: () => void): void {
    this.inserting = this.olderAt?.isConnected === true;
    try {
      draw();
    } finally {
      this.inserting = false;
    }
  }

  private time(ts: number, dated = false): HTMLTimeElement {
    return el('time', {}, dated ? `${new Date(ts).toLocaleDateString()} ${clock(ts)}` : clock(ts));
  }

  private append(item: HTMLLIElement, mine = false): void {
    if (this.inserting && this.olderAt) this.list.insertBefore(item, this.olderAt);
    else this.list.append(item);
    while (this.list.childElementCount > MAX_LINES) this.list.firstElementChild?.remove();
    if (this.inserting) this.scroll.grewAbove();
    else this.scroll.added(!item.hidden, mine);
  }
}
