import type { SourceOutput, SplitAwareReaderOutput } from '../../api/source-output.js'
import type { TimestampAssigner, WatermarkGenerator, WatermarkGeneratorContext, WatermarkOutput } from '../../api/watermark-generator.js'
import { onlyTracksMaxTimestamp, type WatermarkStrategy } from '../../api/watermark-strategy.js'
import { batchLengthMismatch, type OutputBuffer } from '../output-buffer.js'
import { MAX_WATERMARK, MIN_WATERMARK } from '../stream-element.js'

/**
 * Told of every change of an operator's effective watermark or idleness, after it went into the output
 * (Flink's `TimestampsAndWatermarks.WatermarkUpdateListener`): how a source reports to watermark alignment.
 */
export type WatermarkUpdateListener = (watermark: number, idle: boolean) => void

/**
 * Writes watermarks and statuses into an operator's output buffer, in order with its records (Flink's
 * `WatermarkToDataOutput`): only rising watermarks pass, and a watermark after `IDLE` is preceded by
 * `ACTIVE`.
 */
export class WatermarkToOutputBuffer implements WatermarkOutput {
  /** The highest watermark emitted so far. */
  maxWatermark = MIN_WATERMARK
  private idle = false

  constructor(
    private readonly buffer: OutputBuffer,
    private readonly listener?: WatermarkUpdateListener,
  ) {}

  emitWatermark(timestamp: number): void {
    if (!(timestamp > this.maxWatermark)) return
    this.maxWatermark = timestamp
    if (this.idle) {
      this.idle = false
      this.buffer.collectWatermarkStatus('ACTIVE')
    }
    this.buffer.collectWatermark(timestamp)
    this.listener?.(timestamp, false)
  }

  markIdle(): void {
    if (this.idle) return
    this.idle = true
    this.buffer.collectWatermarkStatus('IDLE')
    this.listener?.(this.maxWatermark, true)
  }

  markActive(): void {
    if (!this.idle) return
    this.idle = false
    this.buffer.collectWatermarkStatus('ACTIVE')
    this.listener?.(this.maxWatermark, false)
  }
}

interface PartialWatermark {
  watermark: number
  idle: boolean
}

/**
 * Combines the watermarks of several outputs (the splits of a reader) into one (Flink's
 * `WatermarkOutputMultiplexer` with `CombinedWatermarkStatus`): the minimum over the outputs that are not
 * idle, emitted when it rises; when every output is idle the combined output is marked idle.
 * Periodic emits are combined once per round (`deferred`), event-driven ones at once.
 */
export class WatermarkOutputMultiplexer {
  private readonly partials = new Map<string, PartialWatermark>()
  private combined = MIN_WATERMARK
  private deferring = false

  constructor(private readonly underlying: WatermarkOutput) {}

  /** Registers output `id` (no watermark yet, active) and returns it. */
  register(id: string, idle = false): WatermarkOutput {
    const partial: PartialWatermark = { watermark: MIN_WATERMARK, idle }
    this.partials.set(id, partial)
    this.update()
    return {
      emitWatermark: (timestamp) => {
        partial.idle = false
        if (timestamp > partial.watermark) partial.watermark = timestamp
        this.update()
      },
      markIdle: () => {
        partial.idle = true
        this.update()
      },
      markActive: () => {
        partial.idle = false
        this.update()
      },
    }
  }

  unregister(id: string): void {
    if (this.partials.delete(id)) this.update()
  }

  /** The watermark of output `id` (`MIN_WATERMARK` before its first), or undefined when not registered. */
  watermarkOf(id: string): number | undefined {
    return this.partials.get(id)?.watermark
  }

  /** Runs the periodic emits of all outputs, then combines once. */
  deferred(emitAll: () => void): void {
    this.deferring = true
    try {
      emitAll()
    } finally {
      this.deferring = false
    }
    this.update()
  }

  private update(): void {
    if (this.deferring || this.partials.size === 0) return
    let minimum = MAX_WATERMARK
    let allIdle = true
    for (const partial of this.partials.values()) {
      if (partial.idle) continue
      allIdle = false
      if (partial.watermark < minimum) minimum = partial.watermark
    }
    if (allIdle) {
      this.underlying.markIdle()
    } else if (minimum > this.combined) {
      this.combined = minimum
      this.underlying.emitWatermark(minimum)
    }
  }
}

/**
 * `collect(records[i], timestamps?.[i])` of a source output for every record, in order: each record's
 * event timestamp from the assigner (or its own, `-Infinity` without one), into the buffer, then the
 * generator's `onEvent`. A generator that only tracks the highest timestamp (the built-in periodic
 * ones) is told once per batch and the buffer takes the batch whole; any other generator sees every
 * record right after it was collected, as with `collect`, so a watermark it emits stays in place.
 */
