import type {
  AggregatingState,
  AggregatingStateDescriptor,
  Key,
  ListState,
  ListStateDescriptor,
  MapState,
  MapStateDescriptor,
  ReducingState,
  ReducingStateDescriptor,
  ValueState,
  ValueStateDescriptor,
} from '../api/state.js'
import { ConfigError, IllegalStateError, SerializationError, SluiceError } from '../errors.js'
import type { AbstractHeapState, HeapStateDescriptor, StoredEntry } from './abstract-heap-state.js'
import { HeapAggregatingState } from './heap-aggregating-state.js'
import { HeapListState } from './heap-list-state.js'
import { HeapMapState } from './heap-map-state.js'
import { HeapReducingState } from './heap-reducing-state.js'
import { HeapValueState } from './heap-value-state.js'
import { KeyContext } from './key-context.js'
import {
  type KeyGroupContents,
  type KeyGroupSnapshot,
  readKeyGroupSnapshot,
  type StoredState,
  writeKeyGroupSnapshot,
} from './key-group-snapshot.js'
import { assignToKeyGroup, type KeyGroupRange, keyGroupRangeContains, normalizeKey, validateMaxParallelism } from './key-groups.js'
import { encodeValue } from './codec.js'
import { TimerQueue } from './timer-queue.js'

export type { KeyGroupSnapshot } from './key-group-snapshot.js'

/** The clock a timer fires on: the watermark (`EVENT_TIME`) or the wall clock (`PROCESSING_TIME`). */
export type TimeDomain = 'EVENT_TIME' | 'PROCESSING_TIME'

export interface HeapKeyedStateBackendOptions {
  /** The job's number of key groups; must be the same for every run that restores this state. */
  readonly maxParallelism: number
  /** The key groups this subtask owns (see `keyGroupRangeForSubtask`). */
  readonly keyGroupRange: KeyGroupRange
  /** Names the operator subtask in error messages, e.g. `operator 'sum' (2/4)`. */
  readonly owner: string
  /** Processing time for state TTL, in milliseconds. Default `Date.now`. */
  readonly clock?: () => number
}

type AnyHeapState = AbstractHeapState<unknown, unknown>

/** A restored state's entries of one key group, kept as read until a descriptor asks for the state. */
interface PendingChunk extends StoredState {
  readonly keyGroup: number
}

/** A key group's contents while a snapshot is being built. */
interface GroupBuilder {
  readonly states: Map<string, StoredState>
  readonly eventTimers: unknown[]
  readonly processingTimers: unknown[]
}

/**
 * The keyed state and timers of one keyed operator subtask, held on the JavaScript heap (Flink's
 * `HeapKeyedStateBackend`).
 *
 * Lifecycle, all on the task that owns the subtask, never concurrently:
 *   new → restore(snapshots)? → getState…(descriptor)* in `open` → per record or timer:
 *   setCurrentKey(key), then state reads/writes and timer (de)registration for that key →
 *   snapshot() between records at each checkpoint.
 *
 * State objects are bound to the backend, not to a key: each call reads or writes the entry of the key
 * that is current at call time. Entries and timers are grouped by key group in checkpoints, so they can
 * be restored into any parallelism with the same `maxParallelism`.
 */
export class HeapKeyedStateBackend {
  readonly maxParallelism: number
  readonly keyGroupRange: KeyGroupRange
  readonly owner: string
  private readonly clock: () => number
  private readonly context = new KeyContext()
  private readonly states = new Map<string, AnyHeapState>()
  /** Restored states no descriptor has asked for yet: their values can only be read with its serializer. */
  private readonly pending = new Map<string, PendingChunk[]>()
  private readonly eventTimers = new TimerQueue()
  private readonly processingTimers = new TimerQueue()
  private restoreCalled = false

