/**
 * Files, as the page moves them: the list of what is shared (FILES), and a
 * download or an upload, each with a one-time ticket asked for on the chat
 * connection and its bytes over HTTP (browsers cannot send UDP, so not LFTP).
 */
import type { ChatLog } from './chat-log.js';
import type { ClientMessage, FileEntry, ServerMessage } from './codec.js';
import { byId, el, formatBytes } from './dom.js';
import { PageUpload } from './page-upload.js';

type Pending = { op: 'get'; name: string } | { op: 'post'; name: string; size: number; upload: PageUpload };

export class FilesPanel {
  private nextTicketId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    /** False when the chat connection is down: the request is asked again once it is back (reconnected). */
    private readonly send: (msg: ClientMessage) => boolean,
    private readonly log: ChatLog,
  ) {
    byId<HTMLInputElement>('upload').addEventListener('change', (e) => {
      const input = e.target as HTMLInputElement;
      const file = input.files?.[0];
      input.value = '';
      if (file) this.requestUpload(file);
    });
  }

  requestDownload(name: string): void {
    const id = this.nextTicketId++;
    this.pending.set(id, { op: 'get', name });
    this.send({ type: 'TICKET_REQUEST', id, op: 'get', name });
  }

  /** An upload asks for a ticket for each try (page-upload.ts): a cut one goes on with a fresh one. */
  private requestUpload(file: File): void {
    const upload: PageUpload = new PageUpload(file, file.name, this.log, () => ask());
    const ask = () => {
      const id = this.nextTicketId++;
      this.pending.set(id, { op: 'post', name: file.name, size: file.size, upload });
      if (!this.send({ type: 'TICKET_REQUEST', id, op: 'post', name: file.name, size: file.size }))
        this.log.line(`* the upload of ${file.name} waits for the chat connection`, 'muted');
    };
    ask();
  }

  /**
   * The connection is back: the ticket requests that had no answer are asked again (one sent while it was down
   * never left, and a cut upload waiting for its next ticket would wait for ever).
   */
  reconnected(): void {
    for (const [id, p] of this.pending)
      this.send({ type: 'TICKET_REQUEST', id, op: p.op, name: p.name, ...(p.op === 'post' ? { size: p.size } : {}) });
  }

  ticket(msg: Extract<ServerMessage, { type: 'TICKET' }>): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (!msg.ok && p.op === 'post') return p.upload.refused(msg.code, msg.message);
    if (!msg.ok) {
      this.log.line(
        `! ${p.op === 'get' ? 'download' : 'upload'} of ${p.name} refused: ${msg.code}: ${msg.message}`,
        'error',
      );
      return;
    }
    if (msg.host !== undefined) {
      // Another node of the cluster holds it: its ticket is for that node's LFTP port, not this page's HTTP.
      this.log.line(
        `! ${msg.name} is on another node (${msg.host}): get it from that node's page, or with /get in chat-client`,
        'error',
      );
      return;
    }
    if (p.op === 'get' && msg.name.endsWith('/')) return this.folderLinks(msg.name.slice(0, -1), msg.ticket);
    const url = `/files/${encodeURIComponent(msg.name)}?ticket=${encodeURIComponent(msg.ticket)}`;
    if (p.op === 'get') {
      const a = el('a', { href: url, download: msg.name, hidden: '' });
      document.body.append(a);
      a.click();
      a.remove();
      this.log.line(`* downloading ${msg.name} (${formatBytes(msg.size)}) over HTTP`, 'muted');
      return;
    }
    void p.upload.attempt(url);
  }

  /**
   * A folder's ticket (docs/PROTOCOL.md, "Folders over HTTP"): a browser saves files, not trees, so the page gives
   * the addresses a script or curl fetches the tree from, under the one ticket, while requests keep coming.
   */
  private folderLinks(folder: string, ticket: string): void {
    const at = `${location.origin}/files/${encodeURIComponent(folder)}/`;
    const t = `?ticket=${encodeURIComponent(ticket)}`;
    this.log.line(
      `* ${folder}/ over HTTP, one ticket for all of it (unused, it ends in 60 s; then 60 s after each request): the listing (JSON: folders, and each file's path, size and mtime) is ${at}${t} and each file is ${at}PATH${t}, each part of PATH percent-encoded; or /get ${folder}/ in chat-client (LFTP)`,
      'muted',
    );
  }

  /** The shared files, each with its Download button. */
  show(files: FileEntry[], total: number): void {
    const list = byId<HTMLUListElement>('files');
    list.replaceChildren();
    if (total === 0) list.append(el('li', { class: 'muted' }, 'no files yet'));
    for (const f of files) {
      // A folder (its name ends in /): its Links button gives the addresses to fetch it from (folderLinks).
      if (f.files !== undefined) {
        const size = `${formatBytes(f.size)} in ${f.files} file${f.files === 1 ? '' : 's'}`;
        const links = el('button', { type: 'button', class: 'inline', title: `links to fetch ${f.name}` }, 'Links');
        links.addEventListener('click', () => this.requestDownload(f.name));
        const name = el('span', { class: 'name' }, f.name);
        list.append(el('li', {}, name, el('span', { class: 'muted small' }, size), links));
        continue;
      }
      const button = el('button', { type: 'button', class: 'inline', title: `download ${f.name}` }, 'Download');
      button.addEventListener('click', () => this.requestDownload(f.name));
      list.append(
        el(
          'li',
          {},
          el('span', { class: 'name' }, f.name),
          el('span', { class: 'muted small' }, formatBytes(f.size)),
          button,
        ),
      );
    }
    if (files.length < total) list.append(el('li', { class: 'muted' }, `… and ${total - files.length} more`));
  }
}
