import { ConfigError } from '../../errors.js'
import { ReducingStateDescriptor, type ReducingState } from '../state.js'
import type { Window } from './window.js'
import { type OnMergeContext, Trigger, type TriggerContext, TriggerResult } from './trigger.js'

/**
 * Fires repeatedly every `interval` ms of event time, and at the end of the window (Flink's
 * `ContinuousEventTimeTrigger`). The next fire time is partitioned state of the window.
 */
export class ContinuousEventTimeTrigger<W extends Window = Window> extends Trigger<unknown, W> {
  private readonly fireTimeDescriptor = new ReducingStateDescriptor<number>('fire-time', (a, b) => Math.min(a, b))

  private constructor(private readonly interval: number) {
    super()
  }

  static of<W extends Window = Window>(interval: number): ContinuousEventTimeTrigger<W> {
    if (!Number.isInteger(interval) || interval < 1) throw new ConfigError('ContinuousEventTimeTrigger.of', `interval must be an integer number of ms >= 1, got ${String(interval)}`)
    return new ContinuousEventTimeTrigger<W>(interval)
  }

  onElement(_element: unknown, timestamp: number | undefined, window: W, context: TriggerContext): TriggerResult {
    if (window.maxTimestamp() <= context.getCurrentWatermark()) {
      // The watermark is already past the window: fire at once.
      return TriggerResult.FIRE
    }
    context.registerEventTimeTimer(window.maxTimestamp())
    const fireTimestamp = context.getPartitionedState(this.fireTimeDescriptor)
    if (fireTimestamp.get() === undefined) {
      const time = timestamp ?? Number.NEGATIVE_INFINITY
      this.registerNextFireTimestamp(time - (time % this.interval), window, context, fireTimestamp)
    }
    return TriggerResult.CONTINUE
  }

  onEventTime(time: number, window: W, context: TriggerContext): TriggerResult {
    if (time === window.maxTimestamp()) return TriggerResult.FIRE
    const fireTimestampState = context.getPartitionedState(this.fireTimeDescriptor)
    const fireTimestamp = fireTimestampState.get()
    if (fireTimestamp !== undefined && fireTimestamp === time) {
      fireTimestampState.clear()
      this.registerNextFireTimestamp(time, window, context, fireTimestampState)
      return TriggerResult.FIRE
    }
    return TriggerResult.CONTINUE
  }

  onProcessingTime(_time?: number, _window?: Window, _context?: TriggerContext): TriggerResult {
    return TriggerResult.CONTINUE
  }

  clear(_window: W, context: TriggerContext): void {
    const fireTimestamp = context.getPartitionedState(this.fireTimeDescriptor)
    const timestamp = fireTimestamp.get()
    if (timestamp !== undefined) {
      context.deleteEventTimeTimer(timestamp)
      fireTimestamp.clear()
    }
  }

  override canMerge(): boolean {
    return true
  }

  override onMerge(_window: W, context: OnMergeContext): void {
    context.mergePartitionedState(this.fireTimeDescriptor)
    const nextFireTimestamp = context.getPartitionedState(this.fireTimeDescriptor).get()
    if (nextFireTimestamp !== undefined) context.registerEventTimeTimer(nextFireTimestamp)
  }

  private registerNextFireTimestamp(time: number, window: W, context: TriggerContext, state: ReducingState<number>): void {
    const nextFireTimestamp = Math.min(time + this.interval, window.maxTimestamp())
    state.add(nextFireTimestamp)
    context.registerEventTimeTimer(nextFireTimestamp)
  }

  override toString(): string {
    return `ContinuousEventTimeTrigger(${this.interval})`
  }
}
