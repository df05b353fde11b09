import type { CommitRequest, Committer } from '../../api/committer.js'
import type { SimpleVersionedSerializer } from '../../api/serializer.js'
import { type Sink, supportsCommitter, supportsWriterState } from '../../api/sink.js'
import {
  isCommittingSinkWriter,
  isStatefulSinkWriter,
  type SinkWriter,
  type SinkWriterContext,
  type WriterInitContext,
} from '../../api/sink-writer.js'
import { CommitFailedError, JobGraphError } from '../../errors.js'
import { AbstractStreamOperator } from '../abstract-stream-operator.js'
import type { Timestamps } from '../stream-element.js'
import type { OperatorContext, OperatorSubtaskState } from '../stream-operator.js'
import { deserializeItem, messageOf, serializeItem } from '../versioned-items.js'

interface PendingCommittable {
  checkpointId: number
  committable: unknown
  retries: number
}

/** How many times a committable handed back with `retryLater` is retried before the job fails. */
const MAX_COMMIT_RETRIES = 20

/**
 * Runs a sink's writer in one subtask and, for two-phase-commit sinks, its committer (Flink runs the
 * committer as the next operator of the same chain; here it is folded into this one).
 *
 * At a barrier: flush(false) → prepareCommit → snapshotState; the committables become part of the
 * checkpoint and are committed in `notifyCheckpointComplete`, i.e. only once the checkpoint is
 * durable. After a restore, the restored committables are committed in `open`, before any record.
 */
export class SinkWriterOperator extends AbstractStreamOperator {
  private writer!: SinkWriter<unknown>
  private committer: Committer<unknown> | undefined
  private committableSerializer: SimpleVersionedSerializer<unknown> | undefined
  private pending: PendingCommittable[] = []
  /**
   * Committables for the sink's GlobalCommitter, reported with every snapshot until a checkpoint that
   * holds them completes: those of an aborted checkpoint must reach the next one's `combine`.
   */
  private preparedForCheckpoint: { checkpointId: number; committable: unknown }[] = []
  private endOfInput = false
  private timestamps: Timestamps = null
  private writerContext!: SinkWriterContext

  constructor(uid: string, name: string, private readonly sink: Sink<unknown>) {
    super(uid, name)
  }

  override async open(context: OperatorContext): Promise<void> {
    await super.open(context)
    const sink = this.sink
    const initContext: WriterInitContext = {
      subtaskId: context.subtaskId,
      parallelism: context.parallelism,
      attemptNumber: context.attemptNumber,
      restoredCheckpointId: context.restoredCheckpointId,
      jobName: context.jobName,
      operatorUid: this.uid,
      checkpointing: context.checkpointing,
      warn: context.warn,
    }
    const where = `checkpoint ${context.restoredCheckpointId}`
    const restoredLists = context.restoredState?.lists
    if (supportsWriterState(sink) && restoredLists?.writerState) {
      const serializer = sink.writerStateSerializer()
      const states = restoredLists.writerState.map((item, index) =>
        deserializeItem(serializer, item, `writer state ${index} of sink '${this.name}'`, where),
      )
      this.writer = await sink.restoreWriter(initContext, states)
    } else {
      this.writer = await sink.createWriter(initContext)
    }
    const self = this
    this.writerContext = {
      timestampOf: (index) => (self.timestamps === null ? undefined : self.timestamps[index]),
      get currentWatermark() {
        return self.context.currentWatermark()
      },
    }
    if (supportsCommitter(sink)) {
      this.committableSerializer = sink.committableSerializer()
      this.committer = await sink.createCommitter({
        subtaskId: context.subtaskId,
        parallelism: context.parallelism,
        jobName: context.jobName,
        operatorUid: this.uid,
      })
      const restoredCommittables = restoredLists?.committables ?? []
      for (const [index, item] of restoredCommittables.entries()) {
        const committable = deserializeItem(this.committableSerializer, item, `committable ${index} of sink '${this.name}'`, where)
        this.pending.push({ checkpointId: item.checkpointId ?? 0, committable, retries: 0 })
      }
      // Committables of the restored checkpoint may or may not have been committed before the crash:
      // commit them (idempotently) before any new record is written.
      if (this.pending.length > 0) await this.commitUpTo(Number.POSITIVE_INFINITY)
    } else if (isCommittingSinkWriter(this.writer)) {
      throw new JobGraphError(`sink '${this.name}': its writer prepares committables but the sink has no createCommitter`)
    }
  }

