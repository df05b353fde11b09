import type { ResolvedEnvironmentOptions } from '../api/config.js'
import type { VersionedBytes } from '../api/serializer.js'
import { supportsGlobalCommitter } from '../api/sink.js'
import type { AnySource } from '../api/source.js'
import type { SourceSplit } from '../api/source-split.js'
import type { SplitEnumerator, SplitEnumeratorContext } from '../api/split-enumerator.js'
import type { GlobalCommitter } from '../api/global-committer.js'
import type { SimpleVersionedSerializer } from '../api/serializer.js'
import { CheckpointCoordinator } from '../checkpoint/checkpoint-coordinator.js'
import type { CompletedCheckpoint } from '../checkpoint/completed-checkpoint.js'
import { assignOperatorState } from '../checkpoint/state-assignment.js'
import { JobCancelledError, JobGraphError, SluiceError } from '../errors.js'
import { Channel } from './channel.js'
import type { JobGraph, JobVertex } from './job-graph.js'
import { Notifier } from './notifier.js'
import { SourceOperator } from './operators/source-operator.js'
import { fuseStatelessOperators } from './operators/stateless-operators.js'
import { RecordWriter } from './record-writer.js'
import type { OperatorSubtaskState, StreamOperator, VersionedItem } from './stream-operator.js'
import { StreamTask, type TaskDeployment, type TaskInput } from './stream-task.js'
import { WatermarkAlignmentRegistry } from './watermark-alignment.js'
import type { TaskEvents, TaskMessage } from './task-messages.js'
import type { SourceTransformation } from './transformation.js'
import { operatorUid } from './transformation.js'
import { deserializeItem, messageOf, serializeItem } from './versioned-items.js'

/** Where checkpoints of this attempt go; undefined when checkpointing is off (final checkpoint in memory). */
export interface CheckpointPersistence {
  persist(checkpoint: CompletedCheckpoint, kind: 'checkpoint' | 'savepoint', targetDirectory: string | undefined): Promise<string | undefined>
}

export interface JobExecutionOptions {
  readonly jobName: string
  readonly graph: JobGraph
  readonly options: ResolvedEnvironmentOptions
  readonly attemptNumber: number
  readonly restored: CompletedCheckpoint | undefined
  readonly firstCheckpointId: number
  readonly persistence: CheckpointPersistence
  readonly onCheckpointCompleted: (checkpoint: CompletedCheckpoint) => void
  readonly metrics: { recordsFromSources: number; firstRecordAt: number | undefined }
}

interface GlobalCommitterState {
  committer: GlobalCommitter<unknown, unknown>
  serializer: SimpleVersionedSerializer<unknown>
  /** Combined committables not yet committed, with their checkpoint ids. */
  pending: { checkpointId: number; committable: unknown }[]
  /**
   * Combined for the checkpoint being completed; joins `pending` only once that checkpoint is durable.
   * If it fails instead, the sink writers hand the same committables to the next checkpoint again.
   */
  staged: { checkpointId: number; committable: unknown } | undefined
}

interface SourceRuntime {
  readonly uid: string
  readonly transformation: SourceTransformation
  readonly vertex: JobVertex
  readonly taskIndexes: number[]
  enumerator: SplitEnumerator<SourceSplit, unknown>
  readonly timers: NodeJS.Timeout[]
}

/**
 * One attempt to run a job: deploys a task per subtask of each vertex, the channels between them,
 * the split enumerators and the checkpoint coordinator; ends when every task finished (bounded
 * input) or fails as a whole when any part fails. A restart is a new JobExecution from the latest
 * completed checkpoint.
 */
