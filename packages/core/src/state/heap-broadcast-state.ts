import type { BroadcastState, ReadOnlyBroadcastState } from '../api/broadcast-state.js'
import type { Key, MapStateDescriptor } from '../api/state.js'
import { IllegalStateError, SerializationError, SluiceError, UnsupportedVersionError } from '../errors.js'
import type { VersionedItem } from '../runtime/stream-operator.js'
import { decodeValue, encodeValue } from './codec.js'
import { normalizeKey } from './key-groups.js'

/**
 * Layout version of one broadcast state in a checkpoint. Layout 1: the CBOR map
 * `{ serializerVersion, entries: [[userKey, value], ...] }`, where `value` is the descriptor
 * serializer's bytes when `serializerVersion > 0`, or the value itself (CBOR codec) when it is 0.
 */
export const BROADCAST_STATE_FORMAT_VERSION = 1

/**
 * {@link BroadcastState} on the heap: one `Map` per descriptor and operator subtask (Flink's
 * `HeapBroadcastState`). Used by the broadcast operators' task only, never concurrently.
 */
export class HeapBroadcastState<K, V> implements BroadcastState<K, V> {
  private readonly items = new Map<unknown, [K, V]>()
  /** The read-only view handed to `processElement` and `onTimer`; one per state, not one per call. */
  readonly readOnly: ReadOnlyBroadcastState<K, V>

  constructor(
    readonly descriptor: MapStateDescriptor<K, V>,
    /** e.g. `operator 'enrich' (2/4)`, for error messages. */
    readonly owner: string,
  ) {
    this.readOnly = new ReadOnlyBroadcastStateView(this)
  }

  get name(): string {
    return this.descriptor.name
  }

  get size(): number {
    return this.items.size
  }

  get(key: K): V | undefined {
    return this.items.get(itemKeyOf(key))?.[1]
  }

  contains(key: K): boolean {
    return this.items.has(itemKeyOf(key))
  }

  put(key: K, value: V): void {
    this.items.set(itemKeyOf(key), [key, value])
  }

  putAll(entries: Iterable<readonly [K, V]>): void {
    for (const [key, value] of entries) this.put(key, value)
  }

  remove(key: K): void {
    this.items.delete(itemKeyOf(key))
  }

  clear(): void {
    this.items.clear()
  }

  isEmpty(): boolean {
    return this.items.size === 0
  }

  *entries(): IterableIterator<[K, V]> {
    for (const item of this.items.values()) yield [item[0], item[1]]
  }

  *keys(): IterableIterator<K> {
    for (const item of this.items.values()) yield item[0]
  }

  *values(): IterableIterator<V> {
    for (const item of this.items.values()) yield item[1]
  }

  /**
   * The state as one checkpoint item (see {@link BROADCAST_STATE_FORMAT_VERSION}).
   *
   * @throws SerializationError naming the state and the key when a value cannot be written.
   */
  snapshot(): VersionedItem {
    const serializer = this.descriptor.serializer
    const entries: unknown[] = []
    for (const [key, value] of this.items.values()) {
      let stored: unknown = value
      if (serializer !== undefined) {
        try {
          stored = serializer.serialize(value)
        } catch (error) {
          throw this.serializationError(`the serializer (version ${serializer.version}) failed on the value of key ${describe(key)}`, error)
        }
      }
      entries.push([key, stored])
    }
    let bytes: Uint8Array
    try {
      bytes = encodeValue({ serializerVersion: serializer?.version ?? 0, entries })
    } catch (error) {
      throw this.serializationError('cannot encode its entries with the CBOR codec (give the descriptor a serializer, or store plain data)', error)
    }
    return { version: BROADCAST_STATE_FORMAT_VERSION, bytes }
  }

