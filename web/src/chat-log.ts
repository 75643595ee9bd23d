/**
 * The page's log: one list holding every room's lines (rooms-panel.ts shows
 * the current room's), each with its time; bounded, and kept at the bottom
 * while the reader is there. A chat line carries its nick's colour, its links
 * and the mentions of the reader (rich-text.ts), and asks for the reader's
 * attention when the tab is in the background (attention.ts).
 */
import { mentions, nickColorIndex } from '../../common/mentions.js';
import type { Attention } from './attention.js';
import { clock, el } from './dom.js';
import { richText } from './rich-text.js';
import type { RoomsPanel } from './rooms-panel.js';

/** Colours for nicks (classes nick-c0 … in style.css). */
const NICK_COLORS = 9;

export class ChatLog {
  constructor(
    private readonly list: HTMLOListElement,
    private readonly rooms: RoomsPanel,
    private readonly attention: Attention,
    /** The reader's nick: their own lines, and the mentions of them. */
    private readonly me: () => string,
  ) {}

  /** A line in the log; with `room`, it shows while that room is current (and counts as unread elsewhere when `unread`). */
  line(text: string, kind: string, ts = Date.now(), room?: string, unread = false, dated = false): void {
    const li = el(
      'li',
      { class: kind },
      el('time', {}, dated ? `${new Date(ts).toLocaleDateString()} ${clock(ts)}` : clock(ts)),
      text,
    );
    this.rooms.place(li, room, unread);
    this.append(li);
  }

  /** What someone said: their nick in its colour, then the text with its links and mentions. */
  chat(from: string, text: string, ts: number, room?: string): void {
    const me = this.me();
    const mine = from === me;
    const named = !mine && mentions(text, me);
    const kind = mine ? 'msg mine' : named ? 'msg mentioned' : 'msg';
    const nick = el('b', { class: `nick-c${nickColorIndex(from, NICK_COLORS)}` }, `<${from}>`);
    const li = el('li', { class: kind }, el('time', {}, clock(ts)), nick, ' ', ...richText(text, mine ? '' : me));
    this.rooms.place(li, room, !mine);
    this.append(li);
    if (!mine) this.attention.message(from, text, named);
  }

  /** A button at the end of the log (Join again), gone once clicked. */
  offer(label: string, action: () => void): void {
    const button = el('button', { type: 'button', class: 'inline' }, label);
    button.addEventListener('click', () => {
      button.remove();
      action();
    });
    this.list.append(el('li', { class: 'notice' }, button));
  }

  private append(item: HTMLLIElement): void {
    const atBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
    this.list.append(item);
    // Bounded: a long-running tab keeps the last 2,000 lines.
    while (this.list.childElementCount > 2000) this.list.firstElementChild?.remove();
    if (atBottom) this.list.scrollTop = this.list.scrollHeight;
  }
}
