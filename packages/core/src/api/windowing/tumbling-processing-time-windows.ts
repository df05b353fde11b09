import { ProcessingTimeTrigger } from './processing-time-trigger.js'
import { TimeWindow } from './time-window.js'
import type { Trigger } from './trigger.js'
import { WindowAssigner, type WindowAssignerContext } from './window-assigner.js'
import { checkSizeAndOffset } from './tumbling-event-time-windows.js'

/**
 * Tumbling processing-time windows of `size` ms (Flink's `TumblingProcessingTimeWindows`): the window
 * is chosen by the task's clock when the element arrives, not by its timestamp.
 */
export class TumblingProcessingTimeWindows extends WindowAssigner<unknown, TimeWindow> {
  private constructor(
    readonly size: number,
    readonly offset: number,
  ) {
    super()
  }

  /** @throws ConfigError unless `size > 0` and `|offset| < size`. */
  static of(size: number, offset = 0): TumblingProcessingTimeWindows {
    checkSizeAndOffset('TumblingProcessingTimeWindows', size, offset)
    return new TumblingProcessingTimeWindows(size, offset)
  }

  assignWindows(_element: unknown, _timestamp: number | undefined, context: WindowAssignerContext): TimeWindow[] {
    const now = context.getCurrentProcessingTime()
    const start = TimeWindow.getWindowStartWithOffset(now, this.offset, this.size)
    return [new TimeWindow(start, start + this.size)]
  }

  getDefaultTrigger(): Trigger<unknown, TimeWindow> {
    return ProcessingTimeTrigger.create()
  }

  isEventTime(): boolean {
    return false
  }

  override toString(): string {
    return `TumblingProcessingTimeWindows(${this.size})`
  }
}