export class JobExecution {
  private readonly tasks: StreamTask[] = []
  private readonly taskLayouts: { uids: string[]; subtaskId: number; parallelism: number; vertex: JobVertex }[] = []
  private readonly channels: Channel[] = []
  private readonly sources: SourceRuntime[] = []
  private readonly globalCommitters = new Map<string, GlobalCommitterState>()
  /** Watermark alignment groups of the sources of this attempt (WatermarkStrategy.withWatermarkAlignment). */
  private readonly watermarkAlignment = new WatermarkAlignmentRegistry()
  readonly coordinator: CheckpointCoordinator
  private endOfDataTasks = new Set<number>()
  private failure: unknown
  private failed = false
  private finalRequested = false
  private stopping: { drain: boolean; targetDirectory: string | undefined; resolve: (path: string) => void; reject: (error: unknown) => void } | undefined
  private rejectRun: ((error: unknown) => void) | undefined
  private runs: Promise<void>[] = []

  constructor(private readonly execution: JobExecutionOptions) {
    const { options } = execution
    const checkpointing = options.runtimeMode === 'STREAMING' ? options.checkpointing : undefined
    this.coordinator = new CheckpointCoordinator(
      {
        jobName: execution.jobName,
        taskCount: () => this.tasks.length,
        maxParallelism: options.maxParallelism,
        taskLayout: (taskIndex) => this.taskLayouts[taskIndex] as (typeof this.taskLayouts)[number],
        triggerSources: (checkpointId) => this.triggerSources(checkpointId),
        notifyComplete: (checkpointId) => this.notifyComplete(checkpointId),
        notifyAborted: (checkpointId) => this.broadcastMessage({ type: 'checkpoint-aborted', checkpointId }),
        prepareGlobalCommittables: (checkpointId, prepared) => this.prepareGlobalCommittables(checkpointId, prepared),
        commitGlobal: (checkpointId) => this.commitGlobal(checkpointId),
        persist: (checkpoint, targetDirectory) => execution.persistence.persist(checkpoint, checkpoint.kind, targetDirectory),
        fail: (error) => this.fail(error),
        warn: options.onWarning,
      },
      {
        interval: checkpointing?.interval,
        minPauseBetweenCheckpoints: checkpointing?.minPauseBetweenCheckpoints ?? 0,
        timeout: checkpointing?.timeout ?? 600_000,
        tolerableFailedCheckpoints: checkpointing?.tolerableFailedCheckpoints ?? 0,
        firstCheckpointId: execution.firstCheckpointId,
      },
    )
    this.coordinator.onCompleted = execution.onCheckpointCompleted
  }

  /** Deploys and runs the attempt. Resolves when all tasks finished; rejects with the first failure. */
  async run(): Promise<void> {
    const failed = new Promise<never>((_, reject) => {
      this.rejectRun = reject
    })
    failed.catch(() => {})
    try {
      await this.deploy()
      this.coordinator.start()
      this.runs = this.tasks.map((task) =>
        task.run().catch((error) => {
          this.fail(error)
          throw error
        }),
      )
      await Promise.race([Promise.all(this.runs), failed])
    } catch (error) {
      this.fail(error)
    } finally {
      await this.coordinator.stop()
      if (this.failed) {
        for (const task of this.tasks) task.cancel()
        for (const channel of this.channels) channel.close()
      }
      await this.shutdown()
    }
    if (this.failed) throw this.failure
  }

  /** Cancels the attempt: tasks stop at their next step; `run` rejects with JobCancelledError. */
  cancel(): void {
    this.fail(new JobCancelledError())
  }

  triggerSavepoint(targetDirectory: string | undefined): Promise<string> {
    return this.coordinator.request('savepoint', { targetDirectory }).then((path) => path as string)
  }

  /** Stops the sources, takes a savepoint (after draining when `drain`), commits and finishes. */
  stopWithSavepoint(drain: boolean, targetDirectory: string | undefined): Promise<string> {
    if (this.stopping) return Promise.reject(new JobGraphError('stop-with-savepoint is already in progress'))
    return new Promise((resolve, reject) => {
      this.stopping = { drain, targetDirectory, resolve, reject }
      for (const source of this.sources) {
        for (const taskIndex of source.taskIndexes) this.post(taskIndex, { type: 'stop', drain })
      }
      // Without drain the savepoint is taken right away: the stop message is ahead of the barrier in
      // every source mailbox. With drain it is the final checkpoint, once all input has ended.
      if (!drain) this.requestFinalCheckpoint()
    })
  }

