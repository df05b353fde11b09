import { describe, expect, it } from 'vitest'
import type { SourceOutput, SplitAwareReaderOutput } from '../../api/source-output.js'
import type { WatermarkOutput } from '../../api/watermark-generator.js'
import { BoundedOutOfOrdernessWatermarks, WatermarkStrategy } from '../../api/watermark-strategy.js'
import { IllegalStateError } from '../../errors.js'
import { OutputBuffer } from '../output-buffer.js'
import { SourceWatermarks } from './source-watermarks.js'

interface Event {
  id: number
  time?: number
}

/** Everything the source emitted, in order: records with their timestamps, watermarks and statuses. */
function emitted(buffer: OutputBuffer): unknown[] {
  const out: unknown[] = []
  const records = (values: unknown[], timestamps: (number | undefined)[] | null) => {
    for (const [index, value] of values.entries()) out.push({ value, timestamp: timestamps === null ? undefined : timestamps[index] })
  }
  for (const element of buffer.takeSegments()) {
    if (element.kind === 'records') records(element.values, element.timestamps)
    else out.push(element)
  }
  const { values, timestamps } = buffer.take()
  records(values, timestamps)
  return out
}

type Target = 'split' | 'main'

/** Runs the same reads through `collect` (one call per record) and through `collectBatch`. */
function both(strategy: WatermarkStrategy<Event> | undefined, target: Target, batches: { records: Event[]; timestamps?: (number | undefined)[] }[]) {
  const run = (batched: boolean) => {
    const buffer = new OutputBuffer()
    const watermarks = new SourceWatermarks<Event>(buffer, strategy, { currentProcessingTime: () => 0 })
    const reader: SplitAwareReaderOutput<Event> = watermarks.readerOutput
    const output: SourceOutput<Event> = target === 'split' ? reader.createOutputForSplit('0') : reader
    for (const { records, timestamps } of batches) {
      if (batched) {
        ;(output.collectBatch as NonNullable<SourceOutput<Event>['collectBatch']>)([...records], timestamps === undefined ? undefined : [...timestamps])
      } else {
        for (const [index, record] of records.entries()) output.collect(record, timestamps?.[index])
      }
      watermarks.emitPeriodic()
    }
    return emitted(buffer)
  }
  return { perRecord: run(false), batched: run(true) }
}

/** Counts the records it saw: told once per batch, it would count batches. */
class CountingWatermarks extends BoundedOutOfOrdernessWatermarks<Event> {
  private seen = 0
  constructor() {
    super(0)
  }
  override onEvent(event: Event, timestamp: number): void {
    super.onEvent(event, timestamp)
    this.seen++
  }
  override onPeriodicEmit(output: WatermarkOutput): void {
    // Nothing before the first record, so that an unused main output holds no watermark back.
    if (this.seen > 0) output.emitWatermark(this.seen)
  }
}

const events = (from: number, count: number): Event[] => Array.from({ length: count }, (_, index) => ({ id: from + index, time: (from + index) * 10 }))

