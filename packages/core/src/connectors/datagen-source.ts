import type { SimpleVersionedSerializer } from '../api/serializer.js'
import type { Source } from '../api/source.js'
import { supportsSplitOutputs } from '../api/source-output.js'
import type { InputStatus, ReaderOutput, SourceReader, SourceReaderContext } from '../api/source-reader.js'
import type { SplitEnumerator, SplitEnumeratorContext } from '../api/split-enumerator.js'
import { ConfigError } from '../errors.js'
import { AvailabilityNotifier, availableNow } from './availability-notifier.js'
import { type DatagenSplit, datagenSplitListSerializer, datagenSplitSerializer } from './datagen-split.js'
import { contiguousRanges } from './index-range-split.js'
import {
  defaultSourceBatchSize,
  describeValue,
  functionOption,
  nonNegativeIntegerOption,
  optionsObject,
  positiveIntegerOption,
  positiveNumberOption,
} from './option-validation.js'
import { StaticSplitEnumerator } from './static-split-enumerator.js'
import { TokenBucket } from './token-bucket.js'

export { seededInt, seededRandom } from './seeded-random.js'
export type { DatagenSplit } from './datagen-split.js'

/** Options of {@link datagenSource}. */
export interface DatagenSourceOptions<T> {
  /** The record of each index. Must be a pure function of the index (use `seededRandom` for randomness). */
  generator: (index: number) => T
  /** Number of records: the source is bounded and generates indexes `[0, count)`. Unbounded when omitted. */
  count?: number
  /**
   * Records per second over all readers; each reader gets `recordsPerSecond / parallelism`. As fast
   * as possible when omitted.
   */
  recordsPerSecond?: number
  /** Number of splits the index space is cut into. Default: the source's parallelism. */
  splits?: number
  /** Event timestamp (epoch ms) of each record; without it records carry none. */
  timestamp?: (value: T, index: number) => number
  /** Most records emitted per `pollNext`. Default 1024. */
  batchSize?: number
}

const optionKeys = ['generator', 'count', 'recordsPerSecond', 'splits', 'timestamp', 'batchSize'] as const

/** Largest share of a second a rate-limited reader may emit in one burst after being idle. */
const burstSeconds = 0.1

/**
 * A deterministic data generator (Flink's `DataGeneratorSource`): record `i` is `generator(i)`.
 *
 * The index space is cut into `splits` splits (default: parallelism), spread round-robin over the
 * readers. Bounded (`count` given): `[0, count)` in contiguous ranges, never an empty one. Unbounded:
 * split `k` of `S` yields `k, k + S, k + 2S, ...`. A reader with several splits takes turns between them
 * one batch at a time, so no unbounded split starves another; a split paused by watermark alignment
 * (`pauseOrResumeSplits`) is skipped until resumed.
 *
 * Exactly-once and reproducible: each split's position is its next index, checkpointed and restored
 * as is, and since the generator is a pure function of the index a restored job emits exactly the
 * records the failed one would have.
 *
 * With `recordsPerSecond`, each reader runs a token bucket holding at most 100 ms of records (at least
 * one, at most a batch); when it is empty `pollNext` returns `NOTHING_AVAILABLE` and `isAvailable()`
 * resolves by a timer when the next token is due, so a throttled reader sleeps instead of spinning.
 */
