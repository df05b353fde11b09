import { ConfigError } from '../../errors.js'
import { EventTimeTrigger } from './event-time-trigger.js'
import { hasTimestamp, missingTimestamp } from './missing-timestamp.js'
import { TimeWindow } from './time-window.js'
import type { Trigger } from './trigger.js'
import { WindowAssigner, type WindowAssignerContext } from './window-assigner.js'

/**
 * Tumbling event-time windows of `size` ms: each element goes into the one window
 * `[start, start + size)` with `start = getWindowStartWithOffset(timestamp, offset, size)` (Flink's
 * `TumblingEventTimeWindows`). `offset` shifts the alignment, e.g. `-8 h` for days in UTC+8.
 */
export class TumblingEventTimeWindows extends WindowAssigner<unknown, TimeWindow> {
  private constructor(
    readonly size: number,
    readonly offset: number,
  ) {
    super()
  }

  /** @throws ConfigError unless `size > 0` and `|offset| < size`. */
  static of(size: number, offset = 0): TumblingEventTimeWindows {
    checkSizeAndOffset('TumblingEventTimeWindows', size, offset)
    return new TumblingEventTimeWindows(size, offset)
  }

  assignWindows(_element: unknown, timestamp: number | undefined, _context?: WindowAssignerContext): TimeWindow[] {
    if (!hasTimestamp(timestamp)) throw missingTimestamp(this.toString())
    const start = TimeWindow.getWindowStartWithOffset(timestamp, this.offset, this.size)
    return [new TimeWindow(start, start + this.size)]
  }

  getDefaultTrigger(): Trigger<unknown, TimeWindow> {
    return EventTimeTrigger.create()
  }

  isEventTime(): boolean {
    return true
  }

  override toString(): string {
    return `TumblingEventTimeWindows(${this.size})`
  }
}

/** Flink's checks of tumbling assigners: `size > 0`, `|offset| < size`, integers (ms). */
export function checkSizeAndOffset(assigner: string, size: number, offset: number): void {
  if (!Number.isInteger(size) || size <= 0 || !Number.isInteger(offset) || Math.abs(offset) >= size) {
    throw new ConfigError(`${assigner}.of`, `parameters must satisfy abs(offset) < size and size > 0 (integers, ms), got size ${String(size)}, offset ${String(offset)}`)
  }
}
