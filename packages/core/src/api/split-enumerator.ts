import type { SourceSplit } from './source-split.js'

/**
 * Runs once per source per job (on the coordinator), discovers splits and assigns them to readers.
 *
 * Lifecycle, all calls from one coordinator loop, never concurrently:
 *   start → (addReader | handleSplitRequest | addSplitsBack | snapshotState | notifyCheckpointComplete)* → close
 * `snapshotState(checkpointId)` is taken at the moment the checkpoint is triggered, before any reader
 * sees the barrier: splits assigned before it are in the readers' state, splits assigned after it are
 * still in the enumerator's. After a failure the whole job restarts from the checkpoint, so
 * `addSplitsBack` is only needed for splits returned by a reader that is going away.
 */
export interface SplitEnumerator<Split extends SourceSplit, EnumState> {
  /** Starts discovery. May start periodic work through {@link SplitEnumeratorContext.callAsync}. */
  start(): void
  /** A reader asked for a split (readers of pull-based sources call `sendSplitRequest`). */
  handleSplitRequest(subtaskId: number): void
  /** Splits a reader had but did not finish, returned to be assigned again. */
  addSplitsBack(splits: Split[], subtaskId: number): void
  /** A reader registered; push-based enumerators assign it its splits here. */
  addReader(subtaskId: number): void
  /** The enumerator's state at this checkpoint: typically the splits not yet assigned. */
  snapshotState(checkpointId: number): EnumState
  /** The checkpoint is durable. Optional. */
  notifyCheckpointComplete?(checkpointId: number): void
  close(): Promise<void> | void
}

/** What an enumerator may do; provided by the runtime. */
export interface SplitEnumeratorContext<Split extends SourceSplit> {
  /** Number of parallel readers. */
  readonly parallelism: number
  /** Subtask ids of the readers currently registered. */
  registeredReaders(): number[]
  /** Hands splits to a reader. Delivered before any later checkpoint barrier. */
  assignSplits(subtaskId: number, splits: Split[]): void
  /** Tells a reader it will get no more splits (a bounded reader then ends once its splits are done). */
  signalNoMoreSplits(subtaskId: number): void
  /**
   * Runs `work` (e.g. discovering new partitions) every `periodMs`, then `handler` on the coordinator
   * loop with its result. Stopped when the enumerator closes. A failure of `work` fails the job.
   */
  callAsync<R>(work: () => Promise<R>, handler: (result: R) => void, periodMs?: number): void
}
