/**
 * How incoming lines look on a terminal (a pipe gets the plain lines of
 * render.ts, unchanged): [HH:MM] first, each nick in a colour of its own,
 * your nick highlighted where someone mentions it, and a bell for a mention
 * or a direct message to you.
 */
import type { ServerMessage } from '../../common/protocol.js';
import { mentionRanges, mentions, nickColorIndex } from '../../common/mentions.js';

export { mentions } from '../../common/mentions.js';

export interface DecorateOptions {
  color: boolean;
  timestamps: boolean;
}

/** Colours that read on dark and light backgrounds alike (no blue on black, no yellow on white). */
const NICK_COLORS = [31, 32, 33, 35, 36, 91, 92, 95, 96];
const RESET = '\x1b[0m';

/** The same nick always gets the same colour. */
export function nickColor(nick: string): number {
  return NICK_COLORS[nickColorIndex(nick, NICK_COLORS.length)]!;
}

function clock(ts: number | undefined, now: number): string {
  const d = new Date(ts ?? now);
  return `[${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}]`;
}

/** line with each mention of me passed through mark (the rule is common/mentions.ts's). */
function highlight(line: string, me: string, mark: (s: string) => string): string {
  let out = '';
  let at = 0;
  for (const [a, b] of mentionRanges(line, me)) {
    out += line.slice(at, a) + mark(line.slice(a, b));
    at = b;
  }
  return out + line.slice(at);
}

export interface Decorated {
  lines: string[];
  /** Ring the bell: someone mentioned you or wrote to you. */
  bell: boolean;
}

export function decorate(
  msg: ServerMessage,
  lines: string[],
  me: string,
  o: DecorateOptions,
  now = Date.now(),
): Decorated {
  const paint = (code: number | string, s: string) => (o.color ? `\x1b[${code}m${s}${RESET}` : s);
  const ts = 'ts' in msg ? msg.ts : undefined;
  const stamp = o.timestamps ? `${paint(2, clock(ts, now))} ` : '';
  let bell = false;
  let out = lines;
  // History lines carry their date already ([YYYY-MM-DD HH:MM]): no second time before it. What was missed while
  // away reads as live, so it gets [HH:MM] as live lines do, but its own, not the time it arrived.
  if (msg.type === 'HISTORY')
    return {
      lines: lines.map((l, i) =>
        msg.missed && o.timestamps ? `${paint(2, clock(msg.entries[i]?.ts ?? now, now))} ${l}` : l,
      ),
      bell: false,
    };
  if (msg.type === 'CHAT' || msg.type === 'DIRECT') {
    const fromMe = msg.from === me;
    const named = !fromMe && mentions(msg.text, me);
    bell = named || (msg.type === 'DIRECT' && !fromMe);
    out = lines.map((line) => {
      const l = named ? highlight(line, me, (m) => paint('1;7', m)) : line;
      return l.replace(msg.from, paint(nickColor(msg.from), msg.from));
    });
  } else if (msg.type === 'ERROR') {
    out = lines.map((l) => paint(91, l));
  } else if (msg.type === 'NOTICE' || msg.type === 'BROADCAST') {
    out = lines.map((l) => paint(2, l));
  }
  return { lines: out.map((l) => stamp + l), bell };
}
