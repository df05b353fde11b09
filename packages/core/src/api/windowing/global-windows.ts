import { GlobalWindow } from './global-window.js'
import { Trigger, TriggerResult } from './trigger.js'
import { WindowAssigner } from './window-assigner.js'

/**
 * Puts every element of a key into the one {@link GlobalWindow} (Flink's `GlobalWindows`). Its default
 * trigger never fires: give it one, e.g. `.trigger(CountTrigger.of(100))` for count windows
 * (`PurgingTrigger.of(CountTrigger.of(100))` for tumbling ones).
 */
export class GlobalWindows extends WindowAssigner<unknown, GlobalWindow> {
  private static readonly instance = new GlobalWindows()

  private constructor() {
    super()
  }

  static create(): GlobalWindows {
    return GlobalWindows.instance
  }

  assignWindows(): GlobalWindow[] {
    return [GlobalWindow.get()]
  }

  getDefaultTrigger(): Trigger<unknown, GlobalWindow> {
    return NeverTrigger.instance
  }

  isEventTime(): boolean {
    return false
  }

  override toString(): string {
    return 'GlobalWindows()'
  }
}

/** The default trigger of {@link GlobalWindows}: never fires (Flink's `GlobalWindows.NeverTrigger`). */
export class NeverTrigger extends Trigger<unknown, GlobalWindow> {
  static readonly instance = new NeverTrigger()

  onElement(): TriggerResult {
    return TriggerResult.CONTINUE
  }

  onEventTime(): TriggerResult {
    return TriggerResult.CONTINUE
  }

  onProcessingTime(): TriggerResult {
    return TriggerResult.CONTINUE
  }

  clear(): void {}

  override canMerge(): boolean {
    return true
  }

  override onMerge(): void {}

  override toString(): string {
    return 'NeverTrigger()'
  }
}
