/**
 * Files, as the page moves them: the list of what is shared (FILES), and a
 * download or an upload, each with a one-time ticket asked for on the chat
 * connection and its bytes over HTTP (browsers cannot send UDP, so not LFTP).
 */
import type { ChatLog } from './chat-log.js';
import type { ClientMessage, FileEntry, ServerMessage } from './codec.js';
import { byId, el, formatBytes, setText } from './dom.js';

type Pending = { op: 'get'; name: string } | { op: 'post'; name: string; file: File };

export class FilesPanel {
  private nextTicketId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly send: (msg: ClientMessage) => void,
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

  private requestUpload(file: File): void {
    const id = this.nextTicketId++;
    this.pending.set(id, { op: 'post', name: file.name, file });
    this.send({ type: 'TICKET_REQUEST', id, op: 'post', name: file.name, size: file.size });
  }

  ticket(msg: Extract<ServerMessage, { type: 'TICKET' }>): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (!msg.ok) {
      this.log.line(
        `! ${p.op === 'get' ? 'download' : 'upload'} of ${p.name} refused: ${msg.code}: ${msg.message}`,
        'error',
      );
      return;
    }
    const url = `/files/${encodeURIComponent(msg.name)}?ticket=${encodeURIComponent(msg.ticket)}`;
    if (p.op === 'get') {
      const a = el('a', { href: url, download: msg.name, hidden: '' });
      document.body.append(a);
      a.click();
      a.remove();
      this.log.line(`* downloading ${msg.name} (${formatBytes(msg.size)}) over HTTP`, 'muted');
      return;
    }
    this.upload(url, p.file, msg.name);
  }

  /** XMLHttpRequest rather than fetch: it reports upload progress. The body is streamed from the file, not read into memory. */
  private upload(url: string, file: File, name: string): void {
    const bar = el('progress', { max: String(file.size || 1), value: '0' });
    const label = el('span', { class: 'small' }, `${name}: 0%`);
    const row = el('div', { class: 'transfer' }, label, bar);
    byId('transfers').append(row);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => {
      bar.value = e.loaded;
      setText(label, `${name}: ${file.size ? Math.floor((100 * e.loaded) / file.size) : 100}%`);
    };
    xhr.onload = () => {
      row.remove();
      if (xhr.status === 201) return; // the room's "shared" notice says the rest
      let why = `HTTP ${xhr.status}`;
      try {
        const body = JSON.parse(xhr.responseText) as { code?: string; message?: string };
        why = `${body.code ?? why}: ${body.message ?? ''}`;
      } catch {
        /* not JSON: keep the status */
      }
      this.log.line(`! upload of ${name} failed: ${why}`, 'error');
    };
    xhr.onerror = () => {
      row.remove();
      this.log.line(`! upload of ${name} failed: the connection broke`, 'error');
    };
    xhr.send(file);
  }

  /** The shared files, each with its Download button. */
  show(files: FileEntry[], total: number): void {
    const list = byId<HTMLUListElement>('files');
    list.replaceChildren();
    if (total === 0) list.append(el('li', { class: 'muted' }, 'no files yet'));
    for (const f of files) {
      // A folder (its name ends in /) is fetched with chat-client's /get DIR/: the page downloads files only.
      if (f.files !== undefined) {
        const size = `${formatBytes(f.size)} in ${f.files} file${f.files === 1 ? '' : 's'}`;
        list.append(el('li', {}, el('span', { class: 'name' }, f.name), el('span', { class: 'muted small' }, size)));
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
