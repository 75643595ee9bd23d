/**
 * The operator's two actions on the chat, the same whether typed on the
 * server's console (the supervisor) or on the dashboard (a worker): a
 * broadcast to everyone, a kick by nick, and the end of a nick's registration.
 * It lives with the store, not the bus: each action goes through the store
 * thread's sequencer (a broadcast is a sequenced post, the kick of an away
 * session and an unregister are requests in its order), and the store depends
 * on the bus, never the other way.
 */
import { encodeMessage } from '../../common/protocol.js';
import { neutralizeControls } from '../../common/unicode/text-policy.js';
import type { NickRegistry } from '../bus/nick-registry.js';
import type { Logger } from '../logger.js';
import type { RoomBus } from '../bus/room-bus.js';
import type { SequencerPort } from './store-link.js';

export class OperatorActions {
  constructor(
    /** Who holds a nick, wherever (bus/nick-registry.ts). */
    private readonly nicks: Pick<NickRegistry, 'lookup'>,
    private readonly bus: RoomBus,
    private readonly log: Logger,
    /** A line for the server's console. */
    private readonly print: (line: string) => void,
    /** Where the action came from, for the log and the console line ('' for the console itself). */
    private readonly origin: string,
    /** Where a kick of a session that is away goes: the store thread holds it (no worker does). */
    private readonly sequencer: SequencerPort | null,
    /** This node's id: a session away on another node is ended there (the kick crosses, its node ends it). */
    private readonly node: string | null = null,
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
    const target = await this.nicks.lookup(nick);
    if (!target) return null;
    this.log.info({ nick: target.nick, reason, origin: this.origin || 'console' }, 'operator kick');
    if (target.owner < 0 && (this.node === null || target.node === this.node))
      this.sequencer?.send({
        k: 'end-away',
        target: { slot: target.slot, generation: target.generation },
        reason: neutralizeControls(reason),
      });
    else this.bus.kick(target, neutralizeControls(reason));
    return target.nick;
  }

  /** The nick's account goes (the store thread says on the console what it found); its holder, if online, keeps the nick unregistered. */
  unregister(nick: string): void {
    this.log.info({ nick, origin: this.origin || 'console' }, 'operator unregister');
    this.sequencer?.send({ k: 'unregister', nick });
  }
}
