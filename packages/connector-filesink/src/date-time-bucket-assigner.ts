import { ConfigError } from '@sluice/core'
import type { BucketAssigner, BucketAssignerContext } from './bucket-assigner.js'
import { compileDateTimeFormat, type DateTimeFormat, systemTimeZone } from './date-time-format.js'
import { describeValue, optionsObject } from './option-validation.js'

/** Which clock a {@link DateTimeBucketAssigner} formats. */
export type BucketTimeSource = 'processing-time' | 'event-time'

/** Options of {@link DateTimeBucketAssigner}. */
export interface DateTimeBucketAssignerOptions {
  /** Pattern of the bucket id (see `DateTimeFormat` for the letters). Default `yyyy-MM-dd--HH`: one bucket per hour. */
  format?: string
  /** IANA time zone the time is formatted in, e.g. `UTC`, `Europe/Paris`. Default: the system's time zone (as Flink). */
  timeZone?: string
  /**
   * `processing-time` (default, as Flink): the wall clock when the sink writes the record's batch.
   * `event-time`: the record's own timestamp (`SinkWriterContext.timestampOf`); a record without one
   * fails the job with a `BucketAssignmentError` naming it. Event time puts a replayed record in the
   * same bucket as before a failure, processing time may not (it is later then).
   */
  timeSource?: BucketTimeSource
}

/** The default pattern: one bucket per hour, as Flink's `DateTimeBucketAssigner`. */
export const defaultDateTimeBucketFormat = 'yyyy-MM-dd--HH'

/**
 * Buckets records by time (Flink's `DateTimeBucketAssigner`, the default assigner of both formats):
 * the bucket id is the time formatted with a pattern, by default `yyyy-MM-dd--HH` in the system time
 * zone, e.g. `2024-05-01--13`. A pattern with `/` gives nested directories (`yyyy/MM/dd`).
 *
 * ```ts
 * new DateTimeBucketAssigner()                                  // yyyy-MM-dd--HH, system zone, processing time
 * new DateTimeBucketAssigner('yyyy-MM-dd')                      // one bucket per day
 * new DateTimeBucketAssigner({ format: 'yyyy/MM/dd/HH', timeZone: 'UTC', timeSource: 'event-time' })
 * ```
 * The pattern and time zone are checked in the constructor (a `ConfigError` naming
 * `dateTimeBucketAssigner.format` or `.timeZone`), before the sink is built.
 */
export class DateTimeBucketAssigner<T = unknown> implements BucketAssigner<T> {
  readonly format: string
  readonly timeZone: string
  readonly timeSource: BucketTimeSource
  private readonly formatter: DateTimeFormat

  constructor(options: DateTimeBucketAssignerOptions | string = {}) {
    const resolved = typeof options === 'string' ? { format: options } : options
    const path = 'dateTimeBucketAssigner'
    const checked = optionsObject(resolved, path, ['format', 'timeZone', 'timeSource'])
    const timeSource = checked.timeSource ?? 'processing-time'
    if (timeSource !== 'processing-time' && timeSource !== 'event-time') {
      throw new ConfigError(`${path}.timeSource`, `expected 'processing-time' | 'event-time', got ${describeValue(timeSource)}`)
    }
    if (checked.timeZone !== undefined && (typeof checked.timeZone !== 'string' || checked.timeZone.length === 0)) {
      throw new ConfigError(`${path}.timeZone`, `expected an IANA time zone name, got ${describeValue(checked.timeZone)}`)
    }
    this.formatter = compileDateTimeFormat(checked.format ?? defaultDateTimeBucketFormat, checked.timeZone ?? systemTimeZone(), path)
    this.format = this.formatter.pattern
    this.timeZone = this.formatter.timeZone
    this.timeSource = timeSource
  }

  getBucketId(_record: T, context: BucketAssignerContext): string {
    if (this.timeSource === 'processing-time') return this.formatter.format(context.currentProcessingTime())
    const timestamp = context.timestamp()
    if (timestamp === undefined || !Number.isFinite(timestamp)) {
      throw new Error(`event-time bucketing needs a record timestamp, but the record has ${timestamp === undefined ? 'none' : timestamp} (assign timestamps at the source, or use timeSource 'processing-time')`)
    }
    return this.formatter.format(timestamp)
  }

  toString(): string {
    return `DateTimeBucketAssigner{format='${this.format}', timeZone=${this.timeZone}, timeSource=${this.timeSource}}`
  }
}
