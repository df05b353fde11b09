import { ConfigError } from '../../errors.js'
import { ReducingStateDescriptor, type ReducingState } from '../state.js'
import type { Window } from './window.js'
import { type OnMergeContext, Trigger, type TriggerContext, TriggerResult } from './trigger.js'

/**
 * Fires repeatedly every `interval` ms of processing time (Flink's `ContinuousProcessingTimeTrigger`).
 * The next fire time is partitioned state of the window.
 */
export class ContinuousProcessingTimeTrigger<W extends Window = Window> extends Trigger<unknown, W> {
  private readonly fireTimeDescriptor = new ReducingStateDescriptor<number>('fire-time', (a, b) => Math.min(a, b))

  private constructor(private readonly interval: number) {
    super()
  }

  static of<W extends Window = Window>(interval: number): ContinuousProcessingTimeTrigger<W> {
    if (!Number.isInteger(interval) || interval < 1) throw new ConfigError('ContinuousProcessingTimeTrigger.of', `interval must be an integer number of ms >= 1, got ${String(interval)}`)
    return new ContinuousProcessingTimeTrigger<W>(interval)
  }

  onElement(_element: unknown, _timestamp: number | undefined, window: W, context: TriggerContext): TriggerResult {
    const fireTimestamp = context.getPartitionedState(this.fireTimeDescriptor)
    const now = context.getCurrentProcessingTime()
    if (fireTimestamp.get() === undefined) this.registerNextFireTimestamp(now - (now % this.interval), window, context, fireTimestamp)
    return TriggerResult.CONTINUE
  }

  onEventTime(_time?: number, _window?: Window, _context?: TriggerContext): TriggerResult {
    return TriggerResult.CONTINUE
  }

  onProcessingTime(time: number, window: W, context: TriggerContext): TriggerResult {
    const fireTimestamp = context.getPartitionedState(this.fireTimeDescriptor)
    if (fireTimestamp.get() === time) {
      fireTimestamp.clear()
      this.registerNextFireTimestamp(time, window, context, fireTimestamp)
      return TriggerResult.FIRE
    }
    return TriggerResult.CONTINUE
  }

  clear(_window: W, context: TriggerContext): void {
    const fireTimestamp = context.getPartitionedState(this.fireTimeDescriptor)
    const timestamp = fireTimestamp.get()
    if (timestamp !== undefined) {
      context.deleteProcessingTimeTimer(timestamp)
      fireTimestamp.clear()
    }
  }

  override canMerge(): boolean {
    return true
  }

  override onMerge(_window: W, context: OnMergeContext): void {
    context.mergePartitionedState(this.fireTimeDescriptor)
    const nextFireTimestamp = context.getPartitionedState(this.fireTimeDescriptor).get()
    if (nextFireTimestamp !== undefined) context.registerProcessingTimeTimer(nextFireTimestamp)
  }

  private registerNextFireTimestamp(time: number, window: W, context: TriggerContext, state: ReducingState<number>): void {
    const nextFireTimestamp = Math.min(time + this.interval, window.maxTimestamp())
    state.add(nextFireTimestamp)
    context.registerProcessingTimeTimer(nextFireTimestamp)
  }

  override toString(): string {
    return `ContinuousProcessingTimeTrigger(${this.interval})`
  }
}
