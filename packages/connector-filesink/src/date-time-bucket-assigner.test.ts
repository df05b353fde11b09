import { ConfigError } from '@sluice/core'
import { describe, expect, it } from 'vitest'
import type { BucketAssignerContext } from './bucket-assigner.js'
import { DateTimeBucketAssigner } from './date-time-bucket-assigner.js'
import { systemTimeZone } from './date-time-format.js'

const at = (processingTime: number, timestamp?: number): BucketAssignerContext => ({
  currentProcessingTime: () => processingTime,
  timestamp: () => timestamp,
  currentWatermark: Number.NEGATIVE_INFINITY,
  recordIndex: 5,
})

/** 2024-03-10T06:59:59.123Z: minutes before the US DST change of 2024 (07:00Z = 02:00 EST → 03:00 EDT). */
const beforeDst = Date.UTC(2024, 2, 10, 6, 59, 59, 123)

function configErrorPath(create: () => unknown): string | undefined {
  try {
    create()
  } catch (error) {
    return ConfigError.isInstance(error) ? error.path : `not a ConfigError: ${String(error)}`
  }
  return undefined
}

describe('DateTimeBucketAssigner', () => {
  it("defaults to Flink's hourly yyyy-MM-dd--HH in the system time zone, on processing time", () => {
    const assigner = new DateTimeBucketAssigner()
    expect(assigner.format).toBe('yyyy-MM-dd--HH')
    expect(assigner.timeZone).toBe(systemTimeZone())
    expect(assigner.timeSource).toBe('processing-time')
    const utc = new DateTimeBucketAssigner({ timeZone: 'UTC' })
    expect(utc.getBucketId('record', at(beforeDst, 0))).toBe('2024-03-10--06')
  })

  it('formats in the configured IANA time zone, across a DST change and with a half-hour offset', () => {
    const newYork = new DateTimeBucketAssigner({ timeZone: 'America/New_York' })
    expect(newYork.getBucketId('r', at(beforeDst))).toBe('2024-03-10--01')
    expect(newYork.getBucketId('r', at(beforeDst + 1000))).toBe('2024-03-10--03') // 02:xx does not exist that night
    const kolkata = new DateTimeBucketAssigner({ format: 'yyyy-MM-dd HH:mm', timeZone: 'Asia/Kolkata' })
    expect(kolkata.getBucketId('r', at(beforeDst))).toBe('2024-03-10 12:29')
  })

  it('supports nested paths, literals, two-digit years, day of year and milliseconds', () => {
    const utc = (format: string) => new DateTimeBucketAssigner({ format, timeZone: 'UTC' }).getBucketId('r', at(beforeDst))
    expect(utc('yyyy/MM/dd/HH')).toBe('2024/03/10/06')
    expect(utc("'day='yyyy-MM-dd'/hour='H")).toBe('day=2024-03-10/hour=6')
    expect(utc("yy-M-d 'o''clock'")).toBe("24-3-10 o'clock")
    expect(utc('yyyy-DDD')).toBe('2024-070')
    expect(utc('HH:mm:ss.SSS')).toBe('06:59:59.123')
    expect(utc('uuuu-MM-dd')).toBe('2024-03-10')
  })

  it('accepts the pattern as a string argument, like Flink', () => {
    expect(new DateTimeBucketAssigner('yyyy-MM-dd').format).toBe('yyyy-MM-dd')
  })

  it('uses the record timestamp with timeSource event-time, and names a record without one', () => {
    const assigner = new DateTimeBucketAssigner({ timeZone: 'UTC', timeSource: 'event-time' })
    expect(assigner.getBucketId('r', at(0, beforeDst))).toBe('2024-03-10--06')
    expect(() => assigner.getBucketId('r', at(beforeDst, undefined))).toThrow(/needs a record timestamp, but the record has none/)
  })

  it('gives the same id to every record of the same second (cached) and a new one after', () => {
    const assigner = new DateTimeBucketAssigner({ format: 'HH:mm:ss', timeZone: 'UTC' })
    expect(assigner.getBucketId('r', at(beforeDst))).toBe('06:59:59')
    expect(assigner.getBucketId('r', at(beforeDst + 500))).toBe('06:59:59')
    expect(assigner.getBucketId('r', at(beforeDst + 877))).toBe('07:00:00')
  })

  it('refuses bad options when constructed, naming the option', () => {
    expect(configErrorPath(() => new DateTimeBucketAssigner({ format: 'yyyy-MM-dd--hh' }))).toBe('dateTimeBucketAssigner.format')
    expect(configErrorPath(() => new DateTimeBucketAssigner({ format: "yyyy 'open" }))).toBe('dateTimeBucketAssigner.format')
    expect(configErrorPath(() => new DateTimeBucketAssigner({ format: 'yyyyyyyyyy' }))).toBe('dateTimeBucketAssigner.format')
    expect(configErrorPath(() => new DateTimeBucketAssigner({ format: '' }))).toBe('dateTimeBucketAssigner.format')
    expect(configErrorPath(() => new DateTimeBucketAssigner({ timeZone: 'Mars/Olympus' }))).toBe('dateTimeBucketAssigner.timeZone')
    expect(configErrorPath(() => new DateTimeBucketAssigner({ timeSource: 'ingestion' as 'event-time' }))).toBe('dateTimeBucketAssigner.timeSource')
    expect(configErrorPath(() => new DateTimeBucketAssigner({ zone: 'UTC' } as never))).toBe('dateTimeBucketAssigner.zone')
    expect(() => new DateTimeBucketAssigner({ format: 'yyyy-MM-dd--hh' })).toThrow(/pattern letter 'h' at position 12/)
  })
})
