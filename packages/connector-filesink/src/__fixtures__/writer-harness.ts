import type { CommitRequest, SinkWriterContext, WriterInitContext } from '@sluice/core'
import type { FileSink } from '../file-sink.js'
import type { FileSinkCommittable } from '../file-sink-committable.js'
import type { FileSinkWriter } from '../file-sink-writer.js'
import type { FileSinkWriterState } from '../file-writer-state.js'

/**
 * Drives a FileSink's writer and committer the way the runtime's sink operator does, one step at a
 * time, so a test can stop between any two steps (a crash) and restore from what it checkpointed.
 */
export function initContext(subtaskId = 0, parallelism = 1, restoredCheckpointId?: number): WriterInitContext {
  return {
    subtaskId,
    parallelism,
    attemptNumber: 0,
    restoredCheckpointId,
    jobName: 'test-job',
    operatorUid: 'file-sink',
    checkpointing: { interval: 1000, mode: 'EXACTLY_ONCE' },
    warn: () => {},
  }
}

export function batchContext(timestamps?: readonly number[], currentWatermark = Number.NEGATIVE_INFINITY): SinkWriterContext {
  return { timestampOf: (index) => timestamps?.[index], currentWatermark }
}

export interface Checkpoint {
  readonly checkpointId: number
  readonly committables: FileSinkCommittable[]
  readonly states: FileSinkWriterState[]
}

/** flush(false) → prepareCommit → snapshotState, through the serializers as a real checkpoint would. */
export async function checkpoint<T>(sink: FileSink<T>, writer: FileSinkWriter<T>, checkpointId: number, endOfInput = false): Promise<Checkpoint> {
  await writer.flush(endOfInput)
  const committables = await writer.prepareCommit()
  const states = await writer.snapshotState(checkpointId)
  const stateSerializer = sink.writerStateSerializer()
  const committableSerializer = sink.committableSerializer()
  return {
    checkpointId,
    committables: committables.map((c) => committableSerializer.deserialize(committableSerializer.version, committableSerializer.serialize(c))),
    states: states.map((s) => stateSerializer.deserialize(stateSerializer.version, stateSerializer.serialize(s))),
  }
}

/** Commits committables with the sink's committer; returns how each request was settled. */
export async function commit<T>(sink: FileSink<T>, committables: readonly FileSinkCommittable[], checkpointId: number): Promise<string[]> {
  const committer = await sink.createCommitter({ subtaskId: 0, parallelism: 1, jobName: 'test-job', operatorUid: 'file-sink' })
  const outcomes: string[] = committables.map(() => 'committed')
  const requests: CommitRequest<FileSinkCommittable>[] = committables.map((committable, index) => ({
    committable,
    checkpointId,
    numberOfRetries: 0,
    retryLater: () => {
      outcomes[index] = 'retry'
    },
    updateAndRetryLater: () => {
      outcomes[index] = 'retry'
    },
    signalAlreadyCommitted: () => {
      outcomes[index] = 'already'
    },
    signalFailedWithKnownReason: (error) => {
      outcomes[index] = `failed: ${String(error)}`
    },
    signalFailedWithUnknownReason: (error) => {
      outcomes[index] = `failed: ${String(error)}`
    },
  }))
  await committer.commit(requests)
  await committer.close()
  return outcomes
}
