import type { Window } from './window.js'
import { type OnMergeContext, Trigger, type TriggerContext, TriggerResult } from './trigger.js'

/**
 * Fires once the watermark passes the end of the window (Flink's `EventTimeTrigger`, the default of
 * the event-time assigners): `onElement` registers an event-time timer at `window.maxTimestamp()` and
 * fires at once for an element that arrives after that (late, but within the allowed lateness), so a
 * window is re-evaluated for each such element.
 */
export class EventTimeTrigger extends Trigger<unknown, Window> {
  private static readonly instance = new EventTimeTrigger()

  private constructor() {
    super()
  }

  static create(): EventTimeTrigger {
    return EventTimeTrigger.instance
  }

  onElement(_element: unknown, _timestamp: number | undefined, window: Window, context: TriggerContext): TriggerResult {
    if (window.maxTimestamp() <= context.getCurrentWatermark()) {
      // The watermark is already past the window: fire at once.
      return TriggerResult.FIRE
    }
    context.registerEventTimeTimer(window.maxTimestamp())
    return TriggerResult.CONTINUE
  }

  onEventTime(time: number, window: Window, _context?: TriggerContext): TriggerResult {
    return time === window.maxTimestamp() ? TriggerResult.FIRE : TriggerResult.CONTINUE
  }

  onProcessingTime(_time?: number, _window?: Window, _context?: TriggerContext): TriggerResult {
    return TriggerResult.CONTINUE
  }

  override canMerge(): boolean {
    return true
  }

  override onMerge(window: Window, context: OnMergeContext): void {
    // Only register a timer if the watermark is not yet past the end of the merged window: otherwise
    // the window has already fired (or the element will fire it through onElement).
    const windowMaxTimestamp = window.maxTimestamp()
    if (windowMaxTimestamp > context.getCurrentWatermark()) context.registerEventTimeTimer(windowMaxTimestamp)
  }

  clear(window: Window, context: TriggerContext): void {
    context.deleteEventTimeTimer(window.maxTimestamp())
  }

  override toString(): string {
    return 'EventTimeTrigger()'
  }
}
