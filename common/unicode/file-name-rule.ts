/**
 * What a shared file may be called (docs/PROTOCOL.md, "File names"). One
 * rule for LFTP, HTTP and the chat's tickets, and the page runs it before an
 * upload so the user reads the reason at once. A name:
 *   - is one path component: no / or \, not . or .., no leading dot
 *     (temporary files start with one);
 *   - is at most 255 bytes of UTF-8 in NFC (what a Linux file system holds);
 *     a name sent in another normal form is taken as its NFC form;
 *   - holds nothing invisible or reordering (common/unicode/text-policy.ts,
 *     NAME_INVISIBLE), no white space but the ordinary and the ideographic
 *     space, and none at either end;
 *   - writes each word in one writing system (the nicks' mixing rule): a
 *     Cyrillic о inside "invоice" is refused, "Отчёт_report.pdf" is not.
 * The server also refuses a new name that looks like one already there
 * (server/files/file-service.ts).
 */
import { SCRIPT_MIX_RULE, scriptMix } from './scripts.js';
import { NAME_INVISIBLE, describeChar } from './text-policy.js';

export const MAX_NAME_BYTES = 255;

export type FileNameCheck = { ok: true; name: string } | { ok: false; reason: string };

const encoder = new TextEncoder();
const OTHER_SPACE = /[^\S\u0020\u3000]/u;
const WORD = /[\p{L}\p{M}\p{Nd}]+/gu;

export function checkFileName(raw: unknown): FileNameCheck {
  if (typeof raw !== 'string' || raw.length === 0) return { ok: false, reason: 'a file name is required' };
  const hidden = NAME_INVISIBLE.exec(raw);
  if (hidden)
    return {
      ok: false,
      reason: `file name contains ${describeChar(hidden[0])}, which is invisible, a control, or reorders text`,
    };
  const name = raw.normalize('NFC');
  const bytes = encoder.encode(name).length;
  if (bytes > MAX_NAME_BYTES)
    return { ok: false, reason: `file name longer than ${MAX_NAME_BYTES} bytes (it has ${bytes})` };
  if (name.includes('/') || name.includes('\\'))
    return {
      ok: false,
      reason: `file name ${JSON.stringify(name)} contains a path separator: names are plain file names`,
    };
  if (name.startsWith('.')) return { ok: false, reason: `file name ${JSON.stringify(name)} may not start with a dot` };
  const space = OTHER_SPACE.exec(name);
  if (space)
    return {
      ok: false,
      reason: `file name contains ${describeChar(space[0])}: the only spaces a name may hold are U+0020 and U+3000`,
    };
  if (name.trim() !== name)
    return { ok: false, reason: `file name ${JSON.stringify(name)} starts or ends with a space` };
  for (const [word] of name.matchAll(WORD)) {
    const mix = scriptMix(word);
    if (mix)
      return {
        ok: false,
        reason: `file name ${JSON.stringify(name)} mixes ${mix} letters in the word ${JSON.stringify(word)} (each word: ${SCRIPT_MIX_RULE})`,
      };
  }
  return { ok: true, name };
}
