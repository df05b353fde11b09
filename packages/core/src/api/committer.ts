/**
 * Makes the committables that writers prepared at a checkpoint visible (rename a file, commit a
 * transaction). Flink's sink2 `Committer`.
 *
 * Called by the runtime only after the checkpoint that holds the committables is durable
 * (notifyCheckpointComplete), one call at a time, in checkpoint order. After a restore, the
 * committables of the restored checkpoint are committed again before any new record is processed, so
 * `commit` must be idempotent: a committable that is already committed must be reported with
 * `signalAlreadyCommitted()` (or simply succeed), never applied twice.
 *
 * Each request must be settled by one of its methods, or it counts as committed when `commit` returns.
 */
export interface Committer<Committable> {
  commit(requests: CommitRequest<Committable>[]): Promise<void>
  close(): Promise<void> | void
}

/** One committable to commit, and the verbs to report how it went. */
export interface CommitRequest<Committable> {
  readonly committable: Committable
  readonly checkpointId: number
  /** How many times this committable was handed back with `retryLater` so far. */
  readonly numberOfRetries: number
  /** Transient failure (a lock, a timeout): commit it again later. */
  retryLater(): void
  /** Like `retryLater`, with a changed committable. */
  updateAndRetryLater(committable: Committable): void
  /** It had already been committed (e.g. before a crash); nothing was done. */
  signalAlreadyCommitted(): void
  /** It can never be committed for a known reason (e.g. the transaction timed out); it is dropped with a warning. */
  signalFailedWithKnownReason(error: unknown): void
  /** It failed and nobody knows why: the job fails and restarts. */
  signalFailedWithUnknownReason(error: unknown): void
}

export interface CommitterContext {
  readonly subtaskId: number
  readonly parallelism: number
  readonly jobName: string
  readonly operatorUid: string
}