function collectBatchInto<T>(
  buffer: OutputBuffer,
  assigner: TimestampAssigner<T> | undefined,
  generator: WatermarkGenerator<T>,
  batchGenerator: boolean,
  output: WatermarkOutput,
  records: T[],
  timestamps: (number | undefined)[] | undefined,
): void {
  const count = records.length
  if (timestamps !== undefined && timestamps.length !== count) throw batchLengthMismatch(count, timestamps.length)
  if (count === 0) return
  if (!batchGenerator) {
    for (let index = 0; index < count; index++) {
      const record = records[index] as T
      const timestamp = timestamps?.[index]
      const eventTimestamp = assigner === undefined ? (timestamp ?? MIN_WATERMARK) : assigner(record, timestamp)
      buffer.collect(record, eventTimestamp)
      generator.onEvent(record, eventTimestamp, output)
    }
    return
  }
  let eventTimestamps: (number | undefined)[]
  let maxTimestamp = MIN_WATERMARK
  if (assigner !== undefined) {
    eventTimestamps = new Array(count)
    for (let index = 0; index < count; index++) {
      const eventTimestamp = assigner(records[index] as T, timestamps?.[index])
      eventTimestamps[index] = eventTimestamp
      if (eventTimestamp > maxTimestamp) maxTimestamp = eventTimestamp
    }
  } else if (timestamps !== undefined) {
    // The records' own timestamps; one without a timestamp gets "no timestamp" (-Infinity), as in `collect`.
    eventTimestamps = timestamps
    for (let index = 0; index < count; index++) {
      const timestamp = timestamps[index]
      if (timestamp === undefined) timestamps[index] = MIN_WATERMARK
      else if (timestamp > maxTimestamp) maxTimestamp = timestamp
    }
  } else {
    eventTimestamps = new Array(count).fill(MIN_WATERMARK)
  }
  buffer.emitBatch(records, eventTimestamps)
  generator.onEvent(records[count - 1] as T, maxTimestamp, output)
}

/** One split's output: its records go through its own assigner and generator. */
class SplitOutput<T> implements SourceOutput<T> {
  /** The generator can be told once per batch (see {@link collectBatchInto}). */
  private readonly batchGenerator: boolean

  constructor(
    private readonly buffer: OutputBuffer,
    private readonly assigner: TimestampAssigner<T> | undefined,
    readonly generator: WatermarkGenerator<T> | undefined,
    readonly partial: WatermarkOutput,
  ) {
    this.batchGenerator = generator !== undefined && onlyTracksMaxTimestamp(generator as WatermarkGenerator<unknown>)
  }

  collect(record: T, timestamp?: number): void {
    const generator = this.generator
    if (generator === undefined) {
      this.buffer.collect(record, timestamp)
      return
    }
    const assigner = this.assigner
    // Without an assigner of its own the strategy keeps the record's timestamp (no call per record).
    const eventTimestamp = assigner === undefined ? (timestamp ?? MIN_WATERMARK) : assigner(record, timestamp)
    this.buffer.collect(record, eventTimestamp)
    generator.onEvent(record, eventTimestamp, this.partial)
  }

  collectBatch(records: T[], timestamps?: (number | undefined)[]): void {
    const generator = this.generator
    if (generator === undefined) this.buffer.collectBatch(records, timestamps)
    else collectBatchInto(this.buffer, this.assigner, generator, this.batchGenerator, this.partial, records, timestamps)
  }

  emitWatermark(timestamp: number): void {
    this.partial.emitWatermark(timestamp)
  }

  markIdle(): void {
    this.partial.markIdle()
  }

  markActive(): void {
    this.partial.markActive()
  }
}

const MAIN_OUTPUT_ID = '\u0000main'

/**
 * Timestamps and watermarks of one source subtask (Flink's `ProgressiveTimestampsAndWatermarks`): the
 * reader output handed to `pollNext`, per-split outputs with their own generators, and the periodic
 * emission. The main output only counts toward the combined watermark once it is used (a record, a
 * watermark or `markIdle` on it), so a reader that only uses split outputs is not held back by it.
 *
 * Without a strategy the reader writes straight into the output buffer (no call per record is added)
 * and only the watermarks the reader emits itself are forwarded. `listener` hears every change of the
 * subtask's combined watermark and idleness (watermark alignment).
 */
export class SourceWatermarks<T> {
  readonly readerOutput: SplitAwareReaderOutput<T>
  readonly toBuffer: WatermarkToOutputBuffer
  private readonly multiplexer: WatermarkOutputMultiplexer
  private readonly splits = new Map<string, SplitOutput<T>>()
  private readonly assigner: TimestampAssigner<T> | undefined
  private readonly mainGenerator: WatermarkGenerator<T> | undefined
  private mainPartial: WatermarkOutput | undefined
  /** Registers the main output on first real use. */
  private readonly lazyMainOutput: WatermarkOutput

