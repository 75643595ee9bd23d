/**
 * A Map made on its first entry and let go when emptied: what an IRC session keeps only while a CHATHISTORY
 * request or a join's history is under way (irc-session.ts, irc-requests.ts). An idle session holds none of
 * them: each empty Map would be a hash table of its own (about 200 bytes), several per connection.
 */
export class LazyMap<K, V> {
  private map: Map<K, V> | null = null;

  get size(): number {
    return this.map?.size ?? 0;
  }

  get(key: K): V | undefined {
    return this.map?.get(key);
  }

  set(key: K, value: V): this {
    (this.map ??= new Map()).set(key, value);
    return this;
  }

  delete(key: K): boolean {
    const had = this.map?.delete(key) ?? false;
    if (this.map?.size === 0) this.map = null;
    return had;
  }

  /** The oldest key (insertion order), if any. */
  first(): K | undefined {
    return this.map?.keys().next().value;
  }

  /** The entries as they are now (a copy: deleting while going through them is safe). */
  entries(): Array<[K, V]> {
    return this.map ? [...this.map] : [];
  }
}
