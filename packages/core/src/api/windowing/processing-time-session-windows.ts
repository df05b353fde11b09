import { ConfigError } from '../../errors.js'
import { checkGap, dynamicGap, type SessionWindowTimeGapExtractor } from './event-time-session-windows.js'
import { ProcessingTimeTrigger } from './processing-time-trigger.js'
import { type MergeCallback, TimeWindow } from './time-window.js'
import type { Trigger } from './trigger.js'
import { MergingWindowAssigner, type WindowAssignerContext } from './window-assigner.js'

/**
 * Processing-time session windows (Flink's `ProcessingTimeSessionWindows` and
 * `DynamicProcessingTimeSessionWindows`): `[now, now + gap)` per element, merged when they overlap or touch.
 */
export class ProcessingTimeSessionWindows<T = unknown> extends MergingWindowAssigner<T, TimeWindow> {
  private constructor(
    private readonly gap: number | undefined,
    private readonly gapExtractor: SessionWindowTimeGapExtractor<T> | undefined,
  ) {
    super()
  }

  static withGap<T = unknown>(gap: number): ProcessingTimeSessionWindows<T> {
    checkGap('ProcessingTimeSessionWindows.withGap', gap)
    return new ProcessingTimeSessionWindows<T>(gap, undefined)
  }

  static withDynamicGap<T>(extractor: SessionWindowTimeGapExtractor<T>): ProcessingTimeSessionWindows<T> {
    if (typeof extractor !== 'function') throw new ConfigError('ProcessingTimeSessionWindows.withDynamicGap', `expected a function (element) => gap ms, got ${typeof extractor}`)
    return new ProcessingTimeSessionWindows<T>(undefined, extractor)
  }

  assignWindows(element: T, _timestamp: number | undefined, context: WindowAssignerContext): TimeWindow[] {
    const now = context.getCurrentProcessingTime()
    const gap = this.gap ?? dynamicGap(this.gapExtractor as SessionWindowTimeGapExtractor<T>, element)
    return [new TimeWindow(now, now + gap)]
  }

  mergeWindows(windows: readonly TimeWindow[], callback: MergeCallback<TimeWindow>): void {
    TimeWindow.mergeWindows(windows, callback)
  }

  getDefaultTrigger(): Trigger<T, TimeWindow> {
    return ProcessingTimeTrigger.create()
  }

  isEventTime(): boolean {
    return false
  }

  override toString(): string {
    return this.gap === undefined ? 'DynamicProcessingTimeSessionWindows()' : `ProcessingTimeSessionWindows(${this.gap})`
  }
}
