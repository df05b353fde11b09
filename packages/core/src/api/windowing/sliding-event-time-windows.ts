import { ConfigError } from '../../errors.js'
import { EventTimeTrigger } from './event-time-trigger.js'
import { hasTimestamp, missingTimestamp } from './missing-timestamp.js'
import { TimeWindow } from './time-window.js'
import type { Trigger } from './trigger.js'
import { WindowAssigner, type WindowAssignerContext } from './window-assigner.js'

/**
 * Sliding event-time windows of `size` ms starting every `slide` ms (Flink's
 * `SlidingEventTimeWindows`): an element goes into every window `[start, start + size)` with
 * `start = lastStart, lastStart - slide, ...` while `start > timestamp - size`, where
 * `lastStart = getWindowStartWithOffset(timestamp, offset, slide)`; latest window first.
 */
export class SlidingEventTimeWindows extends WindowAssigner<unknown, TimeWindow> {
  private constructor(
    readonly size: number,
    readonly slide: number,
    readonly offset: number,
  ) {
    super()
  }

  /** @throws ConfigError unless `size > 0` and `|offset| < slide`. */
  static of(size: number, slide: number, offset = 0): SlidingEventTimeWindows {
    checkSlidingParameters('SlidingEventTimeWindows', size, slide, offset)
    return new SlidingEventTimeWindows(size, slide, offset)
  }

  assignWindows(_element: unknown, timestamp: number | undefined, _context?: WindowAssignerContext): TimeWindow[] {
    if (!hasTimestamp(timestamp)) throw missingTimestamp(this.toString())
    return slidingWindows(timestamp, this.size, this.slide, this.offset)
  }

  getDefaultTrigger(): Trigger<unknown, TimeWindow> {
    return EventTimeTrigger.create()
  }

  isEventTime(): boolean {
    return true
  }

  override toString(): string {
    return `SlidingEventTimeWindows(${this.size}, ${this.slide})`
  }
}

/** The windows of `time`, latest start first (shared with the processing-time assigner). */
export function slidingWindows(time: number, size: number, slide: number, offset: number): TimeWindow[] {
  const windows: TimeWindow[] = []
  const lastStart = TimeWindow.getWindowStartWithOffset(time, offset, slide)
  for (let start = lastStart; start > time - size; start -= slide) windows.push(new TimeWindow(start, start + size))
  return windows
}

/** Flink's checks of sliding assigners: `|offset| < slide`, `size > 0`, integers (ms). */
export function checkSlidingParameters(assigner: string, size: number, slide: number, offset: number): void {
  if (!Number.isInteger(size) || !Number.isInteger(slide) || !Number.isInteger(offset) || Math.abs(offset) >= slide || size <= 0) {
    throw new ConfigError(
      `${assigner}.of`,
      `parameters must satisfy abs(offset) < slide and size > 0 (integers, ms), got size ${String(size)}, slide ${String(slide)}, offset ${String(offset)}`,
    )
  }
}
