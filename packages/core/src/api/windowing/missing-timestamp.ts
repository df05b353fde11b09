import { IllegalStateError } from '../../errors.js'

/** An event-time assigner got a record without an event timestamp (Flink throws the same). */
export function missingTimestamp(assigner: string): IllegalStateError {
  return new IllegalStateError(
    `${assigner}: a record has no event timestamp; give the source timestamps, or call ` +
      "assignTimestampsAndWatermarks(...) / pass a watermark strategy to fromSource(...) before an event-time window",
  )
}

/** Whether an event-time assigner can use `timestamp` (Flink's `timestamp > Long.MIN_VALUE`). */
export function hasTimestamp(timestamp: number | undefined): timestamp is number {
  return timestamp !== undefined && timestamp > Number.NEGATIVE_INFINITY
}
