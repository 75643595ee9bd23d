/**
 * The page's rooms: the list to switch between them with unread counts, which
 * one is current (where a line goes), and which log lines show. One log holds
 * every room's lines, each tagged with its room; switching shows that room's
 * and the ones that belong to no room (direct messages, the operator), at
 * the place the reader had in that room (log-scroll.ts).
 */
import { el, setText } from './dom.js';
import type { LogScroll } from './log-scroll.js';
import { roomKey } from '../../common/unicode/room-rule.js';

interface RoomEntry {
  name: string;
  unread: number;
  item: HTMLLIElement;
  badge: HTMLSpanElement;
}

export class RoomsPanel {
  private readonly rooms = new Map<string, RoomEntry>();
  private currentKey = '';
  /** The oldest id seen per room: /history pages back from it. */
  private readonly oldest = new Map<string, number>();

  constructor(
    private readonly list: HTMLUListElement,
    private readonly log: HTMLOListElement,
    private readonly scroll: LogScroll,
    /** The current room changed, to `name` ('' for none): the input's placeholder says where a line goes. */
    private readonly onSwitch: (name: string) => void,
  ) {}

  get current(): string {
    return this.rooms.get(this.currentKey)?.name ?? '';
  }

  isIn(name: string): boolean {
    return this.rooms.has(roomKey(name));
  }

  joined(name: string): void {
    this.add(name);
    this.switchTo(name);
  }

  /** The rooms a resumed session is in (after a reload: the server does not say them again), `current` shown. */
  restore(names: readonly string[], current: string): void {
    for (const name of names) this.add(name);
    if (!this.switchTo(current) && names.length > 0) this.switchTo(names[names.length - 1]!);
  }

  private add(name: string): void {
    const key = roomKey(name);
    if (this.rooms.has(key)) return;
    const badge = el('span', { class: 'badge', hidden: '' }, '');
    const button = el('button', { type: 'button', class: 'room-button' }, el('span', { class: 'name' }, name), badge);
    button.addEventListener('click', () => this.switchTo(name));
    const item = el('li', {}, button);
    this.list.append(item);
    this.rooms.set(key, { name, unread: 0, item, badge });
  }

  parted(name: string): void {
    const key = roomKey(name);
    this.rooms.get(key)?.item.remove();
    this.rooms.delete(key);
    if (key === this.currentKey) {
      const next = [...this.rooms.values()].at(-1);
      if (next) this.switchTo(next.name);
      else this.none();
    }
  }

  /** In no room: only the lines that belong to none show. */
  private none(): void {
    this.scroll.leave(this.currentKey);
    this.currentKey = '';
    this.showCurrent();
    this.onSwitch('');
  }

  /** The rooms it is in, as shown, in the order joined. */
  names(): string[] {
    return [...this.rooms.values()].map((r) => r.name);
  }

  clear(): void {
    this.rooms.clear();
    this.list.replaceChildren();
    this.none();
  }

  switchTo(name: string): boolean {
    const entry = this.rooms.get(roomKey(name));
    if (!entry) return false;
    this.scroll.leave(this.currentKey);
    this.currentKey = roomKey(name);
    entry.unread = 0;
    for (const r of this.rooms.values()) {
      r.item.classList.toggle('current', r === entry);
      this.showUnread(r);
    }
    this.showCurrent();
    this.onSwitch(entry.name);
    return true;
  }

  /** The current room's lines, and those of no room, showing; at the reader's place in that room. */
  private showCurrent(): void {
    for (const li of Array.from(this.log.children))
      if (li instanceof HTMLElement && li.dataset.room !== undefined) li.hidden = li.dataset.room !== this.currentKey;
    this.scroll.enter(this.currentKey);
  }

  /** Tags a log line with its room (shown only while that room is current) and counts it unread elsewhere. */
  place(li: HTMLLIElement, room: string | undefined, unread: boolean): void {
    if (room === undefined) return;
    const key = roomKey(room);
    li.dataset.room = key;
    li.hidden = key !== this.currentKey;
    const entry = this.rooms.get(key);
    if (entry && li.hidden && unread) {
      entry.unread++;
      this.showUnread(entry);
    }
  }

  saw(room: string, id: number): void {
    const key = roomKey(room);
    this.oldest.set(key, Math.min(this.oldest.get(key) ?? Infinity, id));
  }

  oldestSeen(room: string): number | undefined {
    return this.oldest.get(roomKey(room));
  }

  private showUnread(r: RoomEntry): void {
    r.badge.hidden = r.unread === 0;
    setText(r.badge, r.unread > 99 ? '99+' : String(r.unread));
  }
}
