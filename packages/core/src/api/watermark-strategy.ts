import { ConfigError } from '../errors.js'
import type {
  TimestampAssigner,
  WatermarkGenerator,
  WatermarkGeneratorContext,
  WatermarkOutput,
} from './watermark-generator.js'

/**
 * How a stream gets event timestamps and watermarks: Flink's `WatermarkStrategy`.
 *
 * ```ts
 * const strategy = WatermarkStrategy.forBoundedOutOfOrderness<Event>(2000)
 *   .withTimestampAssigner((event) => event.time)
 *   .withIdleness(60_000)
 * env.fromSource(source, 'events', { watermarkStrategy: strategy })   // per split, at the source
 * stream.assignTimestampsAndWatermarks(strategy)                        // or anywhere in the pipeline
 * ```
 * Strategies are immutable: `with...` returns a new one. Each parallel input (source split, source
 * reader, operator subtask) gets its own generator from `createWatermarkGenerator`.
 */
export class WatermarkStrategy<T> {
  private constructor(
    private readonly generatorFactory: (context: WatermarkGeneratorContext) => WatermarkGenerator<T>,
    private readonly timestampAssigner: TimestampAssigner<T> | undefined,
    /** Ms without records after which an input is marked idle; undefined: never. */
    readonly idleTimeout: number | undefined,
  ) {}

  /**
   * Periodic watermarks for records at most `maxOutOfOrderness` ms out of order: the watermark is
   * `maxTimestampSeen - maxOutOfOrderness - 1` (Flink's `BoundedOutOfOrdernessWatermarks`).
   */
  static forBoundedOutOfOrderness<T>(maxOutOfOrderness: number): WatermarkStrategy<T> {
    if (typeof maxOutOfOrderness !== 'number' || !Number.isFinite(maxOutOfOrderness) || maxOutOfOrderness < 0) {
      throw new ConfigError('WatermarkStrategy.forBoundedOutOfOrderness', `maxOutOfOrderness must be a number of ms >= 0, got ${String(maxOutOfOrderness)}`)
    }
    return new WatermarkStrategy<T>(() => new BoundedOutOfOrdernessWatermarks<T>(maxOutOfOrderness), undefined, undefined)
  }

  /** Timestamps that never decrease: the watermark is `maxTimestampSeen - 1` (Flink's `AscendingTimestampsWatermarks`). */
  static forMonotonousTimestamps<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(() => new BoundedOutOfOrdernessWatermarks<T>(0), undefined, undefined)
  }

  /** No watermarks at all (processing-time pipelines); timestamps may still be assigned. */
  static noWatermarks<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(() => new NoWatermarksGenerator<T>(), undefined, undefined)
  }

  /** A user generator, periodic or punctuated; `factory` is called once per parallel input. */
  static forGenerator<T>(factory: (context: WatermarkGeneratorContext) => WatermarkGenerator<T>): WatermarkStrategy<T> {
    if (typeof factory !== 'function') {
      throw new ConfigError('WatermarkStrategy.forGenerator', `expected a function returning a WatermarkGenerator, got ${typeof factory}`)
    }
    return new WatermarkStrategy<T>(factory, undefined, undefined)
  }

  /** Takes each record's event timestamp from `assigner` instead of the timestamp the source gave it. */
  withTimestampAssigner(assigner: TimestampAssigner<T>): WatermarkStrategy<T> {
    if (typeof assigner !== 'function') {
      throw new ConfigError('WatermarkStrategy.withTimestampAssigner', `expected a function (event, recordTimestamp) => ms, got ${typeof assigner}`)
    }
    return new WatermarkStrategy<T>(this.generatorFactory, assigner, this.idleTimeout)
  }

  /**
   * Marks an input idle when it produced no record for `idleTimeout` ms of processing time (checked at
   * each periodic emit), so that it does not hold back the watermark downstream; its next record makes
   * it active again (Flink's `WatermarksWithIdleness`).
   */
  withIdleness(idleTimeout: number): WatermarkStrategy<T> {
    if (typeof idleTimeout !== 'number' || !Number.isFinite(idleTimeout) || idleTimeout <= 0) {
      throw new ConfigError('WatermarkStrategy.withIdleness', `idleTimeout must be a number of ms > 0, got ${String(idleTimeout)}`)
    }
    return new WatermarkStrategy<T>(this.generatorFactory, this.timestampAssigner, idleTimeout)
  }

  /** A new generator for one parallel input, wrapped for idleness when `withIdleness` was set. */
  createWatermarkGenerator(context: WatermarkGeneratorContext): WatermarkGenerator<T> {
    const generator = this.generatorFactory(context)
    if (this.idleTimeout === undefined) return generator
    return new WatermarksWithIdleness(generator, this.idleTimeout, () => context.currentProcessingTime())
  }

  /** The timestamp assigner: the user's, or one that keeps the record's own timestamp. */
  createTimestampAssigner(): TimestampAssigner<T> {
    return this.timestampAssigner ?? recordTimestampAssigner
  }

  /** @internal Whether a timestamp assigner was set (else records keep their own timestamps). */
  get hasTimestampAssigner(): boolean {
    return this.timestampAssigner !== undefined
  }
}

