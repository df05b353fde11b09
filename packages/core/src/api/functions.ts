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
} from './state.js'

/** Receives the output of a function. `collect` is synchronous; the runtime batches what it gets. */
export interface Collector<T> {
  collect(value: T): void
}

/** Names a side output of an operator; `stream.getSideOutput(tag)` reads it. */
export class OutputTag<T> {
  readonly id: string
  /** Phantom: keeps the element type of the tag. */
  declare readonly elementType?: T
  constructor(id: string) {
    if (!id) throw new TypeError('OutputTag id must be a non-empty string')
    this.id = id
  }
}

/** What every function sees of the task it runs in. */
export interface RuntimeContext {
  readonly subtaskId: number
  readonly parallelism: number
  readonly maxParallelism: number
  readonly taskName: string
  /** How many times the job has been restarted in this process (0 for the first run). */
  readonly attemptNumber: number
}

/** Keyed state access; available to functions applied on a keyed stream. */
export interface KeyedRuntimeContext extends RuntimeContext {
  getState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T>
  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T>
  getMapState<K, V>(descriptor: MapStateDescriptor<K, V>): MapState<K, V>
  getReducingState<T>(descriptor: ReducingStateDescriptor<T>): ReducingState<T>
  getAggregatingState<In, Acc, Out>(descriptor: AggregatingStateDescriptor<In, Acc, Out>): AggregatingState<In, Out>
}

/**
 * Timers of a keyed function. A timer belongs to the current key and fires `onTimer` once, with that
 * key current, when processing time (wall clock) or the watermark (event time) passes its timestamp.
 * Registering the same (key, timestamp) twice gives one timer. Timers are part of checkpoints.
 */
export interface TimerService {
  currentProcessingTime(): number
  currentWatermark(): number
  registerProcessingTimeTimer(timestamp: number): void
  registerEventTimeTimer(timestamp: number): void
  deleteProcessingTimeTimer(timestamp: number): void
  deleteEventTimeTimer(timestamp: number): void
}

/** Context of one call of a process function. */
export interface ProcessContext {
  /** Event timestamp of the current element (or the timer), if it has one. */
  timestamp(): number | undefined
  /** Emits to a side output. */
  output<X>(tag: OutputTag<X>, value: X): void
  currentWatermark(): number
}

export interface KeyedProcessContext<K extends Key> extends ProcessContext {
  getCurrentKey(): K
  timerService(): TimerService
}

export interface OnTimerContext<K extends Key> extends KeyedProcessContext<K> {
  timeDomain(): 'EVENT_TIME' | 'PROCESSING_TIME'
}

/** Lifecycle shared by all process functions: `open` before the first element, `close` once at the end or on failure. */
export interface FunctionLifecycle<Ctx extends RuntimeContext> {
  open?(context: Ctx): void | Promise<void>
  close?(): void | Promise<void>
}

/** Flink's ProcessFunction, on a non-keyed stream. */
export interface ProcessFunction<In, Out> extends FunctionLifecycle<RuntimeContext> {
  processElement(value: In, context: ProcessContext, out: Collector<Out>): void
}

/** Flink's KeyedProcessFunction: keyed state and timers. */
export interface KeyedProcessFunction<K extends Key, In, Out> extends FunctionLifecycle<KeyedRuntimeContext> {
  processElement(value: In, context: KeyedProcessContext<K>, out: Collector<Out>): void
  onTimer?(timestamp: number, context: OnTimerContext<K>, out: Collector<Out>): void
}

/** Flink's CoProcessFunction, on two connected non-keyed streams. */
export interface CoProcessFunction<In1, In2, Out> extends FunctionLifecycle<RuntimeContext> {
  processElement1(value: In1, context: ProcessContext, out: Collector<Out>): void
  processElement2(value: In2, context: ProcessContext, out: Collector<Out>): void
}

/** Flink's KeyedCoProcessFunction, on two connected streams keyed alike. */
export interface KeyedCoProcessFunction<K extends Key, In1, In2, Out> extends FunctionLifecycle<KeyedRuntimeContext> {
  processElement1(value: In1, context: KeyedProcessContext<K>, out: Collector<Out>): void
  processElement2(value: In2, context: KeyedProcessContext<K>, out: Collector<Out>): void
  onTimer?(timestamp: number, context: OnTimerContext<K>, out: Collector<Out>): void
}

export type MapFunction<In, Out> = (value: In) => Out
export type FilterFunction<In> = (value: In) => boolean
export type FlatMapFunction<In, Out> = (value: In, out: Collector<Out>) => void
export type KeySelector<In, K extends Key> = (value: In) => K
export type ReduceFunction<T> = (a: T, b: T) => T
