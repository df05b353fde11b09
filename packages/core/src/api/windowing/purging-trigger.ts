import type { Window } from './window.js'
import { type OnMergeContext, Trigger, type TriggerContext, TriggerResult } from './trigger.js'

/**
 * Turns every FIRE of the nested trigger into FIRE_AND_PURGE (Flink's `PurgingTrigger`): the window's
 * contents are dropped each time it fires.
 */
export class PurgingTrigger<T, W extends Window> extends Trigger<T, W> {
  private constructor(private readonly nested: Trigger<T, W>) {
    super()
  }

  static of<T, W extends Window>(nested: Trigger<T, W>): PurgingTrigger<T, W> {
    return new PurgingTrigger(nested)
  }

  onElement(element: T, timestamp: number | undefined, window: W, context: TriggerContext): TriggerResult {
    return purging(this.nested.onElement(element, timestamp, window, context))
  }

  onEventTime(time: number, window: W, context: TriggerContext): TriggerResult {
    return purging(this.nested.onEventTime(time, window, context))
  }

  onProcessingTime(time: number, window: W, context: TriggerContext): TriggerResult {
    return purging(this.nested.onProcessingTime(time, window, context))
  }

  override canMerge(): boolean {
    return this.nested.canMerge()
  }

  override onMerge(window: W, context: OnMergeContext): void {
    this.nested.onMerge(window, context)
  }

  clear(window: W, context: TriggerContext): void {
    this.nested.clear(window, context)
  }

  /** The trigger this one wraps. */
  getNestedTrigger(): Trigger<T, W> {
    return this.nested
  }

  override toString(): string {
    return `PurgingTrigger(${this.nested.toString()})`
  }
}

function purging(result: TriggerResult): TriggerResult {
  return result.isFire() ? TriggerResult.FIRE_AND_PURGE : result
}
