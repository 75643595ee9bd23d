/**
 * The NickRegistry contract (server/bus/nick-registry.ts): what any registry must do, run today against the
 * single node's LocalNickRegistry, two of them over one session table as two workers (or, in a cluster, two
 * nodes) are: a nick is held once across them, look-alikes refused; a lookup finds the holder with its node; a
 * rename and a resume are seen by the other; WHO lists everyone.
 */
import { describe, expect, it } from 'vitest';
import type { NickRegistry } from '../../server/bus/nick-registry.js';
import { newToken } from '../../server/shm/resume-token.js';

const session = (nick: string, owner: number, token: Uint8Array | null = null) => ({
  nick,
  owner,
  transport: 'tcp' as const,
  address: `10.0.0.${owner + 1}`,
  port: 1000 + owner,
  now: 5000,
  token,
});

/** Two registries over the same state (two workers of a node today; two nodes in a cluster). */
export type MakeRegistries = () => { a: NickRegistry; b: NickRegistry; node: string };

export function nickRegistryContract(name: string, make: MakeRegistries): void {
  describe(`NickRegistry contract: ${name}`, () => {
    it('a nick is held once, whichever claims it; a look-alike is refused; lookups find the holder and its node', async () => {
      const { a, b, node } = make();
      const ann = await a.claim(session('Ann', 0));
      expect(ann.ok).toBe(true);
      expect(await b.claim(session('ANN', 1))).toMatchObject({ ok: false, reason: 'NICK_TAKEN', holder: 'Ann' });
      expect(await b.claim(session('Аnn', 1))).toMatchObject({ ok: false, reason: 'NICK_TAKEN', same: false });
      expect(await b.lookup('ann')).toMatchObject({ node, nick: 'Ann', owner: 0 });
      expect(await a.lookup('nobody')).toBeNull();
      expect(await a.lookup('not a nick')).toBeNull();
    });

    it('a rename is seen everywhere; the old nick is free; WHO lists every session', async () => {
      const { a, b } = make();
      const ann = await a.claim(session('ann', 0));
      const bob = await b.claim(session('bob', 1));
      if (!ann.ok || !bob.ok) throw new Error('claim');
      expect(await b.rename(bob, 'ann')).toMatchObject({ reason: 'NICK_TAKEN' });
      expect(await a.rename(ann, 'anna')).toBe('ok');
      expect(await b.lookup('ann')).toBeNull();
      expect(await b.lookup('anna')).toMatchObject({ slot: ann.slot, generation: ann.generation });
      expect((await b.who()).map((s) => s.nick).sort()).toEqual(['anna', 'bob']);
    });

    it("a resume moves the session to the resuming worker with the next token; its old token is spent; the owner's claim takes over", async () => {
      const { a, b } = make();
      const first = newToken();
      const ann = await a.claim(session('ann', 0, first.hash));
      if (!ann.ok) throw new Error('claim');
      const next = newToken();
      const to = { owner: 1, transport: 'ws' as const, address: '10.0.0.9', port: 9, now: 6000 };
      const moved = await b.resume(first.hash, next.hash, to);
      expect(moved).toMatchObject({ ok: true, nick: 'ann', slot: ann.slot, previous: { owner: 0 } });
      expect(await a.resume(first.hash, newToken().hash, to)).toEqual({ ok: false, reason: 'USED' });
      expect(await a.lookup('ann')).toMatchObject({ owner: 1 });
      const owner = await a.claimAsOwner(session('ann', 0, newToken().hash), 'take-over');
      expect(owner).toMatchObject({ ok: true, taken: { nick: 'ann', owner: 1 } });
    });
  });
}
