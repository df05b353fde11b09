import type { CommitRequest, Committer } from '../../api/committer.js'
import type { VersionedBytes } from '../../api/serializer.js'
import { type Sink, supportsCommitter } from '../../api/sink.js'
import { type SinkWriter, type SinkWriterContext, isCommittingSinkWriter } from '../../api/sink-writer.js'

/**
 * A stand-in for the runtime, for testing sinks before the real one exists: it drives one writer per
 * subtask (and one committer per subtask, for sinks that have one) the way the contracts in `api/`
 * say the runtime does.
 *
 * Per checkpoint: `flush(false)` → `prepareCommit()` on every writer; the committables are serialized
 * with the sink's committable serializer, as a checkpoint on disk would hold them. `commit(checkpointId)`
 * then deserializes them and hands them to the committer of the subtask that prepared them, as
 * {@link CommitRequest}s whose outcome is recorded. A "restore" is a new driver (with a higher
 * `attemptNumber`) given the stored committables of the restored checkpoint to commit again.
 */

/** How a commit request was settled. `committed` if the committer returned without calling a verb. */
export type CommitOutcome = 'committed' | 'alreadyCommitted' | 'retryLater' | 'failedWithKnownReason' | 'failedWithUnknownReason'

/** The committables one checkpoint captured, serialized, with the subtask that prepared each. */
export interface StoredCommittables {
  readonly checkpointId: number
  readonly committables: ReadonlyArray<{ readonly subtaskId: number; readonly serialized: VersionedBytes }>
}

export interface SinkDriverOptions {
  parallelism: number
  /** Default 0 (the first run). */
  attemptNumber?: number
  restoredCheckpointId?: number
  jobName?: string
}

class RecordingCommitRequest<C> implements CommitRequest<C> {
  outcome: CommitOutcome = 'committed'
  error: unknown
  committable: C
  readonly checkpointId: number
  readonly numberOfRetries: number

  constructor(committable: C, checkpointId: number, numberOfRetries: number) {
    this.committable = committable
    this.checkpointId = checkpointId
    this.numberOfRetries = numberOfRetries
  }

  retryLater(): void {
    this.outcome = 'retryLater'
  }
  updateAndRetryLater(committable: C): void {
    this.committable = committable
    this.outcome = 'retryLater'
  }
  signalAlreadyCommitted(): void {
    this.outcome = 'alreadyCommitted'
  }
  signalFailedWithKnownReason(error: unknown): void {
    this.outcome = 'failedWithKnownReason'
    this.error = error
  }
  signalFailedWithUnknownReason(error: unknown): void {
    this.outcome = 'failedWithUnknownReason'
    this.error = error
  }
}

export class SinkDriver<T> {
  readonly writers: SinkWriter<T>[]
  /** Committables of every checkpoint taken by this driver, by checkpoint id. */
  readonly checkpoints = new Map<number, StoredCommittables>()
  private readonly sink: Sink<T>
  private readonly committers: Committer<unknown>[]

  private constructor(sink: Sink<T>, writers: SinkWriter<T>[], committers: Committer<unknown>[]) {
    this.sink = sink
    this.writers = writers
    this.committers = committers
  }

  /** Creates one writer (and committer) per subtask. */
  static async start<T>(sink: Sink<T>, options: SinkDriverOptions): Promise<SinkDriver<T>> {
    const { parallelism } = options
    const jobName = options.jobName ?? 'test-job'
    const writers: SinkWriter<T>[] = []
    const committers: Committer<unknown>[] = []
    for (let subtaskId = 0; subtaskId < parallelism; subtaskId++) {
      writers.push(
        await sink.createWriter({
          subtaskId,
          parallelism,
          attemptNumber: options.attemptNumber ?? 0,
          restoredCheckpointId: options.restoredCheckpointId,
          jobName,
          operatorUid: 'sink',
          checkpointing: { interval: 1000, mode: 'EXACTLY_ONCE' },
          warn: () => {},
        }),
      )
      if (supportsCommitter(sink)) committers.push(await sink.createCommitter({ subtaskId, parallelism, jobName, operatorUid: 'sink' }))
    }
    return new SinkDriver(sink, writers, committers)
  }

  /** Writes one batch to one subtask's writer, with optional per-record timestamps. */
  async write(subtaskId: number, records: readonly T[], timestamps?: readonly (number | undefined)[]): Promise<void> {
    const context: SinkWriterContext = {
      timestampOf: (index) => timestamps?.[index],
      currentWatermark: Number.NEGATIVE_INFINITY,
    }
    await this.writerOf(subtaskId).write(records, context)
  }

  /** A checkpoint barrier (or, with `endOfInput`, the end of input) at every writer; returns what it stored. */
  async checkpoint(checkpointId: number, endOfInput = false): Promise<StoredCommittables> {
    const committables: Array<{ subtaskId: number; serialized: VersionedBytes }> = []
    const serializer = supportsCommitter(this.sink) ? this.sink.committableSerializer() : undefined
    for (const [subtaskId, writer] of this.writers.entries()) {
      await writer.flush(endOfInput)
      if (serializer === undefined || !isCommittingSinkWriter(writer)) continue
      for (const committable of await writer.prepareCommit()) {
        committables.push({ subtaskId, serialized: { version: serializer.version, bytes: serializer.serialize(committable) } })
      }
    }
    const stored: StoredCommittables = { checkpointId, committables }
    this.checkpoints.set(checkpointId, stored)
    return stored
  }

  /**
   * Commits the committables of a checkpoint (taken by this driver, or `stored` from an earlier
   * attempt after a restore), each by the committer of the subtask that prepared it. Returns the
   * settled requests in order.
   */
  async commit(checkpointId: number, stored = this.checkpoints.get(checkpointId)): Promise<RecordingCommitRequest<unknown>[]> {
    if (stored === undefined) throw new Error(`no committables stored for checkpoint ${checkpointId}`)
    if (!supportsCommitter(this.sink)) throw new Error('the sink has no committer')
    const serializer = this.sink.committableSerializer()
    const settled: RecordingCommitRequest<unknown>[] = []
    for (const [subtaskId, committer] of this.committers.entries()) {
      const requests = stored.committables
        .filter((entry) => entry.subtaskId % this.committers.length === subtaskId)
        .map(({ serialized }) => new RecordingCommitRequest(serializer.deserialize(serialized.version, serialized.bytes), checkpointId, 0))
      if (requests.length === 0) continue
      await committer.commit(requests)
      settled.push(...requests)
    }
    return settled
  }

  /** Closes writers and committers, as at the end of a job or after a failure (no flush). */
  async close(): Promise<void> {
    for (const writer of this.writers) await writer.close()
    for (const committer of this.committers) await committer.close()
  }

  private writerOf(subtaskId: number): SinkWriter<T> {
    const writer = this.writers[subtaskId]
    if (writer === undefined) throw new Error(`no writer for subtask ${subtaskId}`)
    return writer
  }
}
