import path from 'node:path'
import type { ResolvedEnvironmentOptions } from '../api/config.js'
import type { JobHandle, JobMetrics, JobResult } from '../api/job-handle.js'
import { FileCheckpointStorage } from '../checkpoint/checkpoint-storage.js'
import { type CompletedCheckpoint, decodeCheckpoint, encodeCheckpoint } from '../checkpoint/completed-checkpoint.js'
import { createRestartBackoff, RestartStrategies, type RestartStrategy } from '../checkpoint/restart-strategy.js'
import { ConfigError, JobCancelledError, JobFailedError, JobGraphError, UnsupportedVersionError } from '../errors.js'
import type { JobGraph } from './job-graph.js'
import { JobExecution } from './job-execution.js'
import { messageOf } from './versioned-items.js'

/**
 * Runs a job across attempts: restores from the latest checkpoint (or a savepoint), restarts after
 * failures as the restart strategy allows, and exposes the handle.
 */
export function runJob(jobName: string, graph: JobGraph, options: ResolvedEnvironmentOptions): JobHandle {
  return new JobRunner(jobName, graph, options).handle()
}

class JobRunner {
  private current: JobExecution | undefined
  private cancelled = false
  private savepointPath: string | undefined
  private latest: CompletedCheckpoint | undefined
  private readonly storage: FileCheckpointStorage | undefined
  private readonly checkpointDirectory: string
  private readonly counters: { recordsFromSources: number; firstRecordAt: number | undefined } = { recordsFromSources: 0, firstRecordAt: undefined }
  private restarts = 0
  private completed = 0
  private failedCheckpoints = 0
  private lastStats: { id?: number; durationMs?: number; path?: string } = {}
  private attemptStartedAt = 0
  private restoredId: number | undefined
  private readonly result: Promise<JobResult>

  constructor(
    private readonly jobName: string,
    private readonly graph: JobGraph,
    private readonly options: ResolvedEnvironmentOptions,
  ) {
    this.checkpointDirectory = options.checkpointing?.directory ?? path.join('.sluice', 'checkpoints', jobName)
    if (options.checkpointing && options.runtimeMode === 'STREAMING') {
      this.storage = new FileCheckpointStorage({
        directory: this.checkpointDirectory,
        retainedCheckpoints: options.checkpointing.retainedCheckpoints,
        onWarning: options.onWarning,
      })
    }
    this.result = this.run()
    this.result.catch(() => {})
  }

  handle(): JobHandle {
    return {
      jobName: this.jobName,
      result: this.result,
      cancel: async () => {
        this.cancelled = true
        this.current?.cancel()
        await this.result.catch(() => {})
      },
      triggerSavepoint: (directory) => this.requireRunning().triggerSavepoint(directory ?? this.savepointDirectory()),
      stopWithSavepoint: async (stopOptions = {}) => {
        const savepoint = await this.requireRunning().stopWithSavepoint(stopOptions.drain ?? false, stopOptions.directory ?? this.savepointDirectory())
        this.savepointPath = savepoint
        return savepoint
      },
      metrics: () => this.metrics(),
    }
  }

  private savepointDirectory(): string {
    return path.join(this.checkpointDirectory, 'savepoints')
  }

  private requireRunning(): JobExecution {
    if (!this.current) throw new JobFailedError(`job '${this.jobName}' is not running`, this.restarts)
    return this.current
  }

  private metrics(): JobMetrics {
    const stats = this.current?.coordinator.stats
    return {
      recordsFromSources: this.counters.recordsFromSources,
      checkpointsCompleted: this.completed,
      checkpointsFailed: this.failedCheckpoints + (stats?.failed ?? 0),
      lastCheckpointId: this.lastStats.id,
      lastCheckpointDurationMs: this.lastStats.durationMs,
      lastCheckpointPath: this.lastStats.path,
      restarts: this.restarts,
      restoredCheckpointId: this.restoredId,
      timeToFirstRecordMs: this.counters.firstRecordAt === undefined ? undefined : this.counters.firstRecordAt - this.attemptStartedAt,
    }
  }

  private async initialCheckpoint(): Promise<CompletedCheckpoint | undefined> {
    const { fromSavepoint, resumeFromLatestCheckpoint } = this.options
    const reader = this.storage ?? new FileCheckpointStorage({ directory: this.checkpointDirectory, onWarning: this.options.onWarning })
    if (fromSavepoint) {
      const stored = await reader.read(fromSavepoint)
      return decodeCheckpoint(stored.payload, stored.path)
    }
    if (!this.storage || !resumeFromLatestCheckpoint) return undefined
    // latest() removes leftovers of interrupted writes and skips corrupt files with a warning.
    const latest = await this.storage.latest()
    if (!latest) return undefined
    const candidates = [latest.checkpointId, ...(await this.storage.list()).filter((id) => id < latest.checkpointId).sort((a, b) => b - a)]
    for (const id of candidates) {
      try {
        const stored = id === latest.checkpointId ? latest : await this.storage.read(path.join(this.checkpointDirectory, `chk-${id}`))
        return decodeCheckpoint(stored.payload, stored.path)
      } catch (error) {
        if ((error as { code?: string }).code === 'UNSUPPORTED_VERSION') throw error
        this.options.onWarning(`${messageOf(error)}; falling back to an older checkpoint`)
      }
    }
    return undefined
  }

