import type { SimpleVersionedSerializer } from '../api/serializer.js'
import type { AnyStateDescriptor, Key, StateTtlConfig } from '../api/state.js'
import { IllegalStateError, SerializationError, UnsupportedVersionError } from '../errors.js'
import type { KeyContext } from './key-context.js'
import { isDenseKey, type NormalizedKey, normalizeKey } from './key-groups.js'
import { TtlPolicy } from './state-ttl.js'

/** The kinds of keyed state, as the descriptors name them. */
export type StateKind = AnyStateDescriptor['kind']

/**
 * The value one state holds for one key. `timestamp` is the processing time of the last write (or
 * read, with `OnReadAndWrite`) when the state has a TTL, and 0 otherwise; it is only written to
 * checkpoints for states with a TTL. Entries are mutated in place so that an update allocates nothing.
 */
export class StateEntry<V> {
  readonly key: Key
  value: V
  timestamp: number
  constructor(key: Key, value: V, timestamp: number) {
    this.key = key
    this.value = value
    this.timestamp = timestamp
  }
}

/** What a heap state needs of its descriptor; `Element` is the type its serializer handles. */
export interface HeapStateDescriptor<Element> {
  readonly name: string
  readonly kind: StateKind
  readonly serializer: SimpleVersionedSerializer<Element> | undefined
  readonly ttl: StateTtlConfig | undefined
}

/** A stored entry in a key-group snapshot: `[key, payload]`, or `[key, payload, timestamp]` with a TTL. */
export type StoredEntry = unknown[]

/**
 * Base of the heap state objects: one `Map` from normalized key to {@link StateEntry} per state, read
 * and written for the backend's current key at call time.
 *
 * Created by `HeapKeyedStateBackend` when a function first asks for the state (in `open`), then used
 * by the one task that owns the backend for every record; never concurrently. The backend also calls
 * the snapshot/restore methods, on the same task, between records.
 *
 * `Stored` is the in-memory value per key (a list for list state, a map for map state); `Element` is
 * what the descriptor's serializer writes (a list element, a map value, an accumulator).
 */
export abstract class AbstractHeapState<Stored, Element> {
  readonly name: string
  readonly kind: StateKind
  /** Every key's entry; expired entries stay until read (`NeverReturnExpired`) or checkpointed. */
  private readonly keyEntries = new Map<NormalizedKey, StateEntry<Stored>>()
  /**
   * The same entries again for the keys that can index an array ({@link isDenseKey}): an array load
   * instead of a hash lookup for the most common keys (ids, counters). Only an index: `keyEntries` stays
   * what snapshots iterate, and both change together in {@link putEntry} and {@link removeEntry}.
   */
  private readonly denseEntries: (StateEntry<Stored> | undefined)[] = []
  /**
   * The entry the last lookup found or stored, and its key: a read-modify-write of one key (`value()`
   * then `update()`, or records of one key in a row) looks the key up once. It is always the table's
   * entry for `cachedKey`: the table changes only through {@link putEntry} and {@link removeEntry},
   * which keep it right, and entries are otherwise only mutated in place.
   */
  private cachedKey: NormalizedKey | undefined = undefined
  private cachedEntry: StateEntry<Stored> | undefined = undefined
  readonly serializer: SimpleVersionedSerializer<Element> | undefined
  readonly ttl: TtlPolicy | undefined
  /** The operator subtask that owns the state, e.g. `operator 'sum' (2/4)`. */
  readonly owner: string
  /** Names this state in error messages. */
  readonly label: string
  protected readonly context: KeyContext

  constructor(descriptor: HeapStateDescriptor<Element>, context: KeyContext, owner: string, clock: () => number) {
    this.name = descriptor.name
    this.kind = descriptor.kind
    this.serializer = descriptor.serializer
    this.owner = owner
    this.label = `keyed state '${descriptor.name}' of ${owner}`
    this.ttl = descriptor.ttl === undefined ? undefined : new TtlPolicy(descriptor.ttl, clock, this.label)
    this.context = context
  }

