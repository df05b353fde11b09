import type { Window } from './window.js'
import { type OnMergeContext, Trigger, type TriggerContext, TriggerResult } from './trigger.js'

/**
 * Fires when the processing-time clock passes the end of the window (Flink's `ProcessingTimeTrigger`,
 * the default of the processing-time assigners).
 */
export class ProcessingTimeTrigger extends Trigger<unknown, Window> {
  private static readonly instance = new ProcessingTimeTrigger()

  private constructor() {
    super()
  }

  static create(): ProcessingTimeTrigger {
    return ProcessingTimeTrigger.instance
  }

  onElement(_element: unknown, _timestamp: number | undefined, window: Window, context: TriggerContext): TriggerResult {
    context.registerProcessingTimeTimer(window.maxTimestamp())
    return TriggerResult.CONTINUE
  }

  onEventTime(_time?: number, _window?: Window, _context?: TriggerContext): TriggerResult {
    return TriggerResult.CONTINUE
  }

  onProcessingTime(_time?: number, _window?: Window, _context?: TriggerContext): TriggerResult {
    return TriggerResult.FIRE
  }

  override canMerge(): boolean {
    return true
  }

  override onMerge(window: Window, context: OnMergeContext): void {
    // Only register a timer if the time is not yet past the end of the merged window.
    const windowMaxTimestamp = window.maxTimestamp()
    if (windowMaxTimestamp > context.getCurrentProcessingTime()) context.registerProcessingTimeTimer(windowMaxTimestamp)
  }

  clear(window: Window, context: TriggerContext): void {
    context.deleteProcessingTimeTimer(window.maxTimestamp())
  }

  override toString(): string {
    return 'ProcessingTimeTrigger()'
  }
}
