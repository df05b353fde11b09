/**
 * Writes one bulk-encoded part file (e.g. Parquet). Created per part file; records come in batches.
 *
 * Called by one file sink writer, never concurrently: `addElements*` then exactly one of `finish`
 * (at the checkpoint that rolls the part file) or `abort` (after a failure, or on close without a
 * checkpoint). Bulk part files roll on every checkpoint, so a bulk writer is never resumed after a
 * restart: an in-progress bulk file that was not committed is deleted on recovery.
 */
export interface BulkWriter<T> {
  addElements(elements: readonly T[]): Promise<void> | void
  /** Bytes written to the file so far (approximate; for size reporting). */
  readonly bytesWritten: number
  /** Writes what is buffered and the footer, fsyncs and closes: the file is complete and readable. */
  finish(): Promise<void>
  /** Closes without completing (after a failure); the file is garbage. */
  abort(): Promise<void>
}

/**
 * A bulk format: validated at sink build time, then creates a writer per part file path.
 * Implementations must be stateless apart from their configuration: one instance serves all
 * subtasks and all restarts of a job.
 */
export interface BulkFormat<T> {
  /** e.g. '.parquet' — appended to finished part file names unless OutputFileConfig sets a suffix. */
  readonly extension: string
  /** Throws a ConfigError naming what is wrong (schema, compression) — called when the sink is built. */
  validate(): void
  createWriter(path: string): Promise<BulkWriter<T>>
}
