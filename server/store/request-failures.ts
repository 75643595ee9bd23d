/**
 * A request the store could not carry out (SQLite threw: a damaged page, an
 * I/O error) is still answered: an ERROR is an answer, and a client waiting
 * on one would otherwise wait for ever (issue 31, Low). The operator hears
 * of the failure through the sequencer's fault; the session, here.
 */
import { encodeMessage, errorMessage } from '../../common/protocol.js';
import type { SessionAddress } from '../bus/room-bus.js';
import { memberKey } from './rooms.js';
import { refuse } from './request-context.js';
import type { StoreError } from './store-error.js';
import type { ToStore } from './store-messages.js';
import type { SessionContext } from './session-requests.js';

/** Who waits for an answer to the request, if anyone (a direct-offline refuses its own failure, NOT_STORED). */
function waiting(msg: ToStore): SessionAddress | null {
  switch (msg.k) {
    case 'enter':
    case 'join':
    case 'history':
    case 'register':
    case 'set-password':
    case 'inbox':
    case 'resume':
    case 'replay-next':
      return msg.session;
    default:
      return null;
  }
}

export function answerFailure(ctx: SessionContext, msg: ToStore, err: StoreError): void {
  const to = waiting(msg);
  if (!to) return;
  const text = `the server's history store failed (${err.code}): ${err.message}`;
  if (msg.k !== 'resume' && msg.k !== 'replay-next')
    return refuse(ctx, to, 'STORE_FAILED', text, 'ref' in msg ? msg.ref : undefined);
  // A replay that cannot go on ends here: what was sent stays sent, the live frames held behind it go out.
  const job = ctx.replays.get(memberKey(to));
  ctx.replays.delete(memberKey(to));
  ctx.bus.replay(
    to,
    [
      encodeMessage(errorMessage('STORE_FAILED', `${text}; what you missed could not all be sent`, false)),
      encodeMessage({ type: 'RESUMED', missed: job?.missed ?? 0 }),
    ],
    true,
  );
}