  private fail(error: unknown): void {
    if (this.failed) return
    this.failed = true
    this.failure = error
    this.stopping?.reject(error)
    this.rejectRun?.(error)
  }

  // ------------------------------------------------------------------ deployment

  private async deploy(): Promise<void> {
    const { graph, options, restored, jobName, attemptNumber } = this.execution
    const checkpointingMode = options.checkpointing?.mode ?? 'EXACTLY_ONCE'
    if (options.runtimeMode === 'BATCH') {
      for (const source of graph.sources) {
        if (source.kind === 'source' && source.source.boundedness !== 'BOUNDED') {
          throw new JobGraphError(`runtimeMode BATCH needs bounded sources, but source '${source.name}' is ${source.source.boundedness}`)
        }
      }
    }
    if (restored) this.checkRestoredOperators(restored)

    // Tasks first (with their notifiers), channels after: a channel wakes its consumer's notifier.
    const notifiers: Notifier[][] = graph.vertices.map((vertex) => Array.from({ length: vertex.parallelism }, () => new Notifier()))
    const inputs: TaskInput[][][] = graph.vertices.map((vertex) => Array.from({ length: vertex.parallelism }, () => []))
    const mainWriters: RecordWriter[][][] = graph.vertices.map((vertex) => Array.from({ length: vertex.parallelism }, () => []))
    const sideWriters: Map<number, Map<string, RecordWriter[]>>[][] = graph.vertices.map((vertex) =>
      Array.from({ length: vertex.parallelism }, () => new Map()),
    )
    for (const edge of graph.edges) {
      const producers = edge.from.parallelism
      const consumers = edge.to.parallelism
      for (let producer = 0; producer < producers; producer++) {
        const targets = edge.partitioning.type === 'forward' ? [producer] : Array.from({ length: consumers }, (_, i) => i)
        const channels = targets.map((consumer) => {
          const channel = new Channel(
            `${edge.from.name} (${producer + 1}/${producers}) -> ${edge.to.name} (${consumer + 1}/${consumers})`,
            options.channelCapacity,
            notifiers[edge.to.id]?.[consumer] as Notifier,
          )
          inputs[edge.to.id]?.[consumer]?.push({ channel, inputIndex: edge.inputIndex })
          this.channels.push(channel)
          return channel
        })
        const writer = new RecordWriter(channels, edge.partitioning, producer, options.maxParallelism, options.batchSize)
        const isMain = edge.tagId === undefined && edge.fromOperatorIndex === edge.from.operators.length - 1
        if (isMain) {
          mainWriters[edge.from.id]?.[producer]?.push(writer)
        } else {
          if (edge.tagId === undefined) throw new JobGraphError(`internal: main output of a chained operator '${edge.from.name}'`)
          const byOperator = sideWriters[edge.from.id]?.[producer] as Map<number, Map<string, RecordWriter[]>>
          let byTag = byOperator.get(edge.fromOperatorIndex)
          if (!byTag) {
            byTag = new Map()
            byOperator.set(edge.fromOperatorIndex, byTag)
          }
          const list = byTag.get(edge.tagId) ?? []
          list.push(writer)
          byTag.set(edge.tagId, list)
        }
      }
    }

    const events: TaskEvents = {
      acknowledgeCheckpoint: (taskIndex, checkpointId, state) => this.coordinator.acknowledge(taskIndex, checkpointId, state),
      declineCheckpoint: (taskIndex, checkpointId, error) => this.coordinator.decline(taskIndex, checkpointId, error),
      endOfData: (taskIndex) => this.onEndOfData(taskIndex),
      sendSplitRequest: (sourceUid, subtaskId) => {
        const source = this.sources.find((s) => s.uid === sourceUid)
        if (source) queueMicrotask(() => this.guard(() => source.enumerator.handleSplitRequest(subtaskId)))
      },
    }

    for (const vertex of graph.vertices) {
      const sourceRuntime = vertex.operators[0]?.kind === 'source' ? this.createSourceRuntime(vertex) : undefined
      for (let subtaskId = 0; subtaskId < vertex.parallelism; subtaskId++) {
        const taskIndex = this.tasks.length
        const chain: StreamOperator[] = vertex.operators.map((t, index) => {
          const uid = vertex.uids[index] as string
          if (t.kind === 'source') {
            return new SourceOperator(uid, t.name, t.source, () => events.sendSplitRequest(uid, subtaskId), t.watermarks, this.watermarkAlignment)
          }
          return t.createOperator(uid, t.name)
        })
        const chainStates: (OperatorSubtaskState | undefined)[] = vertex.uids.map((uid) => {
          const state = restored?.operators[uid]
          return state ? assignOperatorState(uid, state, subtaskId, vertex.parallelism, options.maxParallelism) : undefined
        })
        const { operators, indexMap } = fuseStatelessOperators(chain)
        const restoredStates = operators.map((_, newIndex) => chainStates[indexMap.indexOf(newIndex)])
        const chainSideWriters = new Map<number, Map<string, RecordWriter[]>>()
        for (const [index, byTag] of sideWriters[vertex.id]?.[subtaskId] ?? []) chainSideWriters.set(indexMap[index] as number, byTag)
        const deployment: TaskDeployment = {
          taskIndex,
          taskName: `${vertex.name} (${subtaskId + 1}/${vertex.parallelism})`,
          jobName,
          subtaskId,
          parallelism: vertex.parallelism,
          maxParallelism: options.maxParallelism,
          attemptNumber,
          restoredCheckpointId: restored?.checkpointId,
          operators,
          restoredStates,
          inputs: inputs[vertex.id]?.[subtaskId] as TaskInput[],
          mainWriters: mainWriters[vertex.id]?.[subtaskId] as RecordWriter[],
          sideWriters: chainSideWriters,
          checkpointingMode,
          runtimeMode: options.runtimeMode,
          checkpointing:
            options.runtimeMode === 'STREAMING' && options.checkpointing
              ? { interval: options.checkpointing.interval, mode: options.checkpointing.mode }
              : undefined,
          notifier: notifiers[vertex.id]?.[subtaskId] as Notifier,
          events,
          metrics: this.execution.metrics,
          warn: options.onWarning,
        }
        this.tasks.push(new StreamTask(deployment))
        this.taskLayouts.push({ uids: vertex.uids, subtaskId, parallelism: vertex.parallelism, vertex })
        sourceRuntime?.taskIndexes.push(taskIndex)
      }
    }

    await this.openGlobalCommitters()
    for (const source of this.sources) {
      source.enumerator.start()
      for (let subtaskId = 0; subtaskId < source.vertex.parallelism; subtaskId++) source.enumerator.addReader(subtaskId)
    }
  }

