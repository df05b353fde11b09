import type { VersionedBytes } from '../api/serializer.js'
import { CheckpointFailedError } from '../errors.js'
import type { OperatorSubtaskState } from '../runtime/stream-operator.js'
import type { TaskCheckpointState } from '../runtime/task-messages.js'
import { messageOf } from '../runtime/versioned-items.js'
import type { CompletedCheckpoint, OperatorState } from './completed-checkpoint.js'

/** What the coordinator needs from the job it coordinates. */
export interface CoordinatedJob {
  readonly jobName: string
  taskCount(): number
  readonly maxParallelism: number
  /** Operator uids of each task, in chain order, with the parallelism of the task's vertex. */
  taskLayout(taskIndex: number): { uids: string[]; subtaskId: number; parallelism: number }
  /** Snapshots enumerators and tells source tasks to inject barriers, in that order, synchronously. */
  triggerSources(checkpointId: number): Record<string, VersionedBytes>
  /** Tells every task (and enumerator) that a checkpoint is durable. */
  notifyComplete(checkpointId: number): void
  notifyAborted(checkpointId: number): void
  /** Combines and records global committables; returns what goes into the checkpoint. */
  prepareGlobalCommittables(checkpointId: number, prepared: Map<string, unknown[]>): CompletedCheckpoint['globalCommittables']
  /** Commits global committables after the checkpoint is durable. */
  commitGlobal(checkpointId: number): Promise<void>
  /** Persists the checkpoint; returns its path, or undefined when kept in memory only. */
  persist(checkpoint: CompletedCheckpoint, targetDirectory: string | undefined): Promise<string | undefined>
  /** The job must fail (too many failed checkpoints). */
  fail(error: unknown): void
  warn(message: string): void
}

export interface CheckpointCoordinatorOptions {
  /** Periodic interval, or undefined for no periodic checkpoints. */
  interval: number | undefined
  minPauseBetweenCheckpoints: number
  timeout: number
  tolerableFailedCheckpoints: number
  firstCheckpointId: number
}

interface PendingCheckpoint {
  readonly checkpointId: number
  readonly kind: 'checkpoint' | 'savepoint'
  readonly targetDirectory: string | undefined
  readonly startedAt: number
  readonly enumerators: Record<string, VersionedBytes>
  readonly acks: Map<number, TaskCheckpointState>
  readonly timer: NodeJS.Timeout
  readonly isFinal: boolean
  readonly resolve: (path: string | undefined) => void
  readonly reject: (error: unknown) => void
}

interface CheckpointRequest {
  kind: 'checkpoint' | 'savepoint'
  targetDirectory: string | undefined
  isFinal: boolean
  resolve: (path: string | undefined) => void
  reject: (error: unknown) => void
}

/** Figures the job handle reports. */
export interface CheckpointStats {
  completed: number
  failed: number
  lastCompletedId: number | undefined
  lastDurationMs: number | undefined
  lastPath: string | undefined
}

/**
 * Triggers checkpoints and completes them once every task acknowledged (Flink's CheckpointCoordinator):
 * at most one checkpoint at a time; periodic triggers respect the interval and the minimum pause
 * after the previous one ended; a checkpoint not acknowledged within the timeout is aborted; more
 * than `tolerableFailedCheckpoints` failures in a row fail the job. A completed checkpoint is
 * persisted first and only then announced (notifyCheckpointComplete): that is what makes two-phase
 * commit sinks exactly-once.
 */
export class CheckpointCoordinator {
  private pending: PendingCheckpoint | undefined
  private readonly queue: CheckpointRequest[] = []
  private nextId: number
  private lastEndedAt = 0
  private lastTriggeredAt = 0
  private consecutiveFailures = 0
  private periodicTimer: NodeJS.Timeout | undefined
  /** The completion in progress (persisting, committing), awaited on stop so nothing writes after. */
  private completing: Promise<void> = Promise.resolve()
  private stopped = false
  readonly stats: CheckpointStats = { completed: 0, failed: 0, lastCompletedId: undefined, lastDurationMs: undefined, lastPath: undefined }