  constructor(options: HeapKeyedStateBackendOptions) {
    validateMaxParallelism(options.maxParallelism)
    const range = options.keyGroupRange
    if (
      range === undefined ||
      !Number.isInteger(range.start) ||
      !Number.isInteger(range.end) ||
      range.start < 0 ||
      range.start > range.end ||
      range.end >= options.maxParallelism
    ) {
      throw new ConfigError(
        'keyGroupRange',
        `${options.owner}: expected { start, end } with 0 <= start <= end < maxParallelism (${options.maxParallelism}), got ${JSON.stringify(range)}`,
      )
    }
    this.maxParallelism = options.maxParallelism
    this.keyGroupRange = { start: range.start, end: range.end }
    this.owner = options.owner
    this.clock = options.clock ?? Date.now
  }

  /**
   * Makes `key` the key that state accesses and timer registrations apply to. Called once per record:
   * it only stores the key and its normalized form (no hashing).
   *
   * @throws IllegalStateError when `key` is not a {@link Key}.
   */
  setCurrentKey(key: Key): void {
    this.context.normalizedKey = normalizeKey(key)
    this.context.key = key
  }

  /** @throws IllegalStateError before the first `setCurrentKey`. */
  getCurrentKey(): Key {
    const key = this.context.key
    if (key === undefined) throw new IllegalStateError(`${this.owner}: there is no current key (no keyed record or timer is being processed)`)
    return key
  }

  getState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T> {
    return this.register(descriptor, () => new HeapValueState(descriptor, this.context, this.owner, this.clock))
  }

  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T> {
    return this.register(descriptor, () => new HeapListState<T>(descriptor, this.context, this.owner, this.clock))
  }

  getMapState<K, V>(descriptor: MapStateDescriptor<K, V>): MapState<K, V> {
    return this.register(descriptor, () => new HeapMapState<K, V>(descriptor, this.context, this.owner, this.clock))
  }

  getReducingState<T>(descriptor: ReducingStateDescriptor<T>): ReducingState<T> {
    return this.register(descriptor, () => new HeapReducingState(descriptor, this.context, this.owner, this.clock))
  }

  getAggregatingState<In, Acc, Out>(descriptor: AggregatingStateDescriptor<In, Acc, Out>): AggregatingState<In, Out> {
    return this.register(descriptor, () => new HeapAggregatingState(descriptor, this.context, this.owner, this.clock))
  }

  /** Registers a timer for the current key; registering the same (key, timestamp) again is a no-op. */
  registerTimer(domain: TimeDomain, timestamp: number): void {
    this.checkTimestamp(timestamp)
    const normalizedKey = this.context.normalizedKey
    if (normalizedKey === undefined) throw this.noCurrentKey('register a timer')
    this.timerQueue(domain).add(this.context.key as Key, normalizedKey, timestamp)
  }

  /** Deletes the current key's timer at `timestamp`, if there is one. */
  deleteTimer(domain: TimeDomain, timestamp: number): void {
    const normalizedKey = this.context.normalizedKey
    if (normalizedKey === undefined) throw this.noCurrentKey('delete a timer')
    this.timerQueue(domain).delete(normalizedKey, timestamp)
  }

  /** The earliest registered timestamp of a domain, or `undefined` when it has no timers. */
  nextTimerTimestamp(domain: TimeDomain): number | undefined {
    return this.timerQueue(domain).peekTimestamp()
  }

  /**
   * Removes and returns the timers with `timestamp <= upToInclusive`, earliest first (equal timestamps
   * in registration order). The caller sets each timer's key current before firing it.
   */
  pollTimers(domain: TimeDomain, upToInclusive: number): Array<{ timestamp: number; key: Key }> {
    return this.timerQueue(domain).pollUpTo(upToInclusive)
  }

  /**
   * Fires the timers of `domain` at or before `upToInclusive` as Flink's timer queue does: in timestamp
   * order, one timestamp at a time, each with its key made current before `fire(timestamp)`. A timer
   * that `fire` registers and that is already due fires in the same call, before any later one; a
   * later one that `fire` deletes does not fire. Called by operators on a watermark or a wake-up.
   */
  fireTimers(domain: TimeDomain, upToInclusive: number, fire: (timestamp: number) => void): void {
    const queue = this.timerQueue(domain)
    for (let next = queue.peekTimestamp(); next !== undefined && next <= upToInclusive; next = queue.peekTimestamp()) {
      for (const timer of queue.pollUpTo(next)) {
        this.setCurrentKey(timer.key)
        fire(timer.timestamp)
      }
    }
  }

