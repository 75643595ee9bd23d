/**
 * The room log's append sent again while its fate is unknown (server/store/append-retry.ts): an answer lost is
 * sent again until one comes (the script keeps its turn's answer, so nothing is stored twice); a refusal, or a
 * command that never left, is the answer at once; past the bound the turn is in doubt.
 */
import { describe, expect, it } from 'vitest';
import { ClientOfflineError, ErrorReply, SocketClosedUnexpectedlyError, TimeoutReadError } from 'redis';
import { ClusterError } from '../../server/cluster/cluster-error.js';
import { sendUntilAnswered } from '../../server/store/append-retry.js';
import { StoreError } from '../../server/store/store-error.js';

/** A send that fails with each of `errors` in turn, then answers 'ok'; and how many times it was sent. */
function sends(...errors: Error[]): { send: () => Promise<string>; count: () => number } {
  let n = 0;
  return {
    send: () => {
      const err = errors[n++];
      return err ? Promise.reject(err) : Promise.resolve('ok');
    },
    count: () => n,
  };
}

const fast = { resolveMs: 200, retryMs: 5 };

describe('sendUntilAnswered', () => {
  it('an answer lost (the link dropped, or it came past its bound) is sent again until one comes', async () => {
    const s = sends(new SocketClosedUnexpectedlyError(), new TimeoutReadError(5000), new ClientOfflineError());
    expect(await sendUntilAnswered(s.send, fast)).toBe('ok');
    expect(s.count()).toBe(4);
  });

  it("an append under way on a connection the link's watchdog dropped as silent is sent again too", async () => {
    const s = sends(new ClusterError('REDIS_SILENT', 'no answer from Redis in 2500ms'), new ClientOfflineError());
    expect(await sendUntilAnswered(s.send, fast)).toBe('ok');
    expect(s.count()).toBe(3);
  });

  it('a refusal, or a command that never left the node, is the answer at once', async () => {
    const refused = sends(new ErrorReply('OOM command not allowed'));
    await expect(sendUntilAnswered(refused.send, fast)).rejects.toBeInstanceOf(ErrorReply);
    expect(refused.count()).toBe(1);
    const offline = sends(new ClientOfflineError());
    await expect(sendUntilAnswered(offline.send, fast)).rejects.toBeInstanceOf(ClientOfflineError);
    expect(offline.count()).toBe(1);
  });

  it('no answer within the bound, or a refusal after an answer lost: in doubt', async () => {
    const never = { send: () => Promise.reject(new SocketClosedUnexpectedlyError()) };
    await expect(sendUntilAnswered(never.send, fast)).rejects.toMatchObject({ code: 'STORE_IN_DOUBT' });
    const then = sends(new TimeoutReadError(5000), new ErrorReply('OOM command not allowed'));
    const err = await sendUntilAnswered(then.send, fast).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: 'STORE_IN_DOUBT' });
  });
});
