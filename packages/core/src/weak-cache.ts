/**
 * A cache keyed by objects that holds its values only as long as their keys live (a
 * WeakMap), and whose hash table stays small. A WeakMap's table grows to the most entries
 * it ever held at once and keeps that size when the garbage collector empties it: only a
 * `delete` shrinks it. A cache set once per message sent (framed bytes per payload) grows
 * that table to a burst's size (64 KiB at 1,000 documents opened in a few seconds), kept for
 * good after the documents unloaded. This one starts a new table every `WEAK_CACHE_TABLE_SETS`
 * sets, so no table outgrows that many entries; a key set before the switch is a miss after
 * it (the caller computes its value again, once).
 */

/** Sets per table before a new one starts (its table then holds at most about this many entries, ~8 KiB). */
export const WEAK_CACHE_TABLE_SETS = 256

export class WeakCache<K extends object, V> {
  private table = new WeakMap<K, V>()
  private sets = 0

  get(key: K): V | undefined {
    return this.table.get(key)
  }

  set(key: K, value: V): void {
    if (++this.sets > WEAK_CACHE_TABLE_SETS) {
      this.table = new WeakMap()
      this.sets = 1
    }
    this.table.set(key, value)
  }
}
