/**
 * IRCv3 capability negotiation (ircv3.net capability-negotiation, 3.1 and
 * 3.2 with `CAP LS 302`), as a state machine of one connection: CAP lines
 * in, replies out. LS and REQ during registration hold it until CAP END
 * (registration.ts asks `negotiating`). REQ is all or nothing: every name
 * known and none given a value, or NAK of the whole list. With 302 the
 * values are shown (`sasl=PLAIN`), a long LS or LIST goes on several lines
 * marked `*`, and cap-notify is on (CAP NEW and DEL may be sent).
 */
import { errorReply } from './numeric-errors.js';
import { type IrcMessage, MAX_BODY_BYTES, byteLength, serialize } from './message.js';

/** The capabilities the issue names, in the order LS lists them. */
export const CAPABILITIES = [
  'message-tags',
  'server-time',
  'echo-message',
  'batch',
  'labeled-response',
  'sasl',
  'away-notify',
  'account-tag',
  'draft/chathistory',
  'cap-notify',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** What this server offers: SASL only with accounts, chathistory only with history (as the chat's options say). */
export function offeredCapabilities(o: { accounts: boolean; history: boolean }): Map<Capability, string> {
  const caps = new Map<Capability, string>();
  for (const cap of CAPABILITIES) {
    if (cap === 'sasl' && !o.accounts) continue;
    if (cap === 'draft/chathistory' && !o.history) continue;
    caps.set(cap, cap === 'sasl' ? 'PLAIN' : '');
  }
  return caps;
}

export class CapNegotiation {
  /** 0 until the client sends CAP LS; 301 for LS without a version, else the version it gave. */
  version = 0;
  /** Between CAP LS or REQ and CAP END, before registration. */
  negotiating = false;
  readonly enabled = new Set<Capability>();

  constructor(
    private readonly server: string,
    private readonly offered: ReadonlyMap<Capability, string>,
  ) {}

  has(cap: Capability): boolean {
    return this.enabled.has(cap);
  }

  /** A CAP line's parameters; `me` is the nick, or '*' before registration. */
  handle(params: readonly string[], me: string, registered: boolean): IrcMessage[] {
    const sub = params[0]?.toUpperCase();
    if (sub === undefined) return [errorReply(this.server, me, 'ERR_NEEDMOREPARAMS', ['CAP'])];
    switch (sub) {
      case 'LS': {
        if (!registered) this.negotiating = true;
        const asked = Number.parseInt(params[1] ?? '', 10);
        this.version = Math.max(this.version, Number.isFinite(asked) && asked >= 302 ? asked : 301);
        if (this.version >= 302) this.enabled.add('cap-notify');
        const names = [...this.offered].map(([cap, v]) => (this.version >= 302 && v !== '' ? `${cap}=${v}` : cap));
        return this.listed(me, 'LS', names);
      }
      case 'LIST':
        return this.listed(me, 'LIST', [...this.enabled]);
      case 'REQ':
        if (!registered) this.negotiating = true;
        return [this.request(me, params[1] ?? '')];
      case 'END':
        this.negotiating = false;
        return [];
      default:
        return [errorReply(this.server, me, 'ERR_INVALIDCAPCMD', [params[0]!])];
    }
  }

  private request(me: string, list: string): IrcMessage {
    const asked = list.split(' ').filter(Boolean);
    const changes: Array<[Capability, boolean]> = [];
    for (const item of asked) {
      const off = item.startsWith('-');
      const name = (off ? item.slice(1) : item) as Capability;
      // cap-notify cannot be turned off once 302 turned it on (the spec's rule).
      if (!this.offered.has(name) || (off && name === 'cap-notify' && this.version >= 302))
        return this.reply(me, 'NAK', list);
      changes.push([name, !off]);
    }
    if (changes.length === 0) return this.reply(me, 'NAK', list);
    for (const [cap, on] of changes) {
      if (on) this.enabled.add(cap);
      else this.enabled.delete(cap);
    }
    return this.reply(me, 'ACK', list);
  }

  private reply(me: string, sub: string, list: string): IrcMessage {
    return { source: this.server, command: 'CAP', params: [me, sub, list] };
  }

  /** LS or LIST: one line, or with 302 as many as needed, all but the last with '*' before the list. */
  private listed(me: string, sub: 'LS' | 'LIST', names: string[]): IrcMessage[] {
    const room =
      MAX_BODY_BYTES - byteLength(serialize({ source: this.server, command: 'CAP', params: [me, sub, '*', ''] }));
    const lines: string[][] = [[]];
    for (const name of names) {
      const line = lines[lines.length - 1]!;
      if (this.version >= 302 && line.length > 0 && byteLength([...line, name].join(' ')) > room) lines.push([name]);
      else line.push(name);
    }
    return lines.map((line, i) =>
      i < lines.length - 1
        ? { source: this.server, command: 'CAP', params: [me, sub, '*', line.join(' ')] }
        : this.reply(me, sub, line.join(' ')),
    );
  }

  /** CAP NEW or DEL to a client with cap-notify, when what is offered changes (the store comes or goes). */
  notify(me: string, sub: 'NEW' | 'DEL', caps: readonly Capability[]): IrcMessage | null {
    if (!this.enabled.has('cap-notify')) return null;
    if (sub === 'DEL') for (const cap of caps) this.enabled.delete(cap);
    return this.reply(me, sub, caps.join(' '));
  }
}
