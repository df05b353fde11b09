import { ConfigError } from '../errors.js'
import { describeValue } from '../option-checks.js'
import type {
  TimestampAssigner,
  WatermarkGenerator,
  WatermarkGeneratorContext,
  WatermarkOutput,
} from './watermark-generator.js'

/**
 * Watermark alignment of a source (Flink's `WatermarkAlignmentParams`), set by
 * {@link WatermarkStrategy.withWatermarkAlignment}.
 */
export interface WatermarkAlignmentParams {
  /** Sources whose strategies name the same group are kept in step with one another. */
  readonly group: string
  /** Ms of event time a source subtask's watermark may be ahead of the group's minimum before it pauses. */
  readonly maxAllowedDrift: number
  /** Flink's reporting period (ms); kept for compatibility, see {@link WatermarkStrategy.withWatermarkAlignment}. */
  readonly updateInterval: number
}

/** Flink's default `updateInterval` of watermark alignment. */
const DEFAULT_ALIGNMENT_UPDATE_INTERVAL = 1000

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
    /** Watermark alignment at the source; undefined: off. */
    readonly alignmentParams: WatermarkAlignmentParams | undefined = undefined,
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
    return new WatermarkStrategy<T>(this.generatorFactory, assigner, this.idleTimeout, this.alignmentParams)
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
    return new WatermarkStrategy<T>(this.generatorFactory, this.timestampAssigner, idleTimeout, this.alignmentParams)
  }

  /**
   * Keeps the sources of alignment `group` in step (Flink's watermark alignment, FLIP-182): a source
   * subtask whose watermark is more than `maxAllowedDrift` ms of event time ahead of the group's
   * minimum stops reading until the minimum catches up, so that an operator joining or windowing
   * several sources (its watermark is the slowest input's) does not buffer a fast source's whole lead.
   *
   * - The group's minimum is taken over the watermarks of its source subtasks, across all sources
   *   whose strategy names the group. Not counted: a subtask that has emitted no watermark yet, one
   *   that is idle (see {@link withIdleness}) and one whose input has ended.
   * - A subtask pauses when its watermark is above `minimum + maxAllowedDrift` (its own drift, when
   *   sources of a group set different ones) and resumes as soon as it no longer is. It is checked
   *   whenever a watermark of the group changes, and takes effect between two `pollNext` calls: the
   *   records of one poll are the slack. A paused subtask still takes checkpoints, stops and cancels.
   * - While paused, the subtask's idleness clock stands still: holding back is not being idle.
   * - Splits too (Flink's per-split alignment): with watermarks per split and a reader that implements
   *   `SourceReader.pauseOrResumeSplits`, each split whose own watermark is above the limit is paused
   *   and resumed on its own. A reader without it is paused as a whole only.
   * - Only at the source (`fromSource`): `assignTimestampsAndWatermarks` ignores it, as in Flink.
   *
   * `updateInterval` (ms, default 1000) is accepted for code written against Flink, where subtasks
   * report their watermarks to the coordinator and it announces the group's limit that often. All
   * subtasks of a Sluice job share one process: a subtask reports every change of its watermark at
   * once and the limit is recomputed right away, so there is no update delay to configure.
   */
  withWatermarkAlignment(group: string, maxAllowedDrift: number, updateInterval = DEFAULT_ALIGNMENT_UPDATE_INTERVAL): WatermarkStrategy<T> {
    const where = 'WatermarkStrategy.withWatermarkAlignment'
    if (typeof group !== 'string' || group.length === 0) {
      throw new ConfigError(`${where}.group`, `expected a non-empty string naming the alignment group, got ${describeValue(group)}`)
    }
    if (typeof maxAllowedDrift !== 'number' || !Number.isFinite(maxAllowedDrift) || maxAllowedDrift < 0) {
      throw new ConfigError(`${where}.maxAllowedDrift`, `expected a number of ms >= 0, got ${describeValue(maxAllowedDrift)}`)
    }
    if (typeof updateInterval !== 'number' || !Number.isFinite(updateInterval) || updateInterval <= 0) {
      throw new ConfigError(`${where}.updateInterval`, `expected a number of ms > 0, got ${describeValue(updateInterval)}`)
    }
    return new WatermarkStrategy<T>(this.generatorFactory, this.timestampAssigner, this.idleTimeout, { group, maxAllowedDrift, updateInterval })
  }

  /** A new generator for one parallel input, wrapped for idleness when `withIdleness` was set. */
  createWatermarkGenerator(context: WatermarkGeneratorContext): WatermarkGenerator<T> {
    const generator = this.generatorFactory(context)
    if (this.idleTimeout === undefined) return generator
    // The input's activity clock stands still while the input is held back on purpose (alignment).
    const activity = context.inputActivityClock
    const clock = activity === undefined ? () => context.currentProcessingTime() : () => activity.call(context)
    return new WatermarksWithIdleness(generator, this.idleTimeout, clock)
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

/**
 * @internal Whether `generator.onEvent` only remembers the highest timestamp it saw (and, with idleness,
 * that it saw an event): then one call with a batch's highest timestamp (and its last event) has the
 * same effect as one call per record, so sources may feed it once per batch. True of the built-in
 * periodic generators; false of any other (a user's, or a subclass overriding `onEvent`), which must
 * see every record in order (a punctuated generator emits between records).
 */
export function onlyTracksMaxTimestamp(generator: WatermarkGenerator<unknown>): boolean {
  const onEvent = generator.onEvent
  if (onEvent === BoundedOutOfOrdernessWatermarks.prototype.onEvent || onEvent === NoWatermarksGenerator.prototype.onEvent) return true
  // Its counter only has to change when events arrive, which one call per batch does.
  if (onEvent === WatermarksWithIdleness.prototype.onEvent) return onlyTracksMaxTimestamp((generator as WatermarksWithIdleness<unknown>).wrapped)
  return false
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

  /** @internal The generator this one wraps. */
  get wrapped(): WatermarkGenerator<T> {
    return this.generator
  }

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
