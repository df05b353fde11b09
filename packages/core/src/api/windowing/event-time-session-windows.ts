import { ConfigError } from '../../errors.js'
import { EventTimeTrigger } from './event-time-trigger.js'
import { hasTimestamp, missingTimestamp } from './missing-timestamp.js'
import { type MergeCallback, TimeWindow } from './time-window.js'
import type { Trigger } from './trigger.js'
import { MergingWindowAssigner, type WindowAssignerContext } from './window-assigner.js'

/** The gap of a dynamic session: ms after `element` until its session may close. */
export type SessionWindowTimeGapExtractor<T> = (element: T) => number

/**
 * Event-time session windows (Flink's `EventTimeSessionWindows` and `DynamicEventTimeSessionWindows`):
 * each element opens the window `[timestamp, timestamp + gap)`, and windows of a key that overlap or
 * touch merge, so a session ends after `gap` ms without elements.
 */
export class EventTimeSessionWindows<T = unknown> extends MergingWindowAssigner<T, TimeWindow> {
  private constructor(
    private readonly gap: number | undefined,
    private readonly gapExtractor: SessionWindowTimeGapExtractor<T> | undefined,
  ) {
    super()
  }

  /** @throws ConfigError unless `gap > 0`. */
  static withGap<T = unknown>(gap: number): EventTimeSessionWindows<T> {
    checkGap('EventTimeSessionWindows.withGap', gap)
    return new EventTimeSessionWindows<T>(gap, undefined)
  }

  /** The gap of each session comes from its elements; a gap ≤ 0 fails the element (as in Flink). */
  static withDynamicGap<T>(extractor: SessionWindowTimeGapExtractor<T>): EventTimeSessionWindows<T> {
    if (typeof extractor !== 'function') throw new ConfigError('EventTimeSessionWindows.withDynamicGap', `expected a function (element) => gap ms, got ${typeof extractor}`)
    return new EventTimeSessionWindows<T>(undefined, extractor)
  }

  assignWindows(element: T, timestamp: number | undefined, _context?: WindowAssignerContext): TimeWindow[] {
    if (!hasTimestamp(timestamp)) throw missingTimestamp(this.toString())
    const gap = this.gap ?? dynamicGap(this.gapExtractor as SessionWindowTimeGapExtractor<T>, element)
    return [new TimeWindow(timestamp, timestamp + gap)]
  }

  mergeWindows(windows: readonly TimeWindow[], callback: MergeCallback<TimeWindow>): void {
    TimeWindow.mergeWindows(windows, callback)
  }

  getDefaultTrigger(): Trigger<T, TimeWindow> {
    return EventTimeTrigger.create()
  }

  isEventTime(): boolean {
    return true
  }

  override toString(): string {
    return this.gap === undefined ? 'DynamicEventTimeSessionWindows()' : `EventTimeSessionWindows(${this.gap})`
  }
}

export function checkGap(where: string, gap: number): void {
  if (!Number.isInteger(gap) || gap <= 0) throw new ConfigError(where, `the session gap must be an integer number of ms > 0, got ${String(gap)}`)
}

export function dynamicGap<T>(extractor: SessionWindowTimeGapExtractor<T>, element: T): number {
  const gap = extractor(element)
  if (typeof gap !== 'number' || !Number.isFinite(gap) || gap <= 0) {
    throw new ConfigError('sessionWindowTimeGapExtractor', `dynamic gap can not be less than or equal to 0, got ${String(gap)}`)
  }
  return gap
}