  /** Every key's entry, read-only (see {@link putEntry} and {@link removeEntry} for changes). */
  get table(): ReadonlyMap<NormalizedKey, StateEntry<Stored>> {
    return this.keyEntries
  }

  /** Removes the current key's entry. */
  clear(): void {
    this.removeEntry(this.currentKey())
  }

  /** The entry of `key`, or undefined; no TTL check. */
  protected lookup(key: NormalizedKey): StateEntry<Stored> | undefined {
    // NaN never equals itself: such a key always takes the Map lookup, which matches it.
    if (key === this.cachedKey && this.cachedEntry !== undefined) return this.cachedEntry
    const entry = isDenseKey(key) ? this.denseEntries[key] : this.keyEntries.get(key)
    if (entry !== undefined) {
      this.cachedKey = key
      this.cachedEntry = entry
    }
    return entry
  }

  /** Stores `entry` as the entry of `key`, replacing any. */
  protected putEntry(key: NormalizedKey, entry: StateEntry<Stored>): void {
    this.keyEntries.set(key, entry)
    if (isDenseKey(key)) this.denseEntries[key] = entry
    this.cachedKey = key
    this.cachedEntry = entry
  }

  /** Removes the entry of `key`, if any. */
  protected removeEntry(key: NormalizedKey): void {
    this.keyEntries.delete(key)
    if (isDenseKey(key) && key < this.denseEntries.length) this.denseEntries[key] = undefined
    this.cachedKey = undefined
    this.cachedEntry = undefined
  }

  protected currentKey(): NormalizedKey {
    return this.context.normalizedKey ?? this.missingKey()
  }

  protected missingKey(): never {
    throw new IllegalStateError(`${this.label}: accessed before a current key was set (keyed state is only available while a keyed record or timer is processed)`)
  }

  /**
   * The current key's entry for a read. With a TTL, as in Flink, reading an expired entry removes it;
   * that read still returns it with `ReturnExpiredIfNotCleanedUp`, and `undefined` with
   * `NeverReturnExpired`. Reading an unexpired entry restarts its clock with `OnReadAndWrite`.
   */
  protected readEntry(): StateEntry<Stored> | undefined {
    const key = this.context.normalizedKey ?? this.missingKey()
    const entry = this.lookup(key)
    if (entry === undefined || this.ttl === undefined) return entry
    const now = this.ttl.clock()
    if (this.ttl.isExpired(entry.timestamp, now)) {
      this.removeEntry(key)
      return this.ttl.returnExpired ? entry : undefined
    }
    if (this.ttl.updateOnRead) entry.timestamp = now
    return entry
  }

  /**
   * The current key's entry for a read-modify-write (`add`): an expired entry is removed and never
   * folded into, whatever the visibility (Flink's `TtlReduceFunction` does the same).
   */
  protected readEntryForUpdate(): StateEntry<Stored> | undefined {
    const key = this.context.normalizedKey ?? this.missingKey()
    const entry = this.lookup(key)
    if (entry === undefined || this.ttl === undefined) return entry
    if (this.ttl.isExpired(entry.timestamp, this.ttl.clock())) {
      this.removeEntry(key)
      return undefined
    }
    return entry
  }

  /** Sets the current key's value and restarts its TTL clock. */
  protected writeEntry(value: Stored): void {
    const key = this.context.normalizedKey ?? this.missingKey()
    const entry = this.lookup(key)
    const timestamp = this.ttl === undefined ? 0 : this.ttl.clock()
    if (entry === undefined) {
      this.putEntry(key, new StateEntry(this.context.key as Key, value, timestamp))
    } else {
      entry.value = value
      entry.timestamp = timestamp
    }
  }