describe('SourceWatermarks: collectBatch is collect for each record', () => {
  const batches = [
    { records: events(0, 5), timestamps: [0, 10, 20, 30, 40] },
    { records: events(5, 3), timestamps: [50, undefined, 70] },
    { records: events(8, 0), timestamps: [] },
    { records: events(8, 4) },
  ]
  const strategies: [string, WatermarkStrategy<Event> | undefined][] = [
    ['no strategy', undefined],
    ['monotonous', WatermarkStrategy.forMonotonousTimestamps<Event>()],
    ['bounded out of orderness, with idleness', WatermarkStrategy.forBoundedOutOfOrderness<Event>(15).withIdleness(1000)],
    ['a timestamp assigner', WatermarkStrategy.forMonotonousTimestamps<Event>().withTimestampAssigner((event) => (event.time ?? 0) + 1)],
    [
      'a punctuated generator (watermarks between the records of a batch)',
      WatermarkStrategy.forGenerator<Event>(() => ({
        onEvent: (event, timestamp, output) => {
          if (event.id % 2 === 0) output.emitWatermark(timestamp - 1)
        },
        onPeriodicEmit: () => {},
      })),
    ],
    [
      'a user periodic generator',
      WatermarkStrategy.forGenerator<Event>(() => {
        let last = Number.NEGATIVE_INFINITY
        return {
          onEvent: (_event, timestamp) => {
            last = timestamp
          },
          onPeriodicEmit: (output) => output.emitWatermark(last),
        }
      }),
    ],
    ['a subclass of a built-in generator that overrides onEvent', WatermarkStrategy.forGenerator<Event>(() => new CountingWatermarks())],
  ]
  for (const target of ['split', 'main'] as const) {
    for (const [name, strategy] of strategies) {
      it(`${name}, on the ${target} output`, () => {
        const { perRecord, batched } = both(strategy, target, batches)
        expect(perRecord.length).toBeGreaterThanOrEqual(12)
        expect(batched).toEqual(perRecord)
      })
    }
  }

  it('refuses timestamps that do not match the records one to one', () => {
    const buffer = new OutputBuffer()
    const watermarks = new SourceWatermarks<Event>(buffer, WatermarkStrategy.forMonotonousTimestamps<Event>(), { currentProcessingTime: () => 0 })
    const split = watermarks.readerOutput.createOutputForSplit('0')
    expect(() => split.collectBatch?.(events(0, 2), [1])).toThrow(IllegalStateError)
    expect(() => watermarks.readerOutput.collectBatch?.(events(0, 2), [1, 2, 3])).toThrow('expected one timestamp per record, got 3 timestamps for 2 records')
    const plain = new SourceWatermarks<Event>(new OutputBuffer(), undefined, { currentProcessingTime: () => 0 })
    expect(() => plain.readerOutput.collectBatch?.(events(0, 1), [])).toThrow(IllegalStateError)
  })

  it('withIdleness per split: a silent split goes idle and no longer holds the others back; its next record makes it count again', () => {
    let now = 0
    const buffer = new OutputBuffer()
    const strategy = WatermarkStrategy.forMonotonousTimestamps<Event>().withIdleness(100)
    const watermarks = new SourceWatermarks<Event>(buffer, strategy, { currentProcessingTime: () => now })
    const busy = watermarks.readerOutput.createOutputForSplit('busy')
    const silent = watermarks.readerOutput.createOutputForSplit('silent')
    const watermarksEmitted = () =>
      emitted(buffer)
        .filter((element) => (element as { kind?: string }).kind !== undefined)
        .map((element) => {
          const { kind, timestamp, status } = element as { kind: string; timestamp?: number; status?: string }
          return kind === 'watermark' ? timestamp : status
        })
    silent.collect({ id: 0, time: 5 }, 5)
    busy.collect({ id: 1, time: 50 }, 50)
    watermarks.emitPeriodic()
    // Both splits count: the minimum of their watermarks (timestamp - 1).
    expect(watermarksEmitted()).toEqual([4])
    // Only the busy split gets records; the silent one is held to 4 until its idle timeout runs out.
    for (let step = 1; step <= 3; step++) {
      now += 60
      busy.collect({ id: 1 + step, time: 50 + step * 100 }, 50 + step * 100)
      watermarks.emitPeriodic()
    }
    expect(watermarksEmitted()).toEqual([349])
    now += 60
    busy.collect({ id: 5, time: 450 }, 450)
    watermarks.emitPeriodic()
    expect(watermarksEmitted()).toEqual([449])
    // The silent split's next record counts again: its watermark (599) is above the busy one's (449).
    now += 10
    silent.collect({ id: 6, time: 600 }, 600)
    busy.collect({ id: 7, time: 500 }, 500)
    watermarks.emitPeriodic()
    expect(watermarksEmitted()).toEqual([499])
  })
})
