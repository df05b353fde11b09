/**
 * Writes the records of one parallel subtask of a sink.
 *
 * Called by one task, never concurrently. Per checkpoint the order is:
 *   write* → flush(false) → prepareCommit() → snapshotState(checkpointId)
 * and, after the checkpoint is durable, the sink's Committer receives the committables. When the input
 * ends: flush(true) → prepareCommit() → snapshotState(finalCheckpointId), so that nothing stays pending.
 * `close` is called once, also after a failure (then without a flush); it must release resources but
 * not commit anything.
 *
 * `write` receives a batch: `records[i]` has the event timestamp `context.timestampOf(i)`.
 */
export interface SinkWriter<In> {
  write(records: readonly In[], context: SinkWriterContext): Promise<void> | void
  /** Makes everything written so far durable in the writer's pre-commit form (or sent, for at-least-once sinks). */
  flush(endOfInput: boolean): Promise<void> | void
  close(): Promise<void> | void
}

/** A writer of a two-phase-commit sink: hands over what the Committer must commit for this checkpoint. */
export interface CommittingSinkWriter<In, Committable> extends SinkWriter<In> {
  /**
   * Called after `flush` at each checkpoint barrier (and at end of input). The returned committables
   * are stored in the checkpoint and committed once it is durable; they may be committed again after a
   * restore, so each must carry what the Committer needs to see it is already done.
   */
  prepareCommit(): Promise<Committable[]> | Committable[]
}

/** A writer with state: returns what `SupportsWriterState.restoreWriter` gets back after a restore. */
export interface StatefulSinkWriter<In, WriterState> extends SinkWriter<In> {
  snapshotState(checkpointId: number): Promise<WriterState[]> | WriterState[]
}

export function isCommittingSinkWriter<In>(writer: SinkWriter<In>): writer is CommittingSinkWriter<In, unknown> {
  return typeof (writer as Partial<CommittingSinkWriter<In, unknown>>).prepareCommit === 'function'
}

export function isStatefulSinkWriter<In>(writer: SinkWriter<In>): writer is StatefulSinkWriter<In, unknown> {
  return typeof (writer as Partial<StatefulSinkWriter<In, unknown>>).snapshotState === 'function'
}

/** Per-batch facts handed to {@link SinkWriter.write}. */
export interface SinkWriterContext {
  /** Event timestamp (epoch ms) of `records[index]`, or `undefined` if it has none. */
  timestampOf(index: number): number | undefined
  /** The current event-time watermark of this subtask (`-Infinity` before the first one). */
  readonly currentWatermark: number
}

/** What a writer learns when it is created. */
export interface WriterInitContext {
  readonly subtaskId: number
  readonly parallelism: number
  /** How many times the job has been restarted in this process (0 for the first run). */
  readonly attemptNumber: number
  /** Id of the checkpoint restored from, if any: a writer resuming may have to skip work of later ones. */
  readonly restoredCheckpointId: number | undefined
  /** A stable id of the job (from `execute(jobName)`), for naming transactions or files. */
  readonly jobName: string
  /** The sink operator's uid, also stable across restarts. */
  readonly operatorUid: string
  /**
   * The job's periodic checkpointing, or undefined when it is off: then committables are only
   * committed by the final checkpoint at the end of bounded input, and never for unbounded input.
   */
  readonly checkpointing: { readonly interval: number; readonly mode: 'EXACTLY_ONCE' | 'AT_LEAST_ONCE' } | undefined
  /** Reports a warning through the job's `onWarning`. */
  warn(message: string): void
}