  processBatch(values: unknown[], timestamps: Timestamps): Promise<void> | void {
    this.timestamps = timestamps
    return this.writer.write(values, this.writerContext)
  }

  override async endInput(): Promise<void> {
    this.endOfInput = true
    await this.writer.flush(true)
  }

  override async prepareSnapshotPreBarrier(checkpointId: number): Promise<void> {
    if (!this.endOfInput) await this.writer.flush(false)
    if (isCommittingSinkWriter(this.writer)) {
      const committables = await this.writer.prepareCommit()
      for (const committable of committables) {
        this.pending.push({ checkpointId, committable, retries: 0 })
        this.preparedForCheckpoint.push({ checkpointId, committable })
      }
    }
  }

  override async snapshotState(checkpointId: number): Promise<OperatorSubtaskState> {
    const lists: NonNullable<OperatorSubtaskState['lists']> = {}
    const sink = this.sink
    if (isStatefulSinkWriter(this.writer) && supportsWriterState(sink)) {
      const serializer = sink.writerStateSerializer()
      const states = await this.writer.snapshotState(checkpointId)
      lists.writerState = states.map((state, index) => serializeItem(serializer, state, `writer state ${index} of sink '${this.name}'`))
    }
    if (this.committableSerializer) {
      const serializer = this.committableSerializer
      lists.committables = this.pending.map((pending, index) =>
        serializeItem(serializer, pending.committable, `committable ${index} of sink '${this.name}'`, pending.checkpointId),
      )
    }
    return { lists, preparedCommittables: this.preparedForCheckpoint.map((prepared) => prepared.committable) }
  }

  override notifyCheckpointComplete(checkpointId: number): Promise<void> | void {
    if (this.preparedForCheckpoint.length > 0) {
      this.preparedForCheckpoint = this.preparedForCheckpoint.filter((prepared) => prepared.checkpointId > checkpointId)
    }
    if (this.pending.length === 0) return
    return this.commitUpTo(checkpointId)
  }

  /** Commits pending committables of checkpoints ≤ `checkpointId`, one checkpoint at a time, in order. */
  private async commitUpTo(checkpointId: number): Promise<void> {
    const committer = this.committer
    if (!committer) return
    const due = this.pending.filter((p) => p.checkpointId <= checkpointId)
    if (due.length === 0) return
    const keep = this.pending.filter((p) => p.checkpointId > checkpointId)
    const retry: PendingCommittable[] = []
    const checkpointIds = [...new Set(due.map((p) => p.checkpointId))].sort((a, b) => a - b)
    for (const id of checkpointIds) {
      const group = due.filter((p) => p.checkpointId === id)
      const outcomes: ('done' | 'retry' | 'failed')[] = group.map(() => 'done')
      let unknownFailure: unknown
      const requests: CommitRequest<unknown>[] = group.map((pending, index) => ({
        committable: pending.committable,
        checkpointId: id,
        numberOfRetries: pending.retries,
        retryLater: () => {
          outcomes[index] = 'retry'
        },
        updateAndRetryLater: (committable) => {
          pending.committable = committable
          outcomes[index] = 'retry'
        },
        signalAlreadyCommitted: () => {
          outcomes[index] = 'done'
        },
        signalFailedWithKnownReason: (error) => {
          outcomes[index] = 'failed'
          this.context.warn(`sink '${this.name}': committable of checkpoint ${id} dropped: ${messageOf(error)}`)
        },
        signalFailedWithUnknownReason: (error) => {
          outcomes[index] = 'failed'
          unknownFailure ??= error
        },
      }))
      await committer.commit(requests)
      if (unknownFailure !== undefined) {
        throw new CommitFailedError(id, `sink '${this.name}': ${messageOf(unknownFailure)}`, { cause: unknownFailure })
      }
      group.forEach((pending, index) => {
        if (outcomes[index] !== 'retry') return
        pending.retries++
        if (pending.retries > MAX_COMMIT_RETRIES) {
          throw new CommitFailedError(id, `sink '${this.name}': still asked to retry after ${MAX_COMMIT_RETRIES} attempts`)
        }
        retry.push(pending)
      })
    }
    this.pending = [...retry, ...keep]
  }

  override async close(): Promise<void> {
    try {
      await this.writer?.close()
    } finally {
      await this.committer?.close()
    }
  }
}