  /**
   * The keys that have a visible entry in a state (for applying a function to all keys). Works for
   * restored states no descriptor has asked for yet too, without TTL filtering (only the descriptor
   * knows the TTL); an unknown name has no keys.
   */
  keys(stateName: string): Key[] {
    const keys: Key[] = []
    const state = this.states.get(stateName)
    if (state !== undefined) {
      const now = this.clock()
      for (const entry of state.table.values()) {
        if (state.isVisible(entry, now)) keys.push(entry.key)
      }
      return keys
    }
    for (const chunk of this.pending.get(stateName) ?? []) {
      for (const stored of chunk.entries) keys.push(stored[0] as Key)
    }
    return keys
  }

  /**
   * Writes all state and timers into one snapshot per non-empty key group of the range, in key-group
   * order. Values are serialized now (the descriptor's serializer, or the CBOR codec), so the result
   * does not change when the state does afterwards. Entries whose TTL has expired are left out and
   * removed. Restored states that no descriptor has asked for are carried over as they were read.
   *
   * @throws SerializationError naming the state and key when a value cannot be serialized.
   * @throws IllegalStateError when a key outside this subtask's key groups has state (a routing bug).
   */
  snapshot(): KeyGroupSnapshot[] {
    const now = this.clock()
    const groups = new Map<number, GroupBuilder>()
    const groupFor = (keyGroup: number): GroupBuilder => {
      let group = groups.get(keyGroup)
      if (group === undefined) {
        group = { states: new Map(), eventTimers: [], processingTimers: [] }
        groups.set(keyGroup, group)
      }
      return group
    }

    for (const state of this.states.values()) {
      const serializerVersion = state.serializer?.version ?? 0
      const ttl = state.ttl !== undefined
      for (const [normalizedKey, entry] of state.table) {
        let stored: StoredEntry | undefined
        try {
          stored = state.snapshotEntry(normalizedKey, entry, now)
        } catch (error) {
          throw asSerializationError(state.label, `cannot serialize the value of key ${describeKey(entry.key)}`, error)
        }
        if (stored === undefined) continue
        const group = groupFor(this.ownedKeyGroup(entry.key))
        let record = group.states.get(state.name)
        if (record === undefined) {
          record = { name: state.name, kind: state.kind, serializerVersion, ttl, entries: [] }
          group.states.set(state.name, record)
        }
        record.entries.push(stored)
      }
    }

    for (const chunks of this.pending.values()) {
      for (const { keyGroup, ...record } of chunks) groupFor(keyGroup).states.set(record.name, record)
    }

    for (const timer of this.eventTimers.toSortedArray()) {
      groupFor(this.ownedKeyGroup(timer.key)).eventTimers.push(timer.key, timer.timestamp)
    }
    for (const timer of this.processingTimers.toSortedArray()) {
      groupFor(this.ownedKeyGroup(timer.key)).processingTimers.push(timer.key, timer.timestamp)
    }

    const snapshots: KeyGroupSnapshot[] = []
    for (const keyGroup of [...groups.keys()].sort((a, b) => a - b)) {
      const group = groups.get(keyGroup) as GroupBuilder
      const contents: KeyGroupContents = {
        states: [...group.states.values()],
        eventTimers: group.eventTimers,
        processingTimers: group.processingTimers,
      }
      try {
        snapshots.push(writeKeyGroupSnapshot(keyGroup, contents))
      } catch (error) {
        throw this.explainEncodingFailure(contents, error)
      }
    }
    return snapshots
  }

