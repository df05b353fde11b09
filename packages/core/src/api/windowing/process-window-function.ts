import type { Collector, FunctionLifecycle, KeyedRuntimeContext, OutputTag, RuntimeContext } from '../functions.js'
import type { Key } from '../state.js'
import type { Window } from './window.js'

/** Access to keyed state, as a function's runtime context gives it (Flink's `KeyedStateStore`). */
export type KeyedStateStore = Pick<KeyedRuntimeContext, 'getState' | 'getListState' | 'getMapState' | 'getReducingState' | 'getAggregatingState'>

/** The context of one evaluation of a window (Flink's `ProcessWindowFunction.Context`). */
export interface ProcessWindowContext<W extends Window> {
  /** The window being evaluated. */
  window(): W
  currentProcessingTime(): number
  currentWatermark(): number
  /**
   * State of this key and this window; cleared by the function in `clear` when the window is purged.
   * Not available with merging (session) windows.
   */
  windowState(): KeyedStateStore
  /** State of this key across all its windows. */
  globalState(): KeyedStateStore
  /** Emits to a side output, with the window's `maxTimestamp()` as timestamp. */
  output<X>(tag: OutputTag<X>, value: X): void
}

/**
 * Evaluates a window with all its elements at once (Flink's `ProcessWindowFunction`); combined with
 * `reduce` or `aggregate` it gets the single pre-aggregated value instead.
 *
 * Called by the window operator's task, never concurrently: `open` once per subtask, `process` each
 * time the trigger fires the window (results carry `window.maxTimestamp()` as timestamp), `clear`
 * when the window is purged for good, `close` at the end. `elements` must not be kept after `process`.
 */
export interface ProcessWindowFunction<In, Out, K extends Key, W extends Window> extends FunctionLifecycle<KeyedRuntimeContext> {
  process(key: K, context: ProcessWindowContext<W>, elements: readonly In[], out: Collector<Out>): void
  /** Deletes what the function kept in `context.windowState()` for the window. */
  clear?(context: ProcessWindowContext<W>): void
}

/** {@link ProcessWindowFunction} of a non-keyed window (`windowAll`), Flink's `ProcessAllWindowFunction`. */
export interface ProcessAllWindowFunction<In, Out, W extends Window> extends FunctionLifecycle<RuntimeContext> {
  process(context: ProcessWindowContext<W>, elements: readonly In[], out: Collector<Out>): void
  clear?(context: ProcessWindowContext<W>): void
}

/** The older, simpler window function (Flink's `WindowFunction.apply`). */
export type WindowFunction<In, Out, K extends Key, W extends Window> = (key: K, window: W, input: readonly In[], out: Collector<Out>) => void

/** {@link WindowFunction} of a non-keyed window (Flink's `AllWindowFunction.apply`). */
export type AllWindowFunction<In, Out, W extends Window> = (window: W, input: readonly In[], out: Collector<Out>) => void
