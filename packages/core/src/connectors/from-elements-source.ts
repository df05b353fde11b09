import type { SimpleVersionedSerializer } from '../api/serializer.js'
import type { Source } from '../api/source.js'
import { supportsSplitOutputs } from '../api/source-output.js'
import type { InputStatus, ReaderOutput, SourceReader, SourceReaderContext } from '../api/source-reader.js'
import type { SplitEnumerator, SplitEnumeratorContext } from '../api/split-enumerator.js'
import { ConfigError, IllegalStateError } from '../errors.js'
import { AvailabilityNotifier, availableNow } from './availability-notifier.js'
import {
  type IndexRangeSplit,
  indexRangeSplitListSerializer,
  indexRangeSplitSerializer,
  indexRangeSplits,
} from './index-range-split.js'
import {
  defaultSourceBatchSize,
  describeValue,
  functionOption,
  optionsObject,
  positiveIntegerOption,
} from './option-validation.js'
import { StaticSplitEnumerator } from './static-split-enumerator.js'

/** Options of {@link fromElementsSource}. */
export interface FromElementsSourceOptions<T> {
  /** Event timestamp (epoch ms) of each element; without it records carry none. */
  timestamps?: (value: T, index: number) => number
  /** Most records emitted per `pollNext`. Default 1024. */
  batchSize?: number
}

const optionKeys = ['timestamps', 'batchSize'] as const

/**
 * A bounded source of the given elements (Flink's `fromElements` / `fromCollection`).
 *
 * The iterable is read once, here, into an array that the source object keeps; splits hold only
 * index ranges, so elements need not be serializable and checkpoints stay small. The enumerator cuts
 * `[0, n)` into `parallelism` contiguous ranges (fewer when there are fewer elements, never an empty
 * one) and gives subtask `i` the `i`-th range when it registers; subtasks without a range end at once.
 * Each subtask emits its range in order, so output order is preserved within a subtask.
 *
 * Exactly-once: a checkpoint records the next index of every range, and a restored job resumes
 * there. A restored job must be built with the same elements: the splits refer to them by index.
 */
export function fromElementsSource<T>(
  values: Iterable<T>,
  options?: FromElementsSourceOptions<T>,
): Source<T, IndexRangeSplit, IndexRangeSplit[]> {
  if (values === null || typeof (values as Partial<Iterable<T>> | undefined)?.[Symbol.iterator] !== 'function') {
    throw new ConfigError('fromElements.values', `expected an iterable (an array, a Set, a generator), got ${describeValue(values)}`)
  }
  const checked = optionsObject(options, 'fromElements', optionKeys)
  const timestamps = functionOption<(value: T, index: number) => number>(checked.timestamps, 'fromElements.timestamps')
  const batchSize = positiveIntegerOption(checked.batchSize, 'fromElements.batchSize') ?? defaultSourceBatchSize
  const elements: readonly T[] = Array.from(values)

  return {
    boundedness: 'BOUNDED',
    createEnumerator(context: SplitEnumeratorContext<IndexRangeSplit>): SplitEnumerator<IndexRangeSplit, IndexRangeSplit[]> {
      return new StaticSplitEnumerator(context, indexRangeSplits(elements.length, context.parallelism))
    },
    restoreEnumerator(
      context: SplitEnumeratorContext<IndexRangeSplit>,
      checkpoint: IndexRangeSplit[],
    ): SplitEnumerator<IndexRangeSplit, IndexRangeSplit[]> {
      return new StaticSplitEnumerator(context, checkpoint)
    },
    createReader(_context: SourceReaderContext): SourceReader<T, IndexRangeSplit> {
      return new FromElementsReader(elements, batchSize, timestamps)
    },
    splitSerializer(): SimpleVersionedSerializer<IndexRangeSplit> {
      return indexRangeSplitSerializer()
    },
    enumeratorCheckpointSerializer(): SimpleVersionedSerializer<IndexRangeSplit[]> {
      return indexRangeSplitListSerializer()
    },
  }
}

interface RangePosition {
  readonly splitId: string
  readonly start: number
  readonly end: number
  next: number
}

/**
 * Emits the elements of its ranges in index order, one range after the other, up to `batchSize` per
 * poll. Finished ranges are dropped, so they are not in the snapshot.
 */
class FromElementsReader<T> implements SourceReader<T, IndexRangeSplit> {
  private readonly elements: readonly T[]
  private readonly batchSize: number
  private readonly timestamps: ((value: T, index: number) => number) | undefined
  private readonly ranges: RangePosition[] = []
  private noMoreSplits = false
  private closed = false
  private readonly availability = new AvailabilityNotifier()

  constructor(elements: readonly T[], batchSize: number, timestamps: ((value: T, index: number) => number) | undefined) {
    this.elements = elements
    this.batchSize = batchSize
    this.timestamps = timestamps
  }

  start(): void {}

  pollNext(output: ReaderOutput<T>): InputStatus {
    const range = this.ranges[0]
    if (range === undefined) return this.noMoreSplits ? 'END_OF_INPUT' : 'NOTHING_AVAILABLE'
    // Per-split watermarks: every assigned range has its output from the start (a range not read yet
    // holds the source's watermark back), and releases it when done.
    const splitAware = supportsSplitOutputs(output)
    if (splitAware) for (const assigned of this.ranges) output.createOutputForSplit(assigned.splitId)
    const target = splitAware ? output.createOutputForSplit(range.splitId) : output
    const stop = Math.min(range.end, range.next + this.batchSize)
    const elements = this.elements
    const timestamps = this.timestamps
    // Two loops rather than a check per record: the common case has no timestamp function.
    if (timestamps === undefined) {
      for (let index = range.next; index < stop; index++) target.collect(elements[index] as T)
    } else {
      for (let index = range.next; index < stop; index++) {
        const value = elements[index] as T
        target.collect(value, timestamps(value, index))
      }
    }
    range.next = stop
    if (stop === range.end) {
      this.ranges.shift()
      if (splitAware) output.releaseOutputForSplit(range.splitId)
    }
    // END_OF_INPUT is only ever returned by a poll that emitted nothing, so the last records and the
    // end of input never travel in the same answer.
    return 'MORE_AVAILABLE'
  }

  isAvailable(): Promise<void> {
    if (this.ranges.length > 0 || this.noMoreSplits || this.closed) return availableNow
    return this.availability.wait()
  }

  addSplits(splits: IndexRangeSplit[]): void {
    for (const split of splits) {
      if (split.end > this.elements.length) {
        throw new IllegalStateError(
          `fromElements split ${split.splitId} covers indexes [${split.start}, ${split.end}) but the source has ` +
            `${this.elements.length} elements; restore the job with the same elements it was checkpointed with`,
        )
      }
      if (split.next < split.end) this.ranges.push({ splitId: split.splitId, start: split.start, end: split.end, next: split.next })
    }
    this.availability.notify()
  }

  notifyNoMoreSplits(): void {
    this.noMoreSplits = true
    this.availability.notify()
  }

  snapshotState(_checkpointId: number): IndexRangeSplit[] {
    return this.ranges.map(({ splitId, start, end, next }) => ({ splitId, start, end, next }))
  }

  close(): void {
    this.closed = true
    this.availability.notify()
  }
}