  /** Restarts the TTL clock of an entry whose value was changed in place. */
  protected touch(entry: StateEntry<Stored>): void {
    if (this.ttl !== undefined) entry.timestamp = this.ttl.clock()
  }

  // ---- checkpointing, called by the backend ----

  /**
   * Whether iteration over all keys should see this entry at `now`: with `ReturnExpiredIfNotCleanedUp`
   * an expired entry is still there until it is read or checkpointed.
   */
  isVisible(entry: StateEntry<Stored>, now: number): boolean {
    return this.ttl === undefined || this.ttl.returnExpired || !this.ttl.isExpired(entry.timestamp, now)
  }

  /**
   * The stored form of one entry for a checkpoint, or `undefined` when it has expired; expired entries
   * are removed from the table too, so a checkpoint is a full cleanup (Flink's `cleanupFullSnapshot`).
   * Values go through the descriptor's serializer now, so later mutations cannot reach the checkpoint.
   */
  snapshotEntry(normalizedKey: NormalizedKey, entry: StateEntry<Stored>, now: number): StoredEntry | undefined {
    if (this.ttl === undefined) return [entry.key, this.encodeStored(entry.value)]
    if (this.ttl.isExpired(entry.timestamp, now)) {
      this.removeEntry(normalizedKey)
      return undefined
    }
    return [entry.key, this.encodeStored(entry.value), entry.timestamp]
  }

  /**
   * Checks, before any entry is read, that values written with `serializerVersion` (0: the CBOR codec)
   * can be read by this state's descriptor.
   */
  checkReadable(serializerVersion: number): void {
    if (serializerVersion === 0) return
    if (this.serializer === undefined) {
      throw new SerializationError(
        this.label,
        `the checkpoint holds values written by a custom serializer (version ${serializerVersion}), ` +
          'but the state descriptor has none; pass the serializer that wrote them',
      )
    }
    if (serializerVersion > this.serializer.version) {
      throw new UnsupportedVersionError(`keyed state '${this.name}'`, serializerVersion, this.serializer.version, this.owner)
    }
  }

  /**
   * Adds one stored entry read from a checkpoint. A stored TTL timestamp is kept when the state still
   * has a TTL; entries restored into a state that newly has a TTL start their clock at `now`.
   */
  restoreEntry(stored: StoredEntry, serializerVersion: number, storedWithTtl: boolean, now: number): void {
    const key = stored[0] as Key
    const value = this.decodeStored(stored[1], serializerVersion, storedWithTtl, now)
    const storedTimestamp = storedWithTtl ? stored[2] : undefined
    const timestamp = this.ttl === undefined ? 0 : typeof storedTimestamp === 'number' ? storedTimestamp : now
    this.putEntry(normalizeKey(key), new StateEntry(key, value, timestamp))
  }

  /** The payload stored for one key's value. */
  protected abstract encodeStored(value: Stored): unknown
  /** The value of one key from its stored payload (`storedWithTtl`, `now`: for states with a clock per element). */
  protected abstract decodeStored(payload: unknown, serializerVersion: number, storedWithTtl: boolean, now: number): Stored

  /** One element as stored: the serializer's bytes, or the element itself for the codec (inline CBOR). */
  protected encodeElement(element: Element): unknown {
    return this.serializer === undefined ? element : this.serializer.serialize(element)
  }

  protected decodeElement(payload: unknown, serializerVersion: number): Element {
    if (serializerVersion === 0) return payload as Element
    if (!(payload instanceof Uint8Array)) {
      throw new SerializationError(this.label, `malformed checkpoint entry: expected serializer bytes, got ${typeof payload}`)
    }
    // checkReadable ran first, so a serializer exists.
    return (this.serializer as SimpleVersionedSerializer<Element>).deserialize(serializerVersion, payload)
  }

  protected malformed(what: string): SerializationError {
    return new SerializationError(this.label, `malformed checkpoint entry: ${what}`)
  }
}
