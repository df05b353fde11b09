import type { MergeCallback } from './time-window.js'
import type { Trigger } from './trigger.js'
import type { Window } from './window.js'

/** What an assigner may ask of the runtime. */
export interface WindowAssignerContext {
  getCurrentProcessingTime(): number
}

/**
 * Puts each element into zero or more windows: Flink's `WindowAssigner`.
 *
 * `assignWindows` is called once per element by the window operator's task, never concurrently.
 * `timestamp` is the element's event timestamp (`undefined` if it has none); processing-time
 * assigners use `context.getCurrentProcessingTime()` instead. Assigners are immutable and shared.
 */
export abstract class WindowAssigner<T, W extends Window> {
  abstract assignWindows(element: T, timestamp: number | undefined, context: WindowAssignerContext): W[]
  /** The trigger used when `WindowedStream.trigger(...)` is not called. */
  abstract getDefaultTrigger(): Trigger<T, W>
  /** Whether windows are in event time (late data, allowed lateness and watermarks apply). */
  abstract isEventTime(): boolean

  toString(): string {
    return this.constructor.name
  }
}

/** An assigner whose windows can merge (sessions): Flink's `MergingWindowAssigner`. */
export abstract class MergingWindowAssigner<T, W extends Window> extends WindowAssigner<T, W> {
  /** Reports which of `windows` merge into which window. */
  abstract mergeWindows(windows: readonly W[], callback: MergeCallback<W>): void
}

/** Whether `assigner` merges windows (checked by shape, so it works across copies of the package). */
export function isMergingWindowAssigner<T, W extends Window>(assigner: WindowAssigner<T, W>): assigner is MergingWindowAssigner<T, W> {
  return typeof (assigner as Partial<MergingWindowAssigner<T, W>>).mergeWindows === 'function'
}
