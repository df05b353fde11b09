/**
 * What a {@link RollingPolicy} knows about an in-progress part file (Flink's `PartFileInfo`).
 * The writer passes the live part file: read it inside the call, do not keep it.
 */
export interface PartFileInfo {
  readonly bucketId: string
  /** When the part file was opened (epoch ms; kept across restores). */
  readonly creationTime: number
  /** When a record was last written to it (epoch ms; kept across restores). */
  readonly lastUpdateTime: number
  /** Bytes written to it so far, including bytes still buffered by the writer (approximate for bulk formats). */
  readonly size: number
}

/**
 * Decides when an in-progress part file is closed ("rolled"): it becomes pending, is handed to the
 * committer at the next checkpoint and is renamed to its finished name once that checkpoint is
 * durable. The bucket then opens a new part file with its next record (Flink's `RollingPolicy`).
 *
 * Called by the sink writer of one subtask, synchronously and never concurrently:
 * - `shouldRollOnEvent` before each record is appended to an open part file (row format), or before
 *   each batch of a bucket is handed to a bulk writer (bulk formats);
 * - `shouldRollOnProcessingTime` for every open part file at most once per `bucketCheckInterval`,
 *   when a batch is written or a checkpoint is prepared (Sluice runs no timer in the sink: a part file
 *   that is due rolls at the first batch or checkpoint after it became due);
 * - `shouldRollOnCheckpoint` for every open part file at each checkpoint (in `prepareCommit`). A row
 *   part file that does not roll stays in progress: the checkpoint records its length and a restore
 *   cuts it back to that length and keeps appending.
 *
 * At the end of bounded input every part file rolls, whatever the policy says. Bulk formats require
 * a {@link CheckpointRollingPolicy}: their files cannot be resumed, so they roll at every checkpoint.
 *
 * Must be deterministic given its inputs and keep no state of its own (one instance serves all
 * subtasks and all restarts).
 */
export interface RollingPolicy<T = unknown> {
  shouldRollOnCheckpoint(partFile: PartFileInfo): boolean
  shouldRollOnEvent(partFile: PartFileInfo, record: T): boolean
  shouldRollOnProcessingTime(partFile: PartFileInfo, currentTime: number): boolean
}

const checkpointRollingMarker = Symbol.for('sluice.filesink.CheckpointRollingPolicy')

/**
 * Base of the policies that roll at every checkpoint (Flink's `CheckpointRollingPolicy`), the only
 * kind bulk formats accept: `shouldRollOnCheckpoint` always holds (the writer does not even ask), and
 * subclasses may also roll on events (e.g. by size) or processing time.
 *
 * Recognised with {@link CheckpointRollingPolicy.isInstance} (a `Symbol.for` marker), not `instanceof`.
 */
export abstract class CheckpointRollingPolicy<T = unknown> implements RollingPolicy<T> {
  /** Marks the policy for {@link CheckpointRollingPolicy.isInstance}. */
  readonly [checkpointRollingMarker] = true
  shouldRollOnCheckpoint(_partFile: PartFileInfo): boolean {
    return true
  }
  abstract shouldRollOnEvent(partFile: PartFileInfo, record: T): boolean
  abstract shouldRollOnProcessingTime(partFile: PartFileInfo, currentTime: number): boolean

  static isInstance(policy: unknown): policy is CheckpointRollingPolicy<unknown> {
    return typeof policy === 'object' && policy !== null && checkpointRollingMarker in policy
  }
}

/** Rolls at every checkpoint and only then (Flink's `OnCheckpointRollingPolicy`); the default for bulk formats. */
export class OnCheckpointRollingPolicy<T = unknown> extends CheckpointRollingPolicy<T> {
  override shouldRollOnEvent(_partFile: PartFileInfo, _record: T): boolean {
    return false
  }
  override shouldRollOnProcessingTime(_partFile: PartFileInfo, _currentTime: number): boolean {
    return false
  }
  override toString(): string {
    return 'OnCheckpointRollingPolicy'
  }
}
