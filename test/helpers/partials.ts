/** A receiver's partial file (docs/LFTP.md, "Resume"): the hidden `.resume-*.lftp-held` beside the final name. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Bytes of the partial in dir, 0 without one. */
export function held(dir: string): number {
  const name = readdirSync(dir).find((n) => n.startsWith('.resume-') && n.endsWith('.lftp-held'));
  return name ? statSync(join(dir, name)).size : 0;
}
