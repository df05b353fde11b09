import type { Key, MapState } from '../api/state.js'
import { AbstractHeapState, StateEntry, type StoredEntry } from './abstract-heap-state.js'
import { type NormalizedKey, normalizeKey } from './key-groups.js'

/** One user entry of a map state, with its own TTL clock. */
class MapItem<K, V> {
  readonly key: K
  value: V
  timestamp: number
  constructor(key: K, value: V, timestamp: number) {
    this.key = key
    this.value = value
    this.timestamp = timestamp
  }
}

type ItemMap<K, V> = Map<unknown, MapItem<K, V>>

/**
 * {@link MapState} on the heap: one JavaScript `Map` per key.
 *
 * User keys are compared like `Map` keys (primitives by value), except arrays of primitives, which are
 * compared by value as composite keys; other objects compare by identity, which a restore does not
 * keep, so use primitives or arrays of primitives. The descriptor's serializer writes the values; the
 * user keys always go through the CBOR codec.
 *
 * With a TTL every user entry has its own clock, as in Flink: `put` restarts it, and with
 * `OnReadAndWrite` so does every read of the entry (`get`, `contains`, iteration). Reading an expired
 * user entry removes it (returning it that once with `ReturnExpiredIfNotCleanedUp`). A key whose last
 * user entry is removed or expires has no entry at all. Iterators walk the map of the key that was
 * current when they were created.
 */
export class HeapMapState<K, V> extends AbstractHeapState<ItemMap<K, V>, V> implements MapState<K, V> {
  get(key: K): V | undefined {
    const item = this.readItem(key)
    return item === undefined ? undefined : item.value
  }

  put(key: K, value: V): void {
    this.putItem(this.currentItems(), key, value, this.ttl === undefined ? 0 : this.ttl.clock())
  }

  putAll(entries: Iterable<readonly [K, V]>): void {
    // The key's map is created on the first entry: a key never has an empty map.
    let items: ItemMap<K, V> | undefined
    const timestamp = this.ttl === undefined ? 0 : this.ttl.clock()
    for (const [key, value] of entries) {
      items ??= this.currentItems()
      this.putItem(items, key, value, timestamp)
    }
  }

  remove(key: K): void {
    const normalizedKey = this.currentKey()
    const entry = this.lookup(normalizedKey)
    if (entry === undefined) return
    entry.value.delete(mapKeyOf(key))
    if (entry.value.size === 0) this.removeEntry(normalizedKey)
  }

  contains(key: K): boolean {
    return this.readItem(key) !== undefined
  }

  entries(): IterableIterator<[K, V]> {
    return this.iterate((item) => [item.key, item.value] as [K, V])
  }

  keys(): IterableIterator<K> {
    return this.iterate((item) => item.key)
  }

  values(): IterableIterator<V> {
    return this.iterate((item) => item.value)
  }

  isEmpty(): boolean {
    const normalizedKey = this.currentKey()
    const entry = this.lookup(normalizedKey)
    if (entry === undefined) return true
    if (this.ttl === undefined || this.ttl.returnExpired) return false
    const now = this.ttl.clock()
    for (const item of entry.value.values()) {
      if (!this.ttl.isExpired(item.timestamp, now)) return false
    }
    return true
  }

  private currentItems(): ItemMap<K, V> {
    const normalizedKey = this.currentKey()
    let entry = this.lookup(normalizedKey)
    if (entry === undefined) {
      entry = new StateEntry(this.context.key as Key, new Map(), 0)
      this.putEntry(normalizedKey, entry)
    }
    return entry.value
  }

  private putItem(items: ItemMap<K, V>, key: K, value: V, timestamp: number): void {
    const mapKey = mapKeyOf(key)
    const item = items.get(mapKey)
    if (item === undefined) {
      items.set(mapKey, new MapItem(key, value, timestamp))
    } else {
      item.value = value
      item.timestamp = timestamp
    }
  }

