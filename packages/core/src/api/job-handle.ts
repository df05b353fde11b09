/** Figures of a running or finished job. */
export interface JobMetrics {
  /** Records emitted by all source readers, over all attempts. */
  readonly recordsFromSources: number
  readonly checkpointsCompleted: number
  readonly checkpointsFailed: number
  readonly lastCheckpointId: number | undefined
  readonly lastCheckpointDurationMs: number | undefined
  readonly lastCheckpointPath: string | undefined
  /** Restarts after failures in this process. */
  readonly restarts: number
  /** The checkpoint the current attempt restored from, if any. */
  readonly restoredCheckpointId: number | undefined
  /** ms from `execute()` (or the latest restart) until the first record left a source. */
  readonly timeToFirstRecordMs: number | undefined
}

/** How a job ended. */
export interface JobResult {
  readonly jobName: string
  readonly state: 'FINISHED' | 'CANCELED'
  /** The savepoint taken by stop-with-savepoint, if that is how it ended. */
  readonly savepointPath: string | undefined
  readonly metrics: JobMetrics
}

/**
 * A running job, returned by `env.execute()` (Flink's JobClient). `result` resolves when the job
 * finishes (bounded input, stop-with-savepoint, cancel) and rejects with a JobFailedError when the
 * restart strategy gives up.
 */
export interface JobHandle {
  readonly jobName: string
  readonly result: Promise<JobResult>
  /** Stops the job without a savepoint; checkpoints are kept or deleted per `externalizedCleanup`. */
  cancel(): Promise<void>
  /** Takes a savepoint while the job keeps running; resolves with its directory. */
  triggerSavepoint(directory?: string): Promise<string>
  /**
   * Stops the sources, takes a savepoint, commits it and ends the job. With `drain`, the input is
   * ended first (MAX watermark, all windows fire) as in `flink stop --drain`.
   */
  stopWithSavepoint(options?: { drain?: boolean; directory?: string }): Promise<string>
  metrics(): JobMetrics
}
