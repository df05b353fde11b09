import type { ReaderOutput } from './source-reader.js'

/**
 * The output of one split of a reader (Flink's `SourceOutput`): records collected here go through the
 * split's own timestamp assigner and watermark generator, and the source's watermark is the minimum
 * over its splits' watermarks (idle splits excluded). Called by the reader's task only.
 */
export interface SourceOutput<T> {
  /** Emits a record of this split, with its event timestamp in epoch ms if it has one. */
  collect(record: T, timestamp?: number): void
  /**
   * Emits several records of this split at once, as {@link ReaderOutput.collectBatch} does: the same as
   * `collect` for each record in order, and the output takes ownership of both arrays. Optional (the
   * runtime's split outputs have it).
   */
  collectBatch?(records: T[], timestamps?: (number | undefined)[]): void
  /** No record of this split with a timestamp ≤ `timestamp` will follow. */
  emitWatermark(timestamp: number): void
  /** This split will not produce records for a while: it holds no watermark back. */
  markIdle(): void
  markActive(): void
}

/**
 * A {@link ReaderOutput} that supports per-split watermarks, as Flink's `ReaderOutput` does. The
 * runtime's outputs always support it; check with {@link supportsSplitOutputs} (test doubles may not).
 *
 * A reader that reads several splits creates one output per split when it starts reading it and
 * releases it when the split is finished (so a finished split holds nothing back). Records of a split
 * should only go through its split output; mixing them with `collect` on the main output makes the
 * source's watermark the highest of the main output's and the splits' combined one.
 */
export interface SplitAwareReaderOutput<T> extends ReaderOutput<T> {
  /** The output of split `splitId`; the same object for the same id until it is released. */
  createOutputForSplit(splitId: string): SourceOutput<T>
  /** The split is finished or removed: its watermark no longer counts. */
  releaseOutputForSplit(splitId: string): void
  /** The reader as a whole has nothing to read for a while (e.g. no split assigned). */
  markIdle(): void
  markActive(): void
}

/** Whether `output` supports per-split outputs (the runtime's do). */
export function supportsSplitOutputs<T>(output: ReaderOutput<T>): output is SplitAwareReaderOutput<T> {
  return typeof (output as Partial<SplitAwareReaderOutput<T>>).createOutputForSplit === 'function'
}