  private checkRestoredOperators(restored: CompletedCheckpoint): void {
    const known = new Set(this.execution.graph.vertices.flatMap((v) => v.uids))
    for (const uid of Object.keys(restored.operators)) {
      if (!known.has(uid)) {
        throw new JobGraphError(
          `checkpoint ${restored.checkpointId}${restored.path ? ` at ${restored.path}` : ''} has state for operator uid '${uid}', ` +
            `which this job does not have (its uids: ${[...known].join(', ')}); set the same uid(...) on the operator`,
        )
      }
    }
  }

  private createSourceRuntime(vertex: JobVertex): SourceRuntime {
    const transformation = vertex.operators[0] as SourceTransformation
    const uid = operatorUid(transformation)
    const source = transformation.source as AnySource<unknown>
    const timers: NodeJS.Timeout[] = []
    const runtime: SourceRuntime = { uid, transformation, vertex, taskIndexes: [], enumerator: undefined as never, timers }
    const context: SplitEnumeratorContext<SourceSplit> = {
      parallelism: vertex.parallelism,
      registeredReaders: () => Array.from({ length: vertex.parallelism }, (_, i) => i),
      assignSplits: (subtaskId, splits) => this.postToSource(runtime, subtaskId, { type: 'add-splits', splits }),
      signalNoMoreSplits: (subtaskId) => this.postToSource(runtime, subtaskId, { type: 'no-more-splits' }),
      callAsync: (work, handler, periodMs) => {
        const run = () => {
          work().then(
            (result) => this.guard(() => handler(result)),
            (error) => this.fail(error),
          )
        }
        if (periodMs === undefined) {
          queueMicrotask(run)
        } else {
          const timer = setInterval(run, periodMs)
          timer.unref?.()
          timers.push(timer)
        }
      },
    }
    const restoredState = this.execution.restored?.enumerators[uid]
    if (restoredState) {
      const serializer = source.enumeratorCheckpointSerializer()
      const where = `checkpoint ${this.execution.restored?.checkpointId}${this.execution.restored?.path ? ` at ${this.execution.restored.path}` : ''}`
      const state = deserializeItem(serializer, restoredState, `split enumerator state of source '${transformation.name}'`, where)
      runtime.enumerator = source.restoreEnumerator(context, state)
    } else {
      runtime.enumerator = source.createEnumerator(context)
    }
    this.sources.push(runtime)
    return runtime
  }

