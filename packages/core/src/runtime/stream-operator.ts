import type { CheckpointingMode, RuntimeMode } from '../api/config.js'
import type { VersionedBytes } from '../api/serializer.js'
import type { KeyGroupSnapshot } from '../state/heap-keyed-state-backend.js'
import type { OutputBuffer } from './output-buffer.js'
import type { Timestamps } from './stream-element.js'

/** One item of redistributable operator state (source splits, writer states, committables). */
export interface VersionedItem extends VersionedBytes {
  /** For committables: the checkpoint that prepared it. */
  readonly checkpointId?: number
}

/**
 * The state of one operator in one subtask, as it goes into a checkpoint.
 * - `keyed`: keyed state by key group; on restore each subtask gets the key groups of its range.
 * - `lists`: named lists of items; on restore at the same parallelism each subtask gets its own
 *   lists back, at another parallelism the items of all subtasks are dealt out round-robin.
 * - `broadcast`: broadcast state, replicated: each subtask gets one whole copy.
 */
export interface OperatorSubtaskState {
  keyed?: KeyGroupSnapshot[]
  lists?: Record<string, VersionedItem[]>
  /**
   * Broadcast state, one item per state name. Every subtask holds (and snapshots) the same copy; on
   * restore, at any parallelism, new subtask `i` gets the copy of old subtask `i % oldParallelism`
   * (Flink's BROADCAST redistribution mode).
   */
  broadcast?: Record<string, VersionedItem>
  /**
   * Not persisted: the committables a sink writer prepared for this checkpoint, handed to the
   * coordinator for the sink's GlobalCommitter (which persists its combined form instead).
   */
  preparedCommittables?: unknown[]
}

/** Schedules processing-time wake-ups of a task; the callback runs in the task loop, never concurrently with it. */
export interface ProcessingTimeService {
  now(): number
  /** Asks for `onProcessingTime` to be called once the clock has passed `timestamp` (reads `timestamp + 1`). */
  requestWakeup(timestamp: number): void
}

/** What the task gives an operator when it opens it. */
export interface OperatorContext {
  readonly jobName: string
  readonly taskName: string
  readonly subtaskId: number
  readonly parallelism: number
  readonly maxParallelism: number
  readonly attemptNumber: number
  /** BATCH changes some operators' output: a keyed reduce emits only its final value per key. */
  readonly runtimeMode: RuntimeMode
  /** Periodic checkpointing of the job, or undefined when it is off (only the final checkpoint commits). */
  readonly checkpointing: { readonly interval: number; readonly mode: CheckpointingMode } | undefined
  readonly restoredCheckpointId: number | undefined
  /** This operator's state in the restored checkpoint, already redistributed to this subtask. */
  readonly restoredState: OperatorSubtaskState | undefined
  readonly output: OutputBuffer
  readonly processingTime: ProcessingTimeService
  /** The last watermark this operator received (set before its event-time timers fire). */
  currentWatermark(): number
  warn(message: string): void
}

/**
 * A runtime operator: one step of a task's chain. Called only by its task loop, never concurrently.
 * Lifecycle: open → (processBatch | processWatermark | onProcessingTime | snapshotState |
 * notifyCheckpointComplete | notifyCheckpointAborted)* → endInput? → close.
 * What it emits goes into `context.output`; the task forwards it after each call.
 */
export interface StreamOperator {
  readonly uid: string
  readonly name: string
  /**
   * Set by operators that make their own watermarks (sources, timestamp assigners): the task then does
   * not pass the watermarks and watermark statuses it receives on past this operator; the operator
   * emits its own with `output.collectWatermark` / `collectWatermarkStatus`, in order with its records.
   */
  readonly generatesWatermarks?: boolean
  open(context: OperatorContext): Promise<void> | void
  processBatch(values: unknown[], timestamps: Timestamps, inputIndex: 1 | 2): Promise<void> | void
  /** Fires event-time timers due at `watermark`. The task forwards the watermark afterwards. */
  processWatermark(watermark: number): void
  /**
   * Fires the processing-time timers at or before `now`, the last millisecond the clock has fully
   * passed (the task calls it with the clock minus 1, as Flink delays processing-time timers by 1 ms):
   * a timer at `t` fires only once no record can be processed at time `t` any more.
   */
  onProcessingTime(now: number): void
  /** All input has ended (bounded input, or a draining stop). */
  endInput(): Promise<void> | void
  /** At a barrier, before the snapshot: a sink writer flushes and prepares its commit here. */
  prepareSnapshotPreBarrier(checkpointId: number): Promise<void> | void
  snapshotState(checkpointId: number): Promise<OperatorSubtaskState> | OperatorSubtaskState
  notifyCheckpointComplete(checkpointId: number): Promise<void> | void
  notifyCheckpointAborted(checkpointId: number): void
  close(): Promise<void> | void
}
