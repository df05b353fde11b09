import { ProcessingTimeTrigger } from './processing-time-trigger.js'
import { checkSlidingParameters, slidingWindows } from './sliding-event-time-windows.js'
import type { TimeWindow } from './time-window.js'
import type { Trigger } from './trigger.js'
import { WindowAssigner, type WindowAssignerContext } from './window-assigner.js'

/** Sliding processing-time windows (Flink's `SlidingProcessingTimeWindows`): windows of the task's clock at arrival. */
export class SlidingProcessingTimeWindows extends WindowAssigner<unknown, TimeWindow> {
  private constructor(
    readonly size: number,
    readonly slide: number,
    readonly offset: number,
  ) {
    super()
  }

  /** @throws ConfigError unless `size > 0` and `|offset| < slide`. */
  static of(size: number, slide: number, offset = 0): SlidingProcessingTimeWindows {
    checkSlidingParameters('SlidingProcessingTimeWindows', size, slide, offset)
    return new SlidingProcessingTimeWindows(size, slide, offset)
  }

  assignWindows(_element: unknown, _timestamp: number | undefined, context: WindowAssignerContext): TimeWindow[] {
    return slidingWindows(context.getCurrentProcessingTime(), this.size, this.slide, this.offset)
  }

  getDefaultTrigger(): Trigger<unknown, TimeWindow> {
    return ProcessingTimeTrigger.create()
  }

  isEventTime(): boolean {
    return false
  }

  override toString(): string {
    return `SlidingProcessingTimeWindows(${this.size}, ${this.slide})`
  }
}
