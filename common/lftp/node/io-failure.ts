/**
 * A failed file operation as the peer may read it: what failed and the
 * system's reason, never the server's path (Node's messages end with the
 * absolute path: "ENOSPC: no space left on device, write '/srv/files/…'").
 * A full disk or an exhausted quota is NO_SPACE (HTTP 507); anything else
 * IO_ERROR.
 */
import { LftpError } from '../engine/errors.js';

/** "ENOSPC: no space left on device" for a system error; the message otherwise. */
export function systemReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code === 'string' && typeof e.message === 'string' && e.message.startsWith(`${e.code}: `)) {
    const rest = e.message.slice(e.code.length + 2);
    const cut = rest.indexOf(', ');
    return `${e.code}: ${cut >= 0 ? rest.slice(0, cut) : rest}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** `what` ("cannot write \"a.txt\"") and the reason, as NO_SPACE or IO_ERROR. */
export function ioFailure(what: string, err: unknown): LftpError {
  if (err instanceof LftpError) return err;
  return new LftpError(isDiskFull(err) ? 'NO_SPACE' : 'IO_ERROR', `${what}: ${systemReason(err)}`);
}
