/** The SecretSource contract (server/process/secret-source.ts): run against every implementation, a cluster's too. */
import { expect, it } from 'vitest';
import { SECRET_BYTES, type SecretSource } from '../../server/process/secret-source.js';

/** What every SecretSource must do (a cluster's too): each name its own bytes, the same every time asked. */
export function secretSourceContract(name: string, make: () => SecretSource): void {
  it(`${name}: each secret ${SECRET_BYTES} bytes, the same every time, one per name`, async () => {
    const source = make();
    const [ticket, cookie] = [await source.secret('ticket'), await source.secret('admin-cookie')];
    expect(ticket.length).toBe(SECRET_BYTES);
    expect(cookie.length).toBe(SECRET_BYTES);
    expect(ticket.equals(cookie)).toBe(false);
    expect((await source.secret('ticket')).equals(ticket)).toBe(true);
    // What a caller does with the bytes it got does not change the secret.
    ticket.fill(0);
    expect((await source.secret('ticket')).equals(ticket)).toBe(false);
  });
}
