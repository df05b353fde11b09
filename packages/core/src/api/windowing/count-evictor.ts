import { ConfigError } from '../../errors.js'
import type { Evictor, EvictorContext, TimestampedValue } from './evictor.js'
import type { Window } from './window.js'

/**
 * Keeps at most `maxCount` elements, evicting from the start of the window (the oldest arrivals):
 * Flink's `CountEvictor`. Evicts before the window function unless `doEvictAfter`.
 */
export class CountEvictor<W extends Window = Window> implements Evictor<unknown, W> {
  private constructor(
    private readonly maxCount: number,
    private readonly doEvictAfter: boolean,
  ) {}

  static of<W extends Window = Window>(maxCount: number, doEvictAfter = false): CountEvictor<W> {
    if (!Number.isInteger(maxCount) || maxCount < 0) throw new ConfigError('CountEvictor.of', `maxCount must be an integer >= 0, got ${String(maxCount)}`)
    return new CountEvictor<W>(maxCount, doEvictAfter)
  }

  evictBefore(elements: TimestampedValue<unknown>[], size: number, _window?: W, _context?: EvictorContext): void {
    if (!this.doEvictAfter) this.evict(elements, size)
  }

  evictAfter(elements: TimestampedValue<unknown>[], size: number, _window?: W, _context?: EvictorContext): void {
    if (this.doEvictAfter) this.evict(elements, size)
  }

  private evict(elements: TimestampedValue<unknown>[], size: number): void {
    if (size <= this.maxCount) return
    elements.splice(0, size - this.maxCount)
  }
}
