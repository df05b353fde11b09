import type { BroadcastState, ReadOnlyBroadcastState } from './broadcast-state.js'
import type { Collector, FunctionLifecycle, KeyedRuntimeContext, ProcessContext, RuntimeContext, TimerService } from './functions.js'
import type {
  AggregatingState,
  AggregatingStateDescriptor,
  AnyStateDescriptor,
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

/**
 * Context of `processElement` (the non-broadcast side) and of `onTimer`: broadcast state is read-only.
 * Flink's `BaseBroadcastProcessFunction.ReadOnlyContext`.
 */
export interface ReadOnlyBroadcastContext extends ProcessContext {
  currentProcessingTime(): number
  /**
   * The read-only view of a broadcast state. Its write methods are not in the type; called anyway (from
   * JavaScript or through a cast) they throw an `IllegalStateError` naming the state.
   *
   * @throws IllegalStateError when the descriptor was not given to `broadcast(...)`.
   */
  getBroadcastState<K, V>(descriptor: MapStateDescriptor<K, V>): ReadOnlyBroadcastState<K, V>
}

/** Context of `processBroadcastElement`: full access to broadcast state. Flink's `BaseBroadcastProcessFunction.Context`. */
export interface BroadcastContext extends ProcessContext {
  currentProcessingTime(): number
  /** @throws IllegalStateError when the descriptor was not given to `broadcast(...)`. */
  getBroadcastState<K, V>(descriptor: MapStateDescriptor<K, V>): BroadcastState<K, V>
}

/** `processElement` and `onTimer` of a keyed broadcast function: the current key and its timers as well. */
export interface KeyedReadOnlyBroadcastContext<K extends Key> extends ReadOnlyBroadcastContext {
  getCurrentKey(): K
  timerService(): TimerService
}

/** `onTimer` of a {@link KeyedBroadcastProcessFunction}. */
export interface KeyedBroadcastOnTimerContext<K extends Key> extends KeyedReadOnlyBroadcastContext<K> {
  timeDomain(): 'EVENT_TIME' | 'PROCESSING_TIME'
}

/** The state object a descriptor stands for. */
export type StateOfDescriptor<D> = D extends ValueStateDescriptor<infer T>
  ? ValueState<T>
  : D extends ListStateDescriptor<infer T>
    ? ListState<T>
    : D extends MapStateDescriptor<infer MK, infer MV>
      ? MapState<MK, MV>
      : D extends ReducingStateDescriptor<infer T>
        ? ReducingState<T>
        : D extends AggregatingStateDescriptor<infer In, infer _Acc, infer Out>
          ? AggregatingState<In, Out>
          : never

/** Called once per key by {@link KeyedBroadcastContext.applyToKeyedState}, with that key current. Flink's `KeyedStateFunction`. */
export type KeyedStateFunction<K extends Key, S> = (key: K, state: S) => void

/** Context of `processBroadcastElement` of a keyed broadcast function. */
export interface KeyedBroadcastContext<K extends Key> extends BroadcastContext {
  /**
   * Applies `fn` to the state of every key of this subtask that has an entry in the state `descriptor`
   * names (keys without an entry are not visited; keys of other subtasks are not here). During each call
   * that key is current, so `fn` may read, update or clear the state. The keys are collected before the
   * first call, so clearing the state inside `fn` is safe. There is no current key before or after.
   */
  applyToKeyedState<D extends AnyStateDescriptor>(descriptor: D, fn: KeyedStateFunction<K, StateOfDescriptor<D>>): void
}

/**
 * Flink's BroadcastProcessFunction: `nonBroadcast.connect(stream.broadcast(descriptor)).process(fn)` on a
 * non-keyed stream.
 *
 * Called by the subtask's task loop, never concurrently: `open` → (`processElement` for each record of
 * the non-broadcast input | `processBroadcastElement` for each record of the broadcast input)* → `close`.
 * The two inputs are not ordered relative to each other: a record may be processed before a broadcast
 * element that was produced earlier. Every subtask receives every broadcast element.
 */
export interface BroadcastProcessFunction<In1, In2, Out> extends FunctionLifecycle<RuntimeContext> {
  processElement(value: In1, context: ReadOnlyBroadcastContext, out: Collector<Out>): void
  processBroadcastElement(value: In2, context: BroadcastContext, out: Collector<Out>): void
}

/**
 * Flink's KeyedBroadcastProcessFunction: `keyed.connect(stream.broadcast(descriptor)).process(fn)`.
 * As {@link BroadcastProcessFunction}, plus keyed state (from the runtime context in `open`) and timers on
 * the keyed side, and `applyToKeyedState` on the broadcast side. `onTimer` runs with the timer's key
 * current.
 */
export interface KeyedBroadcastProcessFunction<K extends Key, In1, In2, Out> extends FunctionLifecycle<KeyedRuntimeContext> {
  processElement(value: In1, context: KeyedReadOnlyBroadcastContext<K>, out: Collector<Out>): void
  processBroadcastElement(value: In2, context: KeyedBroadcastContext<K>, out: Collector<Out>): void
  onTimer?(timestamp: number, context: KeyedBroadcastOnTimerContext<K>, out: Collector<Out>): void
}
