/**
 * The operator's two actions on the chat, the same whether typed on the
 * server's console (the supervisor) or on the dashboard (a worker): a
 * broadcast to everyone, and a kick by nick.
 */
import { encodeMessage } from '../../common/protocol.js';
import { neutralizeControls } from '../../common/unicode/text-policy.js';
import type { SessionTable } from '../shm/session-table.js';
import type { Logger } from '../logger.js';
import type { RoomBus } from './room-bus.js';

export class OperatorActions {
  constructor(
    private readonly table: SessionTable,
    private readonly bus: RoomBus,
    private readonly log: Logger,
    /** A line for the server's console. */
    private readonly print: (line: string) => void,
    /** Where the action came from, for the log and the console line ('' for the console itself). */
    private readonly origin: string,
  ) {}

  /** Everyone prints `[server] text`. */
  broadcast(raw: string): void {
    const text = neutralizeControls(raw);
    this.bus.post(encodeMessage({ type: 'BROADCAST', text, ts: Date.now() }));
    this.log.info({ text, origin: this.origin || 'console' }, 'operator broadcast');
    this.print(`[server] ${text}${this.origin ? ` (from the ${this.origin})` : ''}`);
  }

  /** Ends the session with that nick (any case) wherever it lives; the exact nick kicked, or null when nobody has it. */
  async kick(nick: string, reason: string): Promise<string | null> {
    const target = await this.table.lookupAsync(nick);
    if (!target) return null;
    this.log.info({ nick: target.nick, reason, origin: this.origin || 'console' }, 'operator kick');
    this.bus.kick(target, neutralizeControls(reason));
    return target.nick;
  }
}