  /** The item of a user key of the current key, applying TTL the way `readEntry` does for whole entries. */
  private readItem(key: K): MapItem<K, V> | undefined {
    const normalizedKey = this.currentKey()
    const entry = this.lookup(normalizedKey)
    if (entry === undefined) return undefined
    const mapKey = mapKeyOf(key)
    const item = entry.value.get(mapKey)
    if (item === undefined || this.ttl === undefined) return item
    const now = this.ttl.clock()
    if (this.ttl.isExpired(item.timestamp, now)) {
      entry.value.delete(mapKey)
      if (entry.value.size === 0) this.removeEntry(normalizedKey)
      return this.ttl.returnExpired ? item : undefined
    }
    if (this.ttl.updateOnRead) item.timestamp = now
    return item
  }

  private *iterate<R>(project: (item: MapItem<K, V>) => R): Generator<R, undefined, unknown> {
    const normalizedKey = this.currentKey()
    const entry = this.lookup(normalizedKey)
    if (entry === undefined) return undefined
    const items = entry.value
    const ttl = this.ttl
    if (ttl === undefined) {
      for (const item of items.values()) yield project(item)
      return undefined
    }
    const now = ttl.clock()
    for (const [mapKey, item] of items) {
      if (ttl.isExpired(item.timestamp, now)) {
        items.delete(mapKey)
        if (ttl.returnExpired) yield project(item)
        continue
      }
      if (ttl.updateOnRead) item.timestamp = now
      yield project(item)
    }
    if (items.size === 0 && this.lookup(normalizedKey) === entry) this.removeEntry(normalizedKey)
    return undefined
  }

  // ---- checkpointing: the payload of a key is [[userKey, value(, timestamp)], ...] ----

  override isVisible(entry: StateEntry<ItemMap<K, V>>, now: number): boolean {
    if (this.ttl === undefined || this.ttl.returnExpired) return entry.value.size > 0
    for (const item of entry.value.values()) {
      if (!this.ttl.isExpired(item.timestamp, now)) return true
    }
    return false
  }

  override snapshotEntry(normalizedKey: NormalizedKey, entry: StateEntry<ItemMap<K, V>>, now: number): StoredEntry | undefined {
    const ttl = this.ttl
    if (ttl !== undefined) {
      for (const [mapKey, item] of entry.value) {
        if (ttl.isExpired(item.timestamp, now)) entry.value.delete(mapKey)
      }
    }
    if (entry.value.size === 0) {
      this.removeEntry(normalizedKey)
      return undefined
    }
    return [entry.key, this.encodeStored(entry.value)]
  }

  protected encodeStored(items: ItemMap<K, V>): unknown {
    const stored: unknown[] = []
    for (const item of items.values()) {
      const value = this.encodeElement(item.value)
      stored.push(this.ttl === undefined ? [item.key, value] : [item.key, value, item.timestamp])
    }
    return stored
  }

  protected decodeStored(payload: unknown, serializerVersion: number, storedWithTtl: boolean, now: number): ItemMap<K, V> {
    if (!Array.isArray(payload)) throw this.malformed(`expected the entries of a map, got ${typeof payload}`)
    const items: ItemMap<K, V> = new Map()
    for (const storedItem of payload) {
      if (!Array.isArray(storedItem) || storedItem.length < 2) throw this.malformed('expected a [key, value] map entry')
      const userKey = storedItem[0] as K
      const value = this.decodeElement(storedItem[1], serializerVersion)
      const storedTimestamp = storedWithTtl ? storedItem[2] : undefined
      const timestamp = this.ttl === undefined ? 0 : typeof storedTimestamp === 'number' ? storedTimestamp : now
      items.set(mapKeyOf(userKey), new MapItem(userKey, value, timestamp))
    }
    return items
  }
}

/** Arrays of primitives compare by value (as composite keys); everything else as a `Map` compares it. */
function mapKeyOf(key: unknown): unknown {
  return Array.isArray(key) ? normalizeKey(key as Key) : key
}