export function datagenSource<T>(options: DatagenSourceOptions<T>): Source<T, DatagenSplit, DatagenSplit[]> {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('datagen', `expected an options object with a generator, got ${describeValue(options)}`)
  }
  const checked = optionsObject(options, 'datagen', optionKeys)
  const generator = functionOption<(index: number) => T>(checked.generator, 'datagen.generator')
  if (generator === undefined) throw new ConfigError('datagen.generator', 'is required: a function from record index to record')
  const count = nonNegativeIntegerOption(checked.count, 'datagen.count')
  const recordsPerSecond = positiveNumberOption(checked.recordsPerSecond, 'datagen.recordsPerSecond')
  const splitCount = positiveIntegerOption(checked.splits, 'datagen.splits')
  const timestamp = functionOption<(value: T, index: number) => number>(checked.timestamp, 'datagen.timestamp')
  const batchSize = positiveIntegerOption(checked.batchSize, 'datagen.batchSize') ?? defaultSourceBatchSize

  const initialSplits = (parallelism: number): DatagenSplit[] => {
    const splits = splitCount ?? parallelism
    if (count !== undefined) {
      return contiguousRanges(count, splits).map(({ start, end }, rangeIndex) => ({
        splitId: String(rangeIndex),
        next: start,
        end,
        stride: 1,
      }))
    }
    return Array.from({ length: splits }, (_, splitIndex) => ({ splitId: String(splitIndex), next: splitIndex, end: null, stride: splits }))
  }

  return {
    boundedness: count === undefined ? 'CONTINUOUS_UNBOUNDED' : 'BOUNDED',
    createEnumerator(context: SplitEnumeratorContext<DatagenSplit>): SplitEnumerator<DatagenSplit, DatagenSplit[]> {
      return new StaticSplitEnumerator(context, initialSplits(context.parallelism))
    },
    restoreEnumerator(
      context: SplitEnumeratorContext<DatagenSplit>,
      checkpoint: DatagenSplit[],
    ): SplitEnumerator<DatagenSplit, DatagenSplit[]> {
      return new StaticSplitEnumerator(context, checkpoint)
    },
    createReader(context: SourceReaderContext): SourceReader<T, DatagenSplit> {
      let rateLimiter: TokenBucket | undefined
      if (recordsPerSecond !== undefined) {
        const readerRate = recordsPerSecond / context.parallelism
        rateLimiter = new TokenBucket(readerRate, Math.min(batchSize, readerRate * burstSeconds))
      }
      return new DatagenReader(generator, batchSize, timestamp, rateLimiter)
    },
    splitSerializer(): SimpleVersionedSerializer<DatagenSplit> {
      return datagenSplitSerializer()
    },
    enumeratorCheckpointSerializer(): SimpleVersionedSerializer<DatagenSplit[]> {
      return datagenSplitListSerializer()
    },
  }
}

interface SplitPosition {
  readonly splitId: string
  next: number
  /** `Infinity` for an unbounded split. */
  readonly end: number
  readonly stride: number
}

/** Generates the indexes of its splits, one split per poll in turn, throttled by an optional token bucket. */
class DatagenReader<T> implements SourceReader<T, DatagenSplit> {
  private readonly generator: (index: number) => T
  private readonly batchSize: number
  private readonly timestamp: ((value: T, index: number) => number) | undefined
  private readonly rateLimiter: TokenBucket | undefined
  private readonly splits: SplitPosition[] = []
  /** The split the next poll serves. */
  private turn = 0
  /** Splits paused by watermark alignment: skipped until resumed. */
  private readonly paused = new Set<string>()
  private noMoreSplits = false
  private closed = false
  private readonly availability = new AvailabilityNotifier()
  private refillTimer: ReturnType<typeof setTimeout> | undefined

  constructor(
    generator: (index: number) => T,
    batchSize: number,
    timestamp: ((value: T, index: number) => number) | undefined,
    rateLimiter: TokenBucket | undefined,
  ) {
    this.generator = generator
    this.batchSize = batchSize
    this.timestamp = timestamp
    this.rateLimiter = rateLimiter
  }

  start(): void {}

