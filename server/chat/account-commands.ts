/**
 * What an ACCOUNT frame does (docs/PROTOCOL.md, "Registered nicks"):
 * register the session's nick, identify as a registered nick (the session
 * takes it, ending any session that held it), or change the password of the
 * one it holds. Hashing and
 * checking run off the event loop; one command per session at a time.
 */
import { ProtocolError } from '../../common/errors.js';
import { encodeMessage, type ClientMessage } from '../../common/protocol.js';
import { withRef } from '../../common/messages.js';
import { nickTakenText } from '../shm/nick-keys.js';
import type { ActiveSession } from './active-session.js';
import type { SessionAddress } from '../bus/room-bus.js';
import { checkPassword, hashPassword } from '../accounts/password-hash.js';
import { endReplaced } from './session-end.js';

type Account = Extract<ClientMessage, { type: 'ACCOUNT' }>;

const at = (s: ActiveSession): SessionAddress => ({
  slot: s.ref.slot,
  generation: s.ref.generation,
  node: s.host.node,
  owner: s.host.workerIndex,
});

const busy = new WeakSet<ActiveSession>();

export function accountCommand(s: ActiveSession, msg: Account): void {
  const gate = s.host.accounts;
  if (!gate)
    return s.reject(
      'ACCOUNTS_OFF',
      'this server keeps no accounts (it runs with --no-history): nicks cannot be registered',
      msg.ref,
    );
  if (busy.has(s))
    return s.reject('LOGIN_LOCKED', 'one account command at a time: wait for the answer to the last one', msg.ref);
  busy.add(s);
  run(s, msg)
    .catch((err: unknown) => {
      if (err instanceof ProtocolError) s.reject(err.code, err.message, msg.ref);
      else s.reject('BAD_FRAME', `internal error: ${(err as Error).message}`, msg.ref);
    })
    .finally(() => busy.delete(s));
}

async function run(s: ActiveSession, msg: Account): Promise<void> {
  const gate = s.host.accounts!;
  const now = s.host.clock.wallNow();
  gate.checkChannel(s.caller);
  switch (msg.op) {
    case 'register': {
      checkPassword(msg.password);
      const hash = await hashPassword(msg.password);
      gate.registering(s.caller, s.nick, now);
      // The store refuses a nick registered meanwhile; the answer comes from it.
      s.host.sequencer.send({ k: 'register', session: at(s), nick: s.nick, hash, ...withRef(msg.ref) });
      return;
    }
    case 'identify': {
      const account = await gate.identify(s.caller, msg.nick, msg.password, now);
      const old = s.nick;
      if (account.nick !== old) {
        // The password is the nick's owner's: a session holding the nick, away or connected, ends for this one.
        const result = await s.host.nicks.rename(s.ref, account.nick, true);
        if (result === 'GONE') return;
        if (result !== 'ok' && result.reason === 'NICK_TAKEN')
          throw new ProtocolError(
            'NICK_TAKEN',
            nickTakenText(account.nick, result, { windowMs: s.host.resumeWindowMs, now: s.host.clock.wallNow() }),
          );
        if (result !== 'ok') endReplaced(s.host, result.replaced, `${account.nick} identified on another connection`);
        s.renamed(account.nick);
        s.host.event(`* ${old} is now ${account.nick} (identified)`);
        const notice = encodeMessage({ type: 'NOTICE', event: 'nick', nick: old, newNick: account.nick });
        s.host.sequencer.send({ k: 'rename', session: at(s), nick: account.nick, notice, account: true });
      }
      s.reply({ type: 'ACCOUNT_REPLY', op: 'identified', nick: account.nick, ...withRef(msg.ref) });
      // What came for the nick while nobody held it (after the rename, in the order).
      s.host.sequencer.send({ k: 'inbox', session: at(s) });
      return;
    }
    case 'password': {
      checkPassword(msg.newPassword);
      const account = await gate.identify(s.caller, s.nick, msg.password, now);
      s.host.sequencer.send({
        k: 'set-password',
        session: at(s),
        nick: account.nick,
        hash: await hashPassword(msg.newPassword),
        ...withRef(msg.ref),
      });
      return;
    }
  }
}