  private postToSource(source: SourceRuntime, subtaskId: number, message: TaskMessage): void {
    const taskIndex = source.taskIndexes[subtaskId]
    if (taskIndex === undefined) throw new JobGraphError(`source '${source.transformation.name}' has no subtask ${subtaskId}`)
    this.post(taskIndex, message)
  }

  private post(taskIndex: number, message: TaskMessage): void {
    this.tasks[taskIndex]?.post(message)
  }

  private broadcastMessage(message: TaskMessage): void {
    for (const task of this.tasks) task.post(message)
  }

  private guard(action: () => void): void {
    try {
      action()
    } catch (error) {
      this.fail(error)
    }
  }

  // ------------------------------------------------------------------ checkpoints

  private triggerSources(checkpointId: number): Record<string, VersionedBytes> {
    const states: Record<string, VersionedBytes> = {}
    // Enumerator snapshots and barrier triggers happen in one synchronous step: splits assigned
    // before it are ahead of the trigger in the reader's mailbox, splits assigned after are in neither.
    for (const source of this.sources) {
      const serializer = source.transformation.source.enumeratorCheckpointSerializer()
      states[source.uid] = serializeItem(
        serializer,
        source.enumerator.snapshotState(checkpointId),
        `split enumerator state of source '${source.transformation.name}'`,
      )
    }
    for (const source of this.sources) {
      for (const taskIndex of source.taskIndexes) this.post(taskIndex, { type: 'trigger-checkpoint', checkpointId })
    }
    return states
  }

  private notifyComplete(checkpointId: number): void {
    this.broadcastMessage({ type: 'checkpoint-complete', checkpointId })
    for (const source of this.sources) this.guard(() => source.enumerator.notifyCheckpointComplete?.(checkpointId))
  }

  private onEndOfData(taskIndex: number): void {
    this.endOfDataTasks.add(taskIndex)
    if (this.endOfDataTasks.size === this.tasks.length) this.requestFinalCheckpoint()
  }

