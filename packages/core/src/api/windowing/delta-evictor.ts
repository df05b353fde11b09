import { ConfigError } from '../../errors.js'
import { type Evictor, type EvictorContext, removeWhere, type TimestampedValue } from './evictor.js'
import type { Window } from './window.js'

/** The distance between two elements (Flink's `DeltaFunction`). */
export type DeltaFunction<T> = (oldDataPoint: T, newDataPoint: T) => number

/**
 * Evicts every element whose delta to the last element of the window is `>= threshold` (Flink's
 * `DeltaEvictor`): `deltaFunction(element, last) >= threshold`.
 */
export class DeltaEvictor<T, W extends Window = Window> implements Evictor<T, W> {
  private constructor(
    private readonly threshold: number,
    private readonly deltaFunction: DeltaFunction<T>,
    private readonly doEvictAfter: boolean,
  ) {}

  static of<T, W extends Window = Window>(threshold: number, deltaFunction: DeltaFunction<T>, doEvictAfter = false): DeltaEvictor<T, W> {
    if (typeof threshold !== 'number' || Number.isNaN(threshold)) throw new ConfigError('DeltaEvictor.of', `threshold must be a number, got ${String(threshold)}`)
    if (typeof deltaFunction !== 'function') throw new ConfigError('DeltaEvictor.of', `deltaFunction must be a function (old, new) => number, got ${typeof deltaFunction}`)
    return new DeltaEvictor<T, W>(threshold, deltaFunction, doEvictAfter)
  }

  evictBefore(elements: TimestampedValue<T>[], _size: number, _window?: W, _context?: EvictorContext): void {
    if (!this.doEvictAfter) this.evict(elements)
  }

  evictAfter(elements: TimestampedValue<T>[], _size: number, _window?: W, _context?: EvictorContext): void {
    if (this.doEvictAfter) this.evict(elements)
  }

  private evict(elements: TimestampedValue<T>[]): void {
    const last = elements[elements.length - 1]
    if (last === undefined) return
    removeWhere(elements, (element) => this.deltaFunction(element.value, last.value) >= this.threshold)
  }
}
