/**
 * One upload of a folder at a time on a server without users (`chat-server lftp`, docs/LFTP.md "Folders"): a
 * folder's staging folder is named after the folder alone, so two uploads at once would share it. The uploader
 * is the address a folder's manifest came from; another address's manifest or files are refused (BUSY) while
 * the folder was asked for within HELD_MS. The same address goes on (a run again after a cut: its new process has
 * a new port). The chat server keeps uploads apart with its tickets instead (FileService.grantTicket), across
 * workers, by session.
 */
import { LftpError } from '../../common/lftp/engine/errors.js';

/** A folder nobody asked a file of for this long is free for another uploader. */
export const HELD_MS = 30_000;

export class FolderUploaders {
  private readonly held = new Map<string, { address: string; at: number }>();

  /** `address` uploads `name` now: throws BUSY while another address does. */
  claim(name: string, address: string | undefined, now: number): void {
    if (address === undefined) return;
    const h = this.held.get(name);
    if (h && h.address !== address && now - h.at < HELD_MS)
      throw new LftpError(
        'BUSY',
        `${name}/ is being uploaded from ${h.address}; try again once that is done (or ${Math.ceil((HELD_MS - (now - h.at)) / 1000)} s after it stops)`,
      );
    this.held.set(name, { address, at: now });
  }

  /** The folder was put in place (or given up): free. */
  release(name: string): void {
    this.held.delete(name);
  }
}