  /**
   * Replaces the entries with those of a checkpoint item written by {@link snapshot}.
   *
   * @throws UnsupportedVersionError for a newer layout or serializer version than this code knows.
   * @throws SerializationError for bytes that cannot be read.
   */
  restore(item: VersionedItem, where: string): void {
    const what = `broadcast state '${this.name}' of ${this.owner}`
    if (item.version > BROADCAST_STATE_FORMAT_VERSION) throw new UnsupportedVersionError(what, item.version, BROADCAST_STATE_FORMAT_VERSION, where)
    let decoded: unknown
    try {
      decoded = decodeValue(item.bytes)
    } catch (error) {
      throw new SerializationError(`${what} in ${where}`, `cannot be read: ${messageOf(error)}`, { cause: error })
    }
    const record = decoded as { serializerVersion?: unknown; entries?: unknown }
    if (typeof record !== 'object' || record === null || typeof record.serializerVersion !== 'number' || !Array.isArray(record.entries)) {
      throw new SerializationError(`${what} in ${where}`, 'expected { serializerVersion, entries }')
    }
    const serializerVersion = record.serializerVersion
    const serializer = this.descriptor.serializer
    if (serializerVersion > 0) {
      if (serializer === undefined) {
        throw new SerializationError(`${what} in ${where}`, `was written by a serializer (version ${serializerVersion}), but the descriptor now has none`)
      }
      if (serializerVersion > serializer.version) throw new UnsupportedVersionError(`values of ${what}`, serializerVersion, serializer.version, where)
    }
    this.items.clear()
    for (const entry of record.entries) {
      if (!Array.isArray(entry) || entry.length !== 2) throw new SerializationError(`${what} in ${where}`, 'expected [key, value] entries')
      const key = entry[0] as K
      let value = entry[1] as V
      if (serializerVersion > 0 && serializer !== undefined) {
        try {
          value = serializer.deserialize(serializerVersion, entry[1] as Uint8Array)
        } catch (error) {
          if (SluiceError.isInstance(error) && !SerializationError.isInstance(error)) throw error
          throw new SerializationError(`${what} in ${where}`, `cannot read the value of key ${describe(key)}: ${messageOf(error)}`, { cause: error })
        }
      }
      this.items.set(itemKeyOf(key), [key, value])
    }
  }

  private serializationError(message: string, cause: unknown): SerializationError {
    return new SerializationError(`broadcast state '${this.name}' of ${this.owner}`, `${message}: ${messageOf(cause)}`, { cause })
  }
}

/** Reads go to the state; writes throw. What `processElement` and `onTimer` get. */
class ReadOnlyBroadcastStateView<K, V> implements ReadOnlyBroadcastState<K, V> {
  constructor(private readonly state: HeapBroadcastState<K, V>) {}
  get size(): number {
    return this.state.size
  }
  get(key: K): V | undefined {
    return this.state.get(key)
  }
  contains(key: K): boolean {
    return this.state.contains(key)
  }
  entries(): IterableIterator<[K, V]> {
    return this.state.entries()
  }
  keys(): IterableIterator<K> {
    return this.state.keys()
  }
  values(): IterableIterator<V> {
    return this.state.values()
  }
  isEmpty(): boolean {
    return this.state.isEmpty()
  }
  // Not part of the type: for JavaScript callers and casts, a write is a clear error instead of a silent divergence.
  put(): never {
    throw this.readOnlyError('put')
  }
  putAll(): never {
    throw this.readOnlyError('putAll')
  }
  remove(): never {
    throw this.readOnlyError('remove')
  }
  clear(): never {
    throw this.readOnlyError('clear')
  }
  private readOnlyError(method: string): IllegalStateError {
    return new IllegalStateError(
      `broadcast state '${this.state.name}' of ${this.state.owner} is read-only here: ${method}() was called from processElement or onTimer; ` +
        'only processBroadcastElement may modify broadcast state (so that every subtask keeps the same copy)',
    )
  }
}

/** Arrays of primitives compare by value (composite keys); everything else as a `Map` compares it. */
function itemKeyOf(key: unknown): unknown {
  return Array.isArray(key) ? normalizeKey(key as Key) : key
}

function describe(key: unknown): string {
  const text = typeof key === 'string' ? JSON.stringify(key) : typeof key === 'bigint' ? `${key}n` : Array.isArray(key) ? `[${key.map(String).join(', ')}]` : String(key)
  return text.length > 120 ? `${text.slice(0, 117)}...` : text
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