  constructor(
    private readonly job: CoordinatedJob,
    private readonly options: CheckpointCoordinatorOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.nextId = options.firstCheckpointId
  }

  /** Starts periodic checkpoints (if an interval is set). */
  start(): void {
    this.lastEndedAt = this.now()
    this.lastTriggeredAt = this.now()
    this.schedulePeriodic()
  }

  /** Stops triggering and rejects what is pending; resolves once a checkpoint being persisted is written. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.periodicTimer) clearTimeout(this.periodicTimer)
    if (this.pending) clearTimeout(this.pending.timer)
    const error = new CheckpointFailedError(this.pending?.checkpointId ?? this.nextId, 'the job stopped')
    this.pending?.reject(error)
    this.pending = undefined
    for (const request of this.queue.splice(0)) request.reject(error)
    await this.completing
  }

  /**
   * Requests a checkpoint outside the schedule: a savepoint, or the final checkpoint at the end of
   * input. Runs as soon as no other checkpoint is pending. Resolves with the stored path.
   */
  request(kind: 'checkpoint' | 'savepoint', options: { targetDirectory?: string; isFinal?: boolean } = {}): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ kind, targetDirectory: options.targetDirectory, isFinal: options.isFinal ?? false, resolve, reject })
      this.triggerQueued()
    })
  }

  acknowledge(taskIndex: number, checkpointId: number, state: TaskCheckpointState): void {
    const pending = this.pending
    if (!pending || pending.checkpointId !== checkpointId) return // late ack of an aborted checkpoint
    pending.acks.set(taskIndex, state)
    if (pending.acks.size === this.job.taskCount()) this.completing = this.complete(pending)
  }

  decline(taskIndex: number, checkpointId: number, error: unknown): void {
    const pending = this.pending
    if (!pending || pending.checkpointId !== checkpointId) return
    this.abort(pending, `task ${taskIndex} declined: ${messageOf(error)}`, error)
  }

  private triggerQueued(): void {
    if (this.stopped || this.pending) return
    const request = this.queue.shift()
    if (request) this.trigger(request)
  }

  private schedulePeriodic(): void {
    if (this.stopped || this.options.interval === undefined) return
    if (this.periodicTimer) clearTimeout(this.periodicTimer)
    const dueAt = Math.max(this.lastTriggeredAt + this.options.interval, this.lastEndedAt + this.options.minPauseBetweenCheckpoints)
    this.periodicTimer = setTimeout(() => {
      this.periodicTimer = undefined
      if (this.stopped) return
      if (this.pending || this.queue.length > 0) return // rescheduled when that one ends
      this.trigger({ kind: 'checkpoint', targetDirectory: undefined, isFinal: false, resolve: () => {}, reject: () => {} })
    }, Math.max(0, dueAt - this.now()))
    this.periodicTimer.unref?.()
  }

  private trigger(request: CheckpointRequest): void {
    const checkpointId = this.nextId++
    this.lastTriggeredAt = this.now()
    let enumerators: Record<string, VersionedBytes>
    const timer = setTimeout(() => {
      const current = this.pending
      if (current?.checkpointId === checkpointId) {
        // All acknowledged means it is being persisted: the timeout covers that too (a hung disk).
        const what = current.acks.size === this.job.taskCount() ? 'not persisted' : 'not acknowledged by all tasks'
        this.abort(current, `${what} within ${this.options.timeout} ms`)
      }
    }, this.options.timeout)
    timer.unref?.()
    const pending: PendingCheckpoint = {
      checkpointId,
      kind: request.kind,
      targetDirectory: request.targetDirectory,
      startedAt: this.now(),
      enumerators: {},
      acks: new Map(),
      timer,
      isFinal: request.isFinal,
      resolve: request.resolve,
      reject: request.reject,
    }
    this.pending = pending
    try {
      enumerators = this.job.triggerSources(checkpointId)
    } catch (error) {
      this.abort(pending, `split enumerator snapshot failed: ${messageOf(error)}`, error)
      return
    }
    Object.assign(pending.enumerators, enumerators)
  }

  private async complete(pending: PendingCheckpoint): Promise<void> {
    const checkpointId = pending.checkpointId
    try {
      const operators: Record<string, OperatorState> = {}
      const prepared = new Map<string, unknown[]>()
      for (let taskIndex = 0; taskIndex < this.job.taskCount(); taskIndex++) {
        const layout = this.job.taskLayout(taskIndex)
        const taskState = pending.acks.get(taskIndex) as TaskCheckpointState
        for (const uid of layout.uids) {
          const { preparedCommittables, ...persisted } = taskState[uid] ?? ({} as OperatorSubtaskState)
          let operator = operators[uid]
          if (!operator) {
            operator = { parallelism: layout.parallelism, maxParallelism: this.job.maxParallelism, subtasks: [] }
            operators[uid] = operator
          }
          operator.subtasks[layout.subtaskId] = persisted
          if (preparedCommittables && preparedCommittables.length > 0) {
            const list = prepared.get(uid) ?? []
            list.push(...preparedCommittables)
            prepared.set(uid, list)
          }
        }
      }
      const checkpoint: CompletedCheckpoint = {
        checkpointId,
        kind: pending.kind,
        timestamp: pending.startedAt,
        jobName: this.job.jobName,
        operators,
        enumerators: pending.enumerators,
        globalCommittables: this.job.prepareGlobalCommittables(checkpointId, prepared),
      }
      const path = await this.job.persist(checkpoint, pending.targetDirectory)
      if (this.pending !== pending) return // aborted (timeout) while persisting: never announce it
      clearTimeout(pending.timer)
      checkpoint.path = path
      this.pending = undefined
      this.consecutiveFailures = 0
      this.lastEndedAt = this.now()
      this.stats.completed++
      this.stats.lastCompletedId = checkpointId
      this.stats.lastDurationMs = this.lastEndedAt - pending.startedAt
      this.stats.lastPath = path
      this.onCompleted?.(checkpoint)
      this.job.notifyComplete(checkpointId)
      await this.job.commitGlobal(checkpointId)
      pending.resolve(path)
    } catch (error) {
      if (this.pending === pending) this.abort(pending, `could not be completed: ${messageOf(error)}`, error)
      return
    }
    this.afterCheckpoint()
  }

  /** Called with each completed checkpoint before it is announced to the tasks. */
  onCompleted: ((checkpoint: CompletedCheckpoint) => void) | undefined

  private abort(pending: PendingCheckpoint, reason: string, cause?: unknown): void {
    clearTimeout(pending.timer)
    this.pending = undefined
    this.lastEndedAt = this.now()
    this.stats.failed++
    const error = new CheckpointFailedError(pending.checkpointId, reason, { cause })
    this.job.notifyAborted(pending.checkpointId)
    this.job.warn(error.message)
    if (!pending.isFinal) pending.reject(error)
    this.consecutiveFailures++
    if (this.consecutiveFailures > this.options.tolerableFailedCheckpoints) {
      this.job.fail(
        new CheckpointFailedError(
          pending.checkpointId,
          `${this.consecutiveFailures} checkpoint(s) failed in a row, more than tolerableFailedCheckpoints (${this.options.tolerableFailedCheckpoints}); last: ${reason}`,
          { cause: error },
        ),
      )
      pending.reject(error)
      return
    }
    // A final checkpoint must eventually succeed: ask for it again.
    if (pending.isFinal) this.queue.unshift({ kind: pending.kind, targetDirectory: pending.targetDirectory, isFinal: true, resolve: pending.resolve, reject: pending.reject })
    this.afterCheckpoint()
  }

  private afterCheckpoint(): void {
    if (this.stopped) return
    if (this.queue.length > 0) this.triggerQueued()
    else this.schedulePeriodic()
  }
}