  private async run(): Promise<JobResult> {
    const strategy: RestartStrategy =
      this.options.restartStrategy ??
      (this.options.checkpointing ? RestartStrategies.fixedDelay(Number.MAX_SAFE_INTEGER, 1000) : RestartStrategies.none())
    const backoff = createRestartBackoff(strategy)
    this.attemptStartedAt = Date.now()
    let restored = await this.initialCheckpoint()
    let nextCheckpointId = (restored?.checkpointId ?? 0) + 1
    if (this.storage) {
      const ids = await this.storage.list()
      if (ids.length > 0) nextCheckpointId = Math.max(nextCheckpointId, Math.max(...ids) + 1)
    }
    let attemptNumber = 0
    while (true) {
      this.restoredId = restored?.checkpointId
      const execution = new JobExecution({
        jobName: this.jobName,
        graph: this.graph,
        options: this.options,
        attemptNumber,
        restored,
        firstCheckpointId: nextCheckpointId,
        persistence: { persist: (checkpoint, kind, target) => this.persist(checkpoint, kind, target) },
        onCheckpointCompleted: (checkpoint) => {
          this.latest = checkpoint
          this.completed++
          this.lastStats = { id: checkpoint.checkpointId, durationMs: Date.now() - checkpoint.timestamp, path: checkpoint.path }
        },
        metrics: this.counters,
      })
      this.current = execution
      if (this.cancelled) execution.cancel()
      try {
        await execution.run()
        this.failedCheckpoints += execution.coordinator.stats.failed
        this.current = undefined
        return { jobName: this.jobName, state: 'FINISHED', savepointPath: this.savepointPath, metrics: this.metrics() }
      } catch (error) {
        this.failedCheckpoints += execution.coordinator.stats.failed
        nextCheckpointId = Math.max(nextCheckpointId, (execution.coordinator.stats.lastCompletedId ?? 0) + 1, (this.latest?.checkpointId ?? 0) + 1)
        this.current = undefined
        if (this.cancelled || JobCancelledError.isInstance(error)) {
          if (this.options.checkpointing?.externalizedCleanup === 'DELETE_ON_CANCELLATION') await this.storage?.discardAll()
          return { jobName: this.jobName, state: 'CANCELED', savepointPath: undefined, metrics: this.metrics() }
        }
        // State that does not fit the job (another maxParallelism, a missing uid, a newer format) fails
        // the deployment the same way on every attempt: fail now rather than restart forever.
        if (ConfigError.isInstance(error) || JobGraphError.isInstance(error) || UnsupportedVersionError.isInstance(error)) {
          throw new JobFailedError(`job '${this.jobName}' failed: ${messageOf(error)}; not restarted, a restart would fail the same way`, this.restarts, {
            cause: error,
          })
        }
        backoff.notifyFailure(Date.now())
        if (!backoff.canRestart()) {
          throw new JobFailedError(
            `job '${this.jobName}' failed after ${this.restarts} restart(s) (${strategy.type} restart strategy): ${messageOf(error)}`,
            this.restarts,
            { cause: error },
          )
        }
        const delay = backoff.backoffMs()
        this.options.onWarning(`job '${this.jobName}' failed: ${messageOf(error)}; restarting in ${delay} ms from ${this.latest ? `checkpoint ${this.latest.checkpointId}` : restored ? `checkpoint ${restored.checkpointId}` : 'the beginning'}`)
        await new Promise((resolve) => setTimeout(resolve, delay))
        this.restarts++
        attemptNumber++
        restored = this.latest ?? restored
        this.attemptStartedAt = Date.now()
        this.counters.firstRecordAt = undefined
      }
    }
  }

  private async persist(checkpoint: CompletedCheckpoint, kind: 'checkpoint' | 'savepoint', targetDirectory: string | undefined): Promise<string | undefined> {
    const payload = encodeCheckpoint(checkpoint)
    if (kind === 'savepoint') {
      const storage = this.storage ?? new FileCheckpointStorage({ directory: this.checkpointDirectory, onWarning: this.options.onWarning })
      return storage.write(checkpoint.checkpointId, payload, { kind: 'savepoint', targetDirectory, timestamp: checkpoint.timestamp })
    }
    if (!this.storage) return undefined // checkpointing off: the final checkpoint lives in memory only
    return this.storage.write(checkpoint.checkpointId, payload, { timestamp: checkpoint.timestamp })
  }
}
