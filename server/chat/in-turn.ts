/**
 * A session's asynchronous requests (directory listings, tickets, WHO) run one at
 * a time, in the order asked: a burst of them waits its turn instead of
 * listing the directory thousands of times at once, and the answers come in
 * the order of the questions, as the protocol promises.
 */
import type { ServerMessage } from '../../common/protocol.js';
import type { Logger } from '../logger.js';

export class InTurn {
  private last: Promise<void> = Promise.resolve();

  constructor(
    private readonly reply: (msg: ServerMessage) => void,
    private readonly log: () => Logger,
  ) {}

  run(work: () => Promise<ServerMessage>): void {
    this.last = this.last.then(work).then(this.reply, (err: unknown) => this.log().error({ err }, 'request failed'));
  }
}