  /**
   * Loads the key groups of a checkpoint. Called at most once, before any state is asked for. Timers
   * are restored at once; state values are decoded when a descriptor first asks for their state, because
   * only the descriptor knows the serializer.
   *
   * @throws IllegalStateError for a key group outside this subtask's range, or given twice.
   * @throws UnsupportedVersionError for a snapshot layout newer than this code.
   * @throws SerializationError for bytes that are not a key-group snapshot, or a key that does not hash
   *   to the key group it was stored under.
   */
  restore(snapshots: Iterable<KeyGroupSnapshot>): void {
    if (this.restoreCalled) throw new IllegalStateError(`${this.owner}: restore was called twice; call it once, before any state is used`)
    if (this.states.size > 0 || this.eventTimers.size > 0 || this.processingTimers.size > 0) {
      throw new IllegalStateError(`${this.owner}: restore was called after state or timers were used; call it before getState`)
    }
    this.restoreCalled = true
    const { start, end } = this.keyGroupRange
    const seen = new Set<number>()
    for (const snapshot of snapshots) {
      const keyGroup = snapshot.keyGroup
      if (!Number.isInteger(keyGroup) || !keyGroupRangeContains(this.keyGroupRange, keyGroup)) {
        throw new IllegalStateError(
          `${this.owner}: cannot restore key group ${keyGroup}: this subtask owns key groups ${start}..${end}; ` +
            'key-group snapshots must be routed to the subtask whose range contains them',
        )
      }
      if (seen.has(keyGroup)) throw new IllegalStateError(`${this.owner}: key group ${keyGroup} was given to restore twice`)
      seen.add(keyGroup)

      const contents = readKeyGroupSnapshot(snapshot, this.owner)
      for (const state of contents.states) {
        for (const stored of state.entries) this.checkStoredKey(stored[0], keyGroup)
        let chunks = this.pending.get(state.name)
        if (chunks === undefined) {
          chunks = []
          this.pending.set(state.name, chunks)
        }
        chunks.push({ ...state, keyGroup })
      }
      this.restoreTimers(this.eventTimers, contents.eventTimers, keyGroup)
      this.restoreTimers(this.processingTimers, contents.processingTimers, keyGroup)
    }
  }

  private register<S extends AnyHeapState>(descriptor: HeapStateDescriptor<unknown>, create: () => S): S {
    const existing = this.states.get(descriptor.name)
    if (existing !== undefined) {
      if (existing.kind !== descriptor.kind) {
        throw new IllegalStateError(
          `${existing.label} is already registered as ${existing.kind} state and cannot also be used as ${descriptor.kind} state; ` +
            'give each state its own name',
        )
      }
      return existing as S
    }
    if (typeof descriptor.name !== 'string' || descriptor.name.length === 0) {
      throw new ConfigError('name', `${this.owner}: a keyed state descriptor needs a non-empty name`)
    }
    const version = descriptor.serializer?.version
    if (version !== undefined && !(Number.isInteger(version) && version >= 1)) {
      throw new ConfigError('serializer.version', `keyed state '${descriptor.name}' of ${this.owner}: expected a positive integer, got ${version}`)
    }
    const state = create()
    this.restorePending(state)
    this.states.set(state.name, state)
    return state
  }

  private restorePending(state: AnyHeapState): void {
    const chunks = this.pending.get(state.name)
    if (chunks === undefined) return
    const now = this.clock()
    for (const chunk of chunks) {
      if (chunk.kind !== state.kind) {
        throw new IllegalStateError(
          `${state.label}: the checkpoint holds it as ${chunk.kind} state, but it is now asked for as ${state.kind} state`,
        )
      }
      state.checkReadable(chunk.serializerVersion)
      for (const stored of chunk.entries) {
        try {
          state.restoreEntry(stored, chunk.serializerVersion, chunk.ttl, now)
        } catch (error) {
          throw asSerializationError(
            state.label,
            `cannot restore the value of key ${describeKey(stored[0] as Key)} (key group ${chunk.keyGroup})`,
            error,
          )
        }
      }
    }
    this.pending.delete(state.name)
  }

