import type { SimpleVersionedSerializer } from './serializer.js'

/**
 * Keyed state: each value is scoped to the key of the record being processed. Obtained from the
 * runtime context of a function on a keyed stream, in `open`; every access reads or writes the
 * entry of the current key. Access is synchronous (state lives in the task's heap) and state is part
 * of every checkpoint, split into key groups so that it can be redistributed to another parallelism.
 */
export interface ValueState<T> {
  /** The value for the current key, or the descriptor's default (`undefined` if none). */
  value(): T | undefined
  update(value: T | undefined): void
  clear(): void
}

export interface ListState<T> {
  get(): T[]
  add(value: T): void
  addAll(values: readonly T[]): void
  update(values: readonly T[]): void
  clear(): void
}

export interface MapState<K, V> {
  get(key: K): V | undefined
  put(key: K, value: V): void
  putAll(entries: Iterable<readonly [K, V]>): void
  remove(key: K): void
  contains(key: K): boolean
  entries(): IterableIterator<[K, V]>
  keys(): IterableIterator<K>
  values(): IterableIterator<V>
  isEmpty(): boolean
  clear(): void
}

/** Folds every added value into one with a reduce function. */
export interface ReducingState<T> {
  get(): T | undefined
  add(value: T): void
  clear(): void
}

/** Folds every added value into an accumulator with an {@link AggregateFunction}. */
export interface AggregatingState<In, Out> {
  get(): Out | undefined
  add(value: In): void
  clear(): void
}

/** Incremental aggregation: Flink's AggregateFunction. */
export interface AggregateFunction<In, Acc, Out> {
  createAccumulator(): Acc
  add(value: In, accumulator: Acc): Acc
  getResult(accumulator: Acc): Out
  merge(a: Acc, b: Acc): Acc
}

/**
 * Time-to-live of keyed state entries, in processing time. Expired entries are never returned
 * (`NeverReturnExpired`) and are dropped from the next checkpoint.
 */
export interface StateTtlConfig {
  readonly ttlMs: number
  /** Which accesses restart the clock. Default `OnCreateAndWrite`. */
  readonly updateType?: 'OnCreateAndWrite' | 'OnReadAndWrite'
  /** Default `NeverReturnExpired`. */
  readonly visibility?: 'NeverReturnExpired' | 'ReturnExpiredIfNotCleanedUp'
}

interface DescriptorOptions<T> {
  /** How values are persisted. Default: the core's CBOR codec (see the core README). */
  readonly serializer?: SimpleVersionedSerializer<T>
  readonly ttl?: StateTtlConfig
}

/** Names a piece of keyed state and how it is stored. Names must be unique within one operator. */
abstract class StateDescriptorBase<T> {
  abstract readonly kind: 'value' | 'list' | 'map' | 'reducing' | 'aggregating'
  readonly name: string
  readonly serializer: SimpleVersionedSerializer<T> | undefined
  readonly ttl: StateTtlConfig | undefined
  constructor(name: string, options: DescriptorOptions<T> = {}) {
    this.name = name
    this.serializer = options.serializer
    this.ttl = options.ttl
  }
}

export class ValueStateDescriptor<T> extends StateDescriptorBase<T> {
  readonly kind = 'value' as const
  readonly defaultValue: T | undefined
  constructor(name: string, options: DescriptorOptions<T> & { defaultValue?: T } = {}) {
    super(name, options)
    this.defaultValue = options.defaultValue
  }
}

export class ListStateDescriptor<T> extends StateDescriptorBase<T> {
  readonly kind = 'list' as const
}

export class MapStateDescriptor<K, V> extends StateDescriptorBase<V> {
  readonly kind = 'map' as const
  /** Phantom: keeps the key type of the descriptor. */
  declare readonly keyType?: K
}

export class ReducingStateDescriptor<T> extends StateDescriptorBase<T> {
  readonly kind = 'reducing' as const
  readonly reduce: (a: T, b: T) => T
  constructor(name: string, reduce: (a: T, b: T) => T, options: DescriptorOptions<T> = {}) {
    super(name, options)
    this.reduce = reduce
  }
}

export class AggregatingStateDescriptor<In, Acc, Out> extends StateDescriptorBase<Acc> {
  readonly kind = 'aggregating' as const
  readonly aggregate: AggregateFunction<In, Acc, Out>
  constructor(name: string, aggregate: AggregateFunction<In, Acc, Out>, options: DescriptorOptions<Acc> = {}) {
    super(name, options)
    this.aggregate = aggregate
  }
}

// biome-ignore lint/suspicious/noExplicitAny: any descriptor
export type AnyStateDescriptor = ValueStateDescriptor<any> | ListStateDescriptor<any> | MapStateDescriptor<any, any> | ReducingStateDescriptor<any> | AggregatingStateDescriptor<any, any, any>

/** A key by which a stream is partitioned: a primitive, or an array of primitives for composite keys. */
export type Key = string | number | bigint | boolean | readonly (string | number | bigint | boolean)[]
