/**
 * DOM building for both pages. Text from the network only ever reaches the
 * page as text nodes (never innerHTML), so a message such as
 * `<img src=x onerror=alert(1)>` is shown as the characters it is; and
 * through the terminal's neutraliser (common/unicode/text-policy.ts), so a
 * bidi override or a control character shows as a stand-in instead of
 * reordering or hiding what is around it.
 */
import { neutralizeControls } from '../../common/unicode/text-policy.js';

export { formatBytes, formatDuration } from '../../common/format.js';

/** A text node showing exactly the characters of s, neutralised. */
export function text(s: string): Text {
  return document.createTextNode(neutralizeControls(s));
}

/** Sets an element's text, neutralised. */
export function setText(node: Node, s: string): void {
  node.textContent = neutralizeControls(s);
}

type Child = Node | string | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: { class?: string; title?: string; [attr: string]: string | undefined } = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    if (k === 'class') node.className = v;
    else node.setAttribute(k, k === 'title' ? neutralizeControls(v) : v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(typeof c === 'string' ? text(c) : c);
  }
  return node;
}

export function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`page is missing #${id}`);
  return node as T;
}

export function clock(ts: number): string {
  const d = new Date(ts);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}
