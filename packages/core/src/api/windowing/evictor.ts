import type { Window } from './window.js'

/** An element of a window with the timestamp it arrived with (Flink's `TimestampedValue`). */
export class TimestampedValue<T> {
  constructor(
    readonly value: T,
    /** Event timestamp (ms); `undefined` when the element has none. */
    readonly timestamp: number | undefined,
  ) {}

  getValue(): T {
    return this.value
  }

  getTimestamp(): number | undefined {
    return this.timestamp
  }

  hasTimestamp(): boolean {
    return this.timestamp !== undefined
  }
}

/** What an evictor may ask of the runtime. */
export interface EvictorContext {
  getCurrentProcessingTime(): number
  getCurrentWatermark(): number
}

/**
 * Removes elements from a window when it fires, before and/or after the window function runs
 * (Flink's `Evictor`). `elements` is the window's contents in arrival order; remove elements from the
 * array in place (e.g. with `splice`). What remains after `evictAfter` stays in the window.
 * With an evictor the window keeps every element (no incremental aggregation), as in Flink.
 * Called by the window operator's task only, never concurrently.
 */
export interface Evictor<T, W extends Window> {
  evictBefore(elements: TimestampedValue<T>[], size: number, window: W, context: EvictorContext): void
  evictAfter(elements: TimestampedValue<T>[], size: number, window: W, context: EvictorContext): void
}

/** Keeps the elements for which `keep` is true, in order (an in-place `filter`). */
export function removeWhere<T>(elements: T[], remove: (element: T) => boolean): void {
  let kept = 0
  for (let index = 0; index < elements.length; index++) {
    const element = elements[index] as T
    if (!remove(element)) elements[kept++] = element
  }
  elements.length = kept
}
