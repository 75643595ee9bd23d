/**
 * Getting the reader's attention when the tab is in the background: the
 * count of unread messages in the title, and a desktop notification for a
 * mention or a direct message (when the reader allowed notifications).
 */

export class Attention {
  private unread = 0;

  constructor(private readonly baseTitle: string) {
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) this.clear();
    });
  }

  /** Asks once for permission to notify, from the user's own click (browsers require a gesture). */
  askPermission(): void {
    if ('Notification' in window && Notification.permission === 'default') void Notification.requestPermission();
  }

  /** A message arrived; `important` for a mention of you or a direct message to you. */
  message(from: string, text: string, important: boolean): void {
    if (!document.hidden) return;
    this.unread++;
    document.title = `(${this.unread}) ${this.baseTitle}`;
    if (important && 'Notification' in window && Notification.permission === 'granted') {
      const n = new Notification(`${from} in heartbeat-chat`, { body: text.slice(0, 200), tag: 'heartbeat-chat' });
      n.onclick = () => {
        window.focus();
        n.close();
      };
    }
  }

  clear(): void {
    this.unread = 0;
    document.title = this.baseTitle;
  }
}
