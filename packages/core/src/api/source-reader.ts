import type { SourceSplit } from './source-split.js'

/** What a {@link SourceReader.pollNext} call left behind. */
export type InputStatus =
  /** More records can be polled right away. */
  | 'MORE_AVAILABLE'
  /** Nothing now; the runtime waits on {@link SourceReader.isAvailable} before polling again. */
  | 'NOTHING_AVAILABLE'
  /** The reader has no splits and will get none: this subtask's input has ended. */
  | 'END_OF_INPUT'

/**
 * Where a reader puts records. `collect` is synchronous and cheap: the runtime appends to the batch it
 * is building and ships it downstream when the poll returns, so records move in batches, not promises.
 */
export interface ReaderOutput<T> {
  /** Emits a record, with its event timestamp in epoch milliseconds if it has one. */
  collect(record: T, timestamp?: number): void
  /**
   * Emits several records at once: the same as `collect(records[i], timestamps?.[i])` for each `i` in
   * order, with less work per record (a reader that produces records in runs, like `datagenSource`,
   * should prefer it). `timestamps`, when given, has one entry per record (`undefined` for a record
   * without one). The output takes ownership of both arrays: the reader must not touch them afterwards.
   * Optional: the runtime's outputs have it, test doubles may not; fall back to `collect` without it.
   */
  collectBatch?(records: T[], timestamps?: (number | undefined)[]): void
  /** Emits a watermark: no record with a timestamp ≤ `timestamp` will follow from this reader. */
  emitWatermark(timestamp: number): void
}

/**
 * Reads the splits assigned to one parallel subtask of a source.
 *
 * Called by the subtask's own loop only, never concurrently:
 *   start → (addSplits | pollNext | isAvailable | snapshotState | notifyCheckpointComplete | notifyNoMoreSplits)* → close
 * - `pollNext` emits up to a batch of records into the output and returns at once; it must not wait.
 *   When it returns `NOTHING_AVAILABLE`, the loop awaits `isAvailable()` (a promise that resolves when
 *   records or a split arrive); this is the only place a reader waits.
 * - `snapshotState(checkpointId)` returns every split the reader owns with its current position
 *   folded in; records emitted before the call are before the checkpoint barrier, later ones after.
 * - After a restore the reader is created anew and gets its checkpointed splits through `addSplits`.
 */
export interface SourceReader<T, Split extends SourceSplit> {
  start(): Promise<void> | void
  pollNext(output: ReaderOutput<T>): InputStatus
  /** Resolves when `pollNext` may return records again. Must resolve after `addSplits`/`close` too. */
  isAvailable(): Promise<void>
  addSplits(splits: Split[]): void
  notifyNoMoreSplits(): void
  snapshotState(checkpointId: number): Split[]
  notifyCheckpointComplete?(checkpointId: number): Promise<void> | void
  /**
   * Stops and restarts reading single splits: watermark alignment per split (Flink's
   * `SourceReader#pauseOrResumeSplits`). Called by the runtime from the subtask's loop, between polls,
   * with split ids: a split whose own watermark (per-split watermarks, `createOutputForSplit`) went
   * above its alignment group's maximum allowed watermark is paused, a paused one that fell back within
   * it is resumed. A paused split emits nothing but stays owned (and checkpointed) as before; a reader
   * whose splits are all paused answers `NOTHING_AVAILABLE` and resolves `isAvailable()` once one is
   * resumed. Optional: without it alignment holds back the whole subtask only.
   */
  pauseOrResumeSplits?(splitsToPause: readonly string[], splitsToResume: readonly string[]): void
  close(): Promise<void> | void
}

/** What a reader may do; provided by the runtime. */
export interface SourceReaderContext {
  /** This reader's subtask index, `0 ≤ subtaskId < parallelism`. */
  readonly subtaskId: number
  readonly parallelism: number
  /** Asks the enumerator for a split; it answers with `addSplits` or `notifyNoMoreSplits`. */
  sendSplitRequest(): void
}
