import { ConfigError } from '../../errors.js'
import { ReducingStateDescriptor } from '../state.js'
import type { Window } from './window.js'
import { type OnMergeContext, Trigger, type TriggerContext, TriggerResult } from './trigger.js'

/**
 * Fires when the window holds `maxCount` elements since it last fired (Flink's `CountTrigger`): the
 * count is partitioned state of the window, reset when it fires. Never purges: wrap it in
 * {@link PurgingTrigger} for tumbling count windows.
 */
export class CountTrigger<W extends Window = Window> extends Trigger<unknown, W> {
  private readonly countDescriptor = new ReducingStateDescriptor<number>('count', (a, b) => a + b)

  private constructor(private readonly maxCount: number) {
    super()
  }

  static of<W extends Window = Window>(maxCount: number): CountTrigger<W> {
    if (!Number.isInteger(maxCount) || maxCount < 1) throw new ConfigError('CountTrigger.of', `maxCount must be an integer >= 1, got ${String(maxCount)}`)
    return new CountTrigger<W>(maxCount)
  }

  onElement(_element: unknown, _timestamp: number | undefined, _window: W, context: TriggerContext): TriggerResult {
    const count = context.getPartitionedState(this.countDescriptor)
    count.add(1)
    if ((count.get() as number) >= this.maxCount) {
      count.clear()
      return TriggerResult.FIRE
    }
    return TriggerResult.CONTINUE
  }

  onEventTime(_time?: number, _window?: Window, _context?: TriggerContext): TriggerResult {
    return TriggerResult.CONTINUE
  }

  onProcessingTime(_time?: number, _window?: Window, _context?: TriggerContext): TriggerResult {
    return TriggerResult.CONTINUE
  }

  clear(_window: W, context: TriggerContext): void {
    context.getPartitionedState(this.countDescriptor).clear()
  }

  override canMerge(): boolean {
    return true
  }

  override onMerge(_window: W, context: OnMergeContext): void {
    context.mergePartitionedState(this.countDescriptor)
  }

  override toString(): string {
    return `CountTrigger(${this.maxCount})`
  }
}