  pollNext(output: ReaderOutput<T>): InputStatus {
    if (this.splits.length === 0) return this.noMoreSplits ? 'END_OF_INPUT' : 'NOTHING_AVAILABLE'
    const budget = this.rateLimiter === undefined ? this.batchSize : this.rateLimiter.take(this.batchSize)
    if (budget === 0) return 'NOTHING_AVAILABLE'
    if (this.turn >= this.splits.length) this.turn = 0
    if (this.paused.size > 0 && !this.nextUnpausedTurn()) {
      this.rateLimiter?.giveBack(budget)
      return 'NOTHING_AVAILABLE'
    }
    const split = this.splits[this.turn] as SplitPosition
    const { generator, timestamp } = this
    const { end, stride } = split
    // Per-split watermarks (only worth it with timestamps): every split has its output from the start.
    const splitAware = timestamp !== undefined && supportsSplitOutputs(output)
    if (splitAware) for (const assigned of this.splits) output.createOutputForSplit(assigned.splitId)
    const target = splitAware ? output.createOutputForSplit(split.splitId) : output
    let index = split.next
    let emitted = 0
    // The batch goes over whole when the output takes batches: no call per record into the output, and
    // arrays allocated at their final size (growing them by `push` costs more than generating a record).
    const count = Math.min(budget, Math.ceil((end - index) / stride))
    if (timestamp === undefined) {
      if (output.collectBatch !== undefined) {
        const values: T[] = new Array(count)
        for (; emitted < count; emitted++, index += stride) values[emitted] = generator(index)
        output.collectBatch(values)
      } else {
        for (; emitted < budget && index < end; emitted++, index += stride) output.collect(generator(index))
      }
    } else if (target.collectBatch !== undefined) {
      const values: T[] = new Array(count)
      const timestamps: number[] = new Array(count)
      for (; emitted < count; emitted++, index += stride) {
        const value = generator(index)
        values[emitted] = value
        timestamps[emitted] = timestamp(value, index)
      }
      target.collectBatch(values, timestamps)
    } else {
      for (; emitted < budget && index < end; emitted++, index += stride) {
        const value = generator(index)
        target.collect(value, timestamp(value, index))
      }
    }
    split.next = index
    if (emitted < budget) this.rateLimiter?.giveBack(budget - emitted)
    if (index >= end) {
      this.splits.splice(this.turn, 1)
      this.paused.delete(split.splitId)
      if (splitAware) output.releaseOutputForSplit(split.splitId)
    } else {
      this.turn++
    }
    // END_OF_INPUT only comes from a poll that emitted nothing, so the last records and the end of
    // input never travel in the same answer.
    return 'MORE_AVAILABLE'
  }

  /** Moves `turn` to the first split from it on (wrapping) that is not paused; false when all are. */
  private nextUnpausedTurn(): boolean {
    for (let step = 0; step < this.splits.length; step++) {
      const candidate = (this.turn + step) % this.splits.length
      if (!this.paused.has((this.splits[candidate] as SplitPosition).splitId)) {
        this.turn = candidate
        return true
      }
    }
    return false
  }

  pauseOrResumeSplits(splitsToPause: readonly string[], splitsToResume: readonly string[]): void {
    for (const splitId of splitsToPause) this.paused.add(splitId)
    for (const splitId of splitsToResume) this.paused.delete(splitId)
    if (splitsToResume.length > 0) this.availability.notify()
  }

  isAvailable(): Promise<void> {
    if (this.closed || (this.splits.length === 0 && this.noMoreSplits)) return availableNow
    if (this.splits.length === 0) return this.availability.wait()
    if (this.paused.size > 0 && this.splits.every((split) => this.paused.has(split.splitId))) return this.availability.wait()
    const waitMilliseconds = this.rateLimiter?.millisecondsUntilAvailable() ?? 0
    if (waitMilliseconds === 0) return availableNow
    if (this.refillTimer === undefined) {
      this.refillTimer = setTimeout(() => {
        this.refillTimer = undefined
        this.availability.notify()
      }, Math.ceil(waitMilliseconds))
    }
    return this.availability.wait()
  }

  addSplits(splits: DatagenSplit[]): void {
    for (const split of splits) {
      const end = split.end ?? Number.POSITIVE_INFINITY
      if (split.next < end) this.splits.push({ splitId: split.splitId, next: split.next, end, stride: split.stride })
    }
    this.availability.notify()
  }

  notifyNoMoreSplits(): void {
    this.noMoreSplits = true
    this.availability.notify()
  }

  snapshotState(_checkpointId: number): DatagenSplit[] {
    return this.splits.map(({ splitId, next, end, stride }) => ({
      splitId,
      next,
      end: end === Number.POSITIVE_INFINITY ? null : end,
      stride,
    }))
  }

  close(): void {
    this.closed = true
    if (this.refillTimer !== undefined) clearTimeout(this.refillTimer)
    this.refillTimer = undefined
    this.availability.notify()
  }
}