  /** All input has ended (or a stop was requested): one last checkpoint commits everything, then the tasks finish. */
  private requestFinalCheckpoint(): void {
    if (this.finalRequested) return
    this.finalRequested = true
    const stopping = this.stopping
    this.coordinator
      .request(stopping ? 'savepoint' : 'checkpoint', { targetDirectory: stopping?.targetDirectory, isFinal: true })
      .then((path) => {
        for (const source of this.sources) for (const taskIndex of source.taskIndexes) this.post(taskIndex, { type: 'finish' })
        stopping?.resolve(path as string)
      })
      .catch((error) => this.fail(error))
  }

  // ------------------------------------------------------------------ global committers

  private async openGlobalCommitters(): Promise<void> {
    const restored = this.execution.restored
    for (const vertex of this.execution.graph.vertices) {
      for (const [index, t] of vertex.operators.entries()) {
        if (t.kind !== 'one-input' || !t.isSink || !t.sink || !supportsGlobalCommitter(t.sink)) continue
        const uid = vertex.uids[index] as string
        const committer = await t.sink.createGlobalCommitter()
        const serializer = t.sink.globalCommittableSerializer()
        const state: GlobalCommitterState = { committer, serializer, pending: [], staged: undefined }
        this.globalCommitters.set(uid, state)
        const items = restored?.globalCommittables[uid] ?? []
        if (items.length > 0) {
          const where = `checkpoint ${restored?.checkpointId}`
          const recovered = items.map((item, i) => ({
            checkpointId: item.checkpointId ?? 0,
            committable: deserializeItem(serializer, item, `global committable ${i} of sink '${t.name}'`, where),
          }))
          const remaining = new Set(await committer.filterRecoveredCommittables(recovered.map((r) => r.committable)))
          state.pending = recovered.filter((r) => remaining.has(r.committable))
          await this.commitGlobalOf(state)
        }
      }
    }
  }

  private prepareGlobalCommittables(checkpointId: number, prepared: Map<string, unknown[]>): Record<string, VersionedItem[]> {
    const result: Record<string, VersionedItem[]> = {}
    for (const [uid, state] of this.globalCommitters) {
      const committables = prepared.get(uid) ?? []
      state.staged = committables.length > 0 ? { checkpointId, committable: state.committer.combine(checkpointId, committables) } : undefined
      const stored = state.staged ? [...state.pending, state.staged] : state.pending
      result[uid] = stored.map((p, i) => serializeItem(state.serializer, p.committable, `global committable ${i} of sink '${uid}'`, p.checkpointId))
    }
    return result
  }

  private async commitGlobal(checkpointId: number): Promise<void> {
    for (const state of this.globalCommitters.values()) {
      if (state.staged?.checkpointId === checkpointId) {
        state.pending.push(state.staged)
        state.staged = undefined
      }
      await this.commitGlobalOf(state)
    }
  }

  private async commitGlobalOf(state: GlobalCommitterState): Promise<void> {
    if (state.pending.length === 0) return
    const retry = new Set(await state.committer.commit(state.pending.map((p) => p.committable)))
    state.pending = state.pending.filter((p) => retry.has(p.committable))
  }

  // ------------------------------------------------------------------ shutdown

  private async shutdown(): Promise<void> {
    for (const source of this.sources) {
      for (const timer of source.timers) clearInterval(timer)
      try {
        await source.enumerator?.close()
      } catch (error) {
        this.execution.options.onWarning(`closing the split enumerator of '${source.transformation.name}' failed: ${messageOf(error)}`)
      }
    }
    for (const state of this.globalCommitters.values()) {
      try {
        if (!this.failed) await state.committer.endOfInput()
        await state.committer.close()
      } catch (error) {
        if (!this.failed) this.fail(error)
      }
    }
    if (this.failed) {
      // Let every task finish closing (files, connections) before a restart opens them again.
      await Promise.allSettled(this.runs)
    }
  }

  /** For the handle: sends a message describing a task-level failure as a SluiceError. */
  static isCancellation(error: unknown): boolean {
    return JobCancelledError.isInstance(error) || (SluiceError.isInstance(error) && error.code === 'JOB_CANCELLED')
  }
}
