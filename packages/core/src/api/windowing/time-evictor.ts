import { ConfigError } from '../../errors.js'
import { type Evictor, type EvictorContext, removeWhere, type TimestampedValue } from './evictor.js'
import type { Window } from './window.js'

/**
 * Keeps the elements of the last `windowSize` ms: with `max` the highest timestamp in the window,
 * evicts every element with `timestamp <= max - windowSize` (Flink's `TimeEvictor`). Does nothing when
 * the elements have no timestamps.
 */
export class TimeEvictor<W extends Window = Window> implements Evictor<unknown, W> {
  private constructor(
    private readonly windowSize: number,
    private readonly doEvictAfter: boolean,
  ) {}

  static of<W extends Window = Window>(windowSize: number, doEvictAfter = false): TimeEvictor<W> {
    if (typeof windowSize !== 'number' || !Number.isFinite(windowSize) || windowSize < 0) {
      throw new ConfigError('TimeEvictor.of', `windowSize must be a number of ms >= 0, got ${String(windowSize)}`)
    }
    return new TimeEvictor<W>(windowSize, doEvictAfter)
  }

  evictBefore(elements: TimestampedValue<unknown>[], _size: number, _window?: W, _context?: EvictorContext): void {
    if (!this.doEvictAfter) this.evict(elements)
  }

  evictAfter(elements: TimestampedValue<unknown>[], _size: number, _window?: W, _context?: EvictorContext): void {
    if (this.doEvictAfter) this.evict(elements)
  }

  private evict(elements: TimestampedValue<unknown>[]): void {
    // Flink looks at the first element only to decide whether the elements have timestamps.
    if (elements.length === 0 || !(elements[0] as TimestampedValue<unknown>).hasTimestamp()) return
    let currentTime = Number.NEGATIVE_INFINITY
    for (const element of elements) {
      const timestamp = element.timestamp as number
      if (timestamp > currentTime) currentTime = timestamp
    }
    const evictCutoff = currentTime - this.windowSize
    removeWhere(elements, (element) => (element.timestamp as number) <= evictCutoff)
  }
}
