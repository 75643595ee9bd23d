/**
 * A chat message as DOM nodes: web links made clickable (http and https only,
 * opening in a new tab with no opener and no referrer), mentions of the
 * reader highlighted. Everything else stays text (textContent), whatever it
 * looks like.
 */
import { mentionRanges } from '../../common/mentions.js';
import { el, text as textNode } from './dom.js';

/** A URL-looking run; what it really is, is decided by the URL parser below. */
const LINK = /\b(?:https?:\/\/|www\.)[^\s<>"']+/gi;
/** Punctuation that ends a sentence rather than the link. */
const TRAILING = /[.,;:!?)\]}'"]+$/;

/** An http(s) URL, or null: javascript:, data: and anything else never become links. */
export function safeUrl(candidate: string): URL | null {
  try {
    const url = new URL(candidate.startsWith('www.') ? `https://${candidate}` : candidate);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

function withMentions(text: string, me: string): Node[] {
  const out: Node[] = [];
  let at = 0;
  for (const [a, b] of mentionRanges(text, me)) {
    if (a > at) out.push(textNode(text.slice(at, a)));
    out.push(el('mark', { class: 'mention' }, text.slice(a, b)));
    at = b;
  }
  if (at < text.length) out.push(textNode(text.slice(at)));
  return out;
}

export function richText(text: string, me: string): Node[] {
  const out: Node[] = [];
  let at = 0;
  for (const m of text.matchAll(LINK)) {
    const raw = m[0].replace(TRAILING, '');
    const url = safeUrl(raw);
    if (!url) continue;
    const start = m.index;
    out.push(...withMentions(text.slice(at, start), me));
    out.push(el('a', { href: url.href, target: '_blank', rel: 'noopener noreferrer' }, raw));
    at = start + raw.length;
  }
  out.push(...withMentions(text.slice(at), me));
  return out;
}