  constructor(
    private readonly buffer: OutputBuffer,
    private readonly strategy: WatermarkStrategy<T> | undefined,
    private readonly generatorContext: WatermarkGeneratorContext,
    listener?: WatermarkUpdateListener,
  ) {
    this.toBuffer = new WatermarkToOutputBuffer(buffer, listener)
    this.multiplexer = new WatermarkOutputMultiplexer(this.toBuffer)
    this.lazyMainOutput = {
      // A generator that saw nothing emits "no watermark" (-Infinity): that is no use of the output.
      emitWatermark: (timestamp) => {
        if (this.mainPartial === undefined && timestamp === MIN_WATERMARK) return
        this.mainOutput().emitWatermark(timestamp)
      },
      markIdle: () => {
        if (this.mainPartial === undefined) this.mainPartial = this.multiplexer.register(MAIN_OUTPUT_ID, true)
        else this.mainPartial.markIdle()
      },
      markActive: () => this.mainOutput().markActive(),
    }
    const splitMethods = {
      createOutputForSplit: (splitId: string) => this.createOutputForSplit(splitId),
      releaseOutputForSplit: (splitId: string) => this.releaseOutputForSplit(splitId),
      emitWatermark: (timestamp: number) => this.lazyMainOutput.emitWatermark(timestamp),
      markIdle: () => this.lazyMainOutput.markIdle(),
      markActive: () => this.lazyMainOutput.markActive(),
    }
    if (strategy === undefined) {
      // The buffer itself is the main output: `collect` stays the buffer's own method (the hot path).
      this.readerOutput = Object.assign(buffer, splitMethods) as unknown as SplitAwareReaderOutput<T>
    } else {
      const assigner = strategy.hasTimestampAssigner ? strategy.createTimestampAssigner() : undefined
      const generator = strategy.createWatermarkGenerator(generatorContext)
      this.assigner = assigner
      this.mainGenerator = generator
      const lazyMain = this.lazyMainOutput
      const batchGenerator = onlyTracksMaxTimestamp(generator as WatermarkGenerator<unknown>)
      this.readerOutput = {
        ...splitMethods,
        collect: (record: T, timestamp?: number) => {
          const eventTimestamp = assigner === undefined ? (timestamp ?? MIN_WATERMARK) : assigner(record, timestamp)
          buffer.collect(record, eventTimestamp)
          if (this.mainPartial === undefined) this.mainOutput()
          generator.onEvent(record, eventTimestamp, lazyMain)
        },
        collectBatch: (records: T[], timestamps?: (number | undefined)[]) => {
          if (records.length > 0 && this.mainPartial === undefined) this.mainOutput()
          collectBatchInto(buffer, assigner, generator, batchGenerator, lazyMain, records, timestamps)
        },
      }
    }
  }

  /** Calls every generator's `onPeriodicEmit` and combines the result once. */
  emitPeriodic(): void {
    if (this.strategy === undefined) return
    this.multiplexer.deferred(() => {
      this.mainGenerator?.onPeriodicEmit(this.lazyMainOutput)
      for (const split of this.splits.values()) split.generator?.onPeriodicEmit(split.partial)
    })
  }

  /**
   * The watermark of each split that has its own output (per-split watermarks), by split id: what
   * watermark alignment compares per split.
   */
  splitWatermarks(): Map<string, number> {
    const watermarks = new Map<string, number>()
    for (const splitId of this.splits.keys()) watermarks.set(splitId, this.multiplexer.watermarkOf(splitId) ?? MIN_WATERMARK)
    return watermarks
  }

  /** The end of input: the MAX watermark, after which nothing else is emitted. */
  emitFinalWatermark(): void {
    this.toBuffer.emitWatermark(MAX_WATERMARK)
  }

  private mainOutput(): WatermarkOutput {
    this.mainPartial ??= this.multiplexer.register(MAIN_OUTPUT_ID)
    return this.mainPartial
  }

  private createOutputForSplit(splitId: string): SourceOutput<T> {
    let output = this.splits.get(splitId)
    if (output === undefined) {
      const partial = this.multiplexer.register(splitId)
      const generator = this.strategy?.createWatermarkGenerator(this.generatorContext)
      output = new SplitOutput<T>(this.buffer, this.assigner, generator, partial)
      this.splits.set(splitId, output)
    }
    return output
  }

  private releaseOutputForSplit(splitId: string): void {
    if (this.splits.delete(splitId)) this.multiplexer.unregister(splitId)
  }
}
