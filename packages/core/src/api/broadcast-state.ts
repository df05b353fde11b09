/**
 * The view of a broadcast state that the non-broadcast side of a broadcast connection gets
 * (`processElement` and `onTimer` of a {@link BroadcastProcessFunction} or
 * {@link KeyedBroadcastProcessFunction}): Flink's `ReadOnlyBroadcastState`.
 *
 * Broadcast state is a map per {@link MapStateDescriptor} given to `stream.broadcast(...)`. It is not
 * keyed: every parallel subtask holds its own copy, and since every subtask sees the same broadcast
 * elements, the copies stay equal as long as `processBroadcastElement` updates them deterministically
 * from the element alone. Only the broadcast side may write it; the non-broadcast side only reads,
 * because records of that side differ per subtask and writes there would make the copies diverge.
 *
 * Access is synchronous and happens on the subtask's own task loop, never concurrently. User keys
 * compare like `Map` keys (primitives by value, `null` allowed), except arrays of primitives, which
 * compare by value as composite keys. Iteration order is insertion order on this subtask; it may differ
 * between subtasks (the seed's note 3) and after a restore.
 */
export interface ReadOnlyBroadcastState<K, V> {
  /** The value of `key`, or `undefined`. */
  get(key: K): V | undefined
  contains(key: K): boolean
  /** Fresh `[key, value]` pairs: changing one does not change the state (Flink's `immutableEntries`). */
  entries(): IterableIterator<[K, V]>
  keys(): IterableIterator<K>
  values(): IterableIterator<V>
  isEmpty(): boolean
  /** Number of entries. */
  readonly size: number
}

/**
 * The full view of a broadcast state, given to `processBroadcastElement` only: Flink's `BroadcastState`.
 *
 * Writes must depend only on the broadcast element (and the state itself), never on subtask-local data,
 * or the copies of the subtasks diverge — and on restore at another parallelism only one copy is kept.
 * Values are stored as given (not copied); checkpoints serialize them with the descriptor's serializer,
 * or the CBOR codec when it has none.
 */
export interface BroadcastState<K, V> extends ReadOnlyBroadcastState<K, V> {
  put(key: K, value: V): void
  putAll(entries: Iterable<readonly [K, V]>): void
  remove(key: K): void
  clear(): void
}