  private restoreTimers(queue: TimerQueue, pairs: unknown[], keyGroup: number): void {
    for (let index = 0; index < pairs.length; index += 2) {
      const key = pairs[index]
      const timestamp = pairs[index + 1]
      if (typeof timestamp !== 'number' || Number.isNaN(timestamp)) {
        throw new SerializationError(`keyed state of key group ${keyGroup} for ${this.owner}`, `malformed timer timestamp ${String(timestamp)}`)
      }
      queue.add(key as Key, this.checkStoredKey(key, keyGroup), timestamp)
    }
  }

  /** Checks that a restored key is a key and hashes to the group it was stored under; returns it normalized. */
  private checkStoredKey(key: unknown, keyGroup: number) {
    const what = `keyed state of key group ${keyGroup} for ${this.owner}`
    let normalized: ReturnType<typeof normalizeKey>
    try {
      normalized = normalizeKey(key as Key)
    } catch (error) {
      throw new SerializationError(what, `malformed key: ${(error as Error).message}`, { cause: error })
    }
    const actual = assignToKeyGroup(key as Key, this.maxParallelism)
    if (actual !== keyGroup) {
      throw new SerializationError(
        what,
        `key ${describeKey(key as Key)} belongs to key group ${actual}, not ${keyGroup}: the checkpoint was written ` +
          'with another maxParallelism or key hash, or is corrupted',
      )
    }
    return normalized
  }

  private ownedKeyGroup(key: Key): number {
    const keyGroup = assignToKeyGroup(key, this.maxParallelism)
    if (!keyGroupRangeContains(this.keyGroupRange, keyGroup)) {
      throw new IllegalStateError(
        `${this.owner}: key ${describeKey(key)} belongs to key group ${keyGroup}, outside this subtask's key groups ` +
          `${this.keyGroupRange.start}..${this.keyGroupRange.end}; its records were routed to the wrong subtask`,
      )
    }
    return keyGroup
  }

  private timerQueue(domain: TimeDomain): TimerQueue {
    if (domain === 'EVENT_TIME') return this.eventTimers
    if (domain === 'PROCESSING_TIME') return this.processingTimers
    throw new IllegalStateError(`${this.owner}: unknown time domain '${String(domain)}'; expected 'EVENT_TIME' or 'PROCESSING_TIME'`)
  }

  private checkTimestamp(timestamp: number): void {
    if (typeof timestamp !== 'number' || Number.isNaN(timestamp)) {
      throw new IllegalStateError(`${this.owner}: a timer timestamp must be a number, got ${String(timestamp)}`)
    }
  }

  private noCurrentKey(action: string): IllegalStateError {
    return new IllegalStateError(`${this.owner}: cannot ${action} without a current key (timers are only available while a keyed record or timer is processed)`)
  }

  /** Finds which state and key a key group failed on, to name them (the codec error alone cannot). */
  private explainEncodingFailure(contents: KeyGroupContents, error: unknown): unknown {
    for (const record of contents.states) {
      for (const stored of record.entries) {
        try {
          encodeValue(stored)
        } catch (entryError) {
          return asSerializationError(
            `keyed state '${record.name}' of ${this.owner}`,
            `cannot encode the value of key ${describeKey(stored[0] as Key)} with the CBOR codec (give the descriptor a serializer, or store plain data)`,
            entryError,
          )
        }
      }
    }
    return error
  }
}

function asSerializationError(what: string, message: string, error: unknown): SluiceError {
  if (SluiceError.isInstance(error) && !SerializationError.isInstance(error)) return error
  const reason = error instanceof Error ? error.message : String(error)
  return new SerializationError(what, `${message}: ${reason}`, { cause: error })
}

/** A key as it reads in an error message, cut to a sane length. */
function describeKey(key: Key): string {
  const element = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : typeof value === 'bigint' ? `${value}n` : String(value))
  const text = Array.isArray(key) ? `[${key.map(element).join(', ')}]` : element(key)
  return text.length > 120 ? `${text.slice(0, 117)}...` : text
}