/** Keeps the record's timestamp; a record without one counts as Flink's "no timestamp" (`-Infinity`). */
const recordTimestampAssigner = (_event: unknown, recordTimestamp: number | undefined): number =>
  recordTimestamp ?? Number.NEGATIVE_INFINITY

/** Flink's `BoundedOutOfOrdernessWatermarks`: periodic, `maxTimestamp - outOfOrderness - 1`. */
export class BoundedOutOfOrdernessWatermarks<T> implements WatermarkGenerator<T> {
  private maxTimestamp = Number.NEGATIVE_INFINITY
  constructor(private readonly outOfOrderness: number) {}
  onEvent(_event: T, eventTimestamp: number): void {
    if (eventTimestamp > this.maxTimestamp) this.maxTimestamp = eventTimestamp
  }
  onPeriodicEmit(output: WatermarkOutput): void {
    output.emitWatermark(this.maxTimestamp - this.outOfOrderness - 1)
  }
}

/** Flink's `NoWatermarksGenerator`. */
export class NoWatermarksGenerator<T> implements WatermarkGenerator<T> {
  onEvent(): void {}
  onPeriodicEmit(): void {}
}

/**
 * Flink's `WatermarksWithIdleness`: at each periodic emit, an input that saw no event since the
 * previous check starts an inactivity period; once it has lasted longer than the timeout the input is
 * marked idle instead of emitting. Any event makes it active (the wrapped generator's next watermark).
 */
export class WatermarksWithIdleness<T> implements WatermarkGenerator<T> {
  private counter = 0
  private lastCounter = 0
  private startOfInactivity: number | undefined
  constructor(
    private readonly generator: WatermarkGenerator<T>,
    private readonly idleTimeout: number,
    private readonly clock: () => number,
  ) {}

  private idleNow = false

  onEvent(event: T, eventTimestamp: number, output: WatermarkOutput): void {
    this.generator.onEvent(event, eventTimestamp, output)
    this.counter++
    this.idleNow = false
  }

  onPeriodicEmit(output: WatermarkOutput): void {
    if (this.checkIfIdle()) {
      if (!this.idleNow) {
        output.markIdle()
        this.idleNow = true
      }
    } else {
      this.generator.onPeriodicEmit(output)
    }
  }

  private checkIfIdle(): boolean {
    if (this.counter !== this.lastCounter) {
      this.lastCounter = this.counter
      this.startOfInactivity = undefined
      return false
    }
    if (this.startOfInactivity === undefined) {
      this.startOfInactivity = this.clock()
      return false
    }
    return this.clock() - this.startOfInactivity > this.idleTimeout
  }
}
