import type { SourceSplit } from '../api/source-split.js'
import type { OperatorSubtaskState } from './stream-operator.js'

/**
 * Messages from the job's coordinator to a task, delivered through the task's mailbox and handled by
 * its loop between batches. Plain data, so a task could live in a worker thread.
 */
export type TaskMessage =
  | { readonly type: 'add-splits'; readonly splits: SourceSplit[] }
  | { readonly type: 'no-more-splits' }
  /** Source tasks only: snapshot and inject a barrier now. */
  | { readonly type: 'trigger-checkpoint'; readonly checkpointId: number }
  | { readonly type: 'checkpoint-complete'; readonly checkpointId: number }
  | { readonly type: 'checkpoint-aborted'; readonly checkpointId: number }
  /** Source tasks only: stop reading; with `drain` behave as if the input ended (MAX watermark, endInput). */
  | { readonly type: 'stop'; readonly drain: boolean }
  /** Source tasks only: the job is done; send end-of-partition and finish. */
  | { readonly type: 'finish' }

/** What a task reports to the coordinator. */
export interface TaskEvents {
  acknowledgeCheckpoint(taskIndex: number, checkpointId: number, state: TaskCheckpointState): void
  declineCheckpoint(taskIndex: number, checkpointId: number, error: unknown): void
  /** The task's input ended and endInput ran on its whole chain. */
  endOfData(taskIndex: number): void
  sendSplitRequest(sourceUid: string, subtaskId: number): void
}

/** The snapshot of every operator of a task's chain, by operator uid. */
export type TaskCheckpointState = Record<string, OperatorSubtaskState>
