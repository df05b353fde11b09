import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CommitRequest, Committer, CommitterContext } from '../src/api/committer.js'
import { StreamExecutionEnvironment } from '../src/api/environment.js'
import type { GlobalCommitter } from '../src/api/global-committer.js'
import type { SimpleVersionedSerializer } from '../src/api/serializer.js'
import type { Sink, SupportsCommitter, SupportsGlobalCommitter, SupportsWriterState } from '../src/api/sink.js'
import type { CommittingSinkWriter, StatefulSinkWriter, WriterInitContext } from '../src/api/sink-writer.js'
import { RestartStrategies } from '../src/checkpoint/restart-strategy.js'

/*
 * The sink contracts (api/sink.ts, sink-writer.ts, committer.ts, global-committer.ts) driven by a real
 * job: recording sinks log every call the runtime makes, and the tests check the order the contracts
 * promise and that the committed output is exactly the input.
 */

interface Committable {
  /** Unique over all attempts: `a<attempt>-s<subtask>-<sequence>`. */
  id: string
  subtaskId: number
  records: number[]
}

interface WriterState {
  subtaskId: number
  /** Records this subtask's writers handed over in committables so far, over all attempts. */
  prepared: number
  checkpointId: number
}

interface GlobalCommittable {
  checkpointId: number
  committableIds: string[]
  records: number[]
}

function json<T>(): SimpleVersionedSerializer<T> {
  return {
    version: 1,
    serialize: (value) => new TextEncoder().encode(JSON.stringify(value)),
    deserialize: (_version, bytes) => JSON.parse(new TextDecoder().decode(bytes)) as T,
  }
}

const durable = (directory: string, checkpointId: number) => existsSync(path.join(directory, `chk-${checkpointId}`, '_metadata'))

/**
 * A two-phase-commit sink with writer state that logs each call as `s<subtask> <call>` in `log`.
 * Its committer applies a committable's records to `results` once and signals a second commit of the
 * same committable as already committed.
 */
class RecordingSink implements Sink<number>, SupportsWriterState<number, WriterState>, SupportsCommitter<Committable> {
  readonly log: string[] = []
  readonly results: number[] = []
  readonly committed = new Set<string>()
  readonly alreadyCommitted: string[] = []
  /** Every committable a writer prepared, with the checkpoint whose snapshot followed. */
  readonly preparedAt = new Map<string, number>()
  /** Writer states by `<subtask>@<checkpointId>`, as snapshotted. */
  readonly snapshots = new Map<string, WriterState[]>()
  readonly restores: { subtaskId: number; restoredCheckpointId: number | undefined; states: WriterState[] }[] = []
  /** Commits of a checkpoint whose `_metadata` was not on disk yet (must stay empty). */
  readonly commitsBeforeDurable: string[] = []
  /** Called after each commit request that was applied for the first time. */
  onCommitted: ((request: CommitRequest<Committable>) => void) | undefined
  /** Makes the writer state serializer throw for this checkpoint, once. */
  failWriterStateAt: number | undefined

  constructor(private readonly directory: string) {}

  createWriter(context: WriterInitContext): RecordingWriter {
    this.log.push(`s${context.subtaskId} createWriter`)
    return new RecordingWriter(this, context, { subtaskId: context.subtaskId, prepared: 0, checkpointId: 0 })
  }

  restoreWriter(context: WriterInitContext, recoveredState: WriterState[]): RecordingWriter {
    this.log.push(`s${context.subtaskId} restoreWriter@${context.restoredCheckpointId}`)
    this.restores.push({ subtaskId: context.subtaskId, restoredCheckpointId: context.restoredCheckpointId, states: recoveredState })
    const prepared = recoveredState.reduce((sum, state) => sum + state.prepared, 0)
    return new RecordingWriter(this, context, { subtaskId: context.subtaskId, prepared, checkpointId: context.restoredCheckpointId ?? 0 })
  }

  writerStateSerializer(): SimpleVersionedSerializer<WriterState> {
    const serializer = json<WriterState>()
    return {
      ...serializer,
      serialize: (state) => {
        if (state.checkpointId === this.failWriterStateAt) {
          this.failWriterStateAt = undefined
          throw new Error('writer state serializer hiccup')
        }
        return serializer.serialize(state)
      },
    }
  }

  createCommitter(context: CommitterContext): Committer<Committable> {
    return {
      commit: async (requests) => {
        for (const request of requests) {
          const { id, records } = request.committable
          this.log.push(`s${context.subtaskId} commit@${request.checkpointId}`)
          if (!durable(this.directory, request.checkpointId)) this.commitsBeforeDurable.push(`${id}@${request.checkpointId}`)
          if (this.committed.has(id)) {
            this.alreadyCommitted.push(id)
            this.log.push(`s${context.subtaskId} alreadyCommitted ${id}`)
            request.signalAlreadyCommitted()
            continue
          }
          for (const record of records) this.results.push(record)
          this.committed.add(id)
          this.onCommitted?.(request)
        }
      },
      close: () => {},
    }
  }

  committableSerializer(): SimpleVersionedSerializer<Committable> {
    return json<Committable>()
  }
}

class RecordingWriter implements CommittingSinkWriter<number, Committable>, StatefulSinkWriter<number, WriterState> {
  private buffer: number[] = []
  private sequence = 0
  private unsnapshotted: string[] = []

  constructor(
    private readonly sink: RecordingSink,
    private readonly context: WriterInitContext,
    private readonly state: WriterState,
  ) {}

  private get prefix(): string {
    return `s${this.context.subtaskId}`
  }

  write(records: readonly number[]): void {
    this.sink.log.push(`${this.prefix} write`)
    for (const record of records) this.buffer.push(record)
  }

  flush(endOfInput: boolean): void {
    this.sink.log.push(`${this.prefix} flush(${endOfInput})`)
  }

  prepareCommit(): Committable[] {
    this.sink.log.push(`${this.prefix} prepareCommit`)
    // One committable per checkpoint, even an empty one, so every checkpoint has something to commit.
    const committable: Committable = {
      id: `a${this.context.attemptNumber}-s${this.context.subtaskId}-${this.sequence++}`,
      subtaskId: this.context.subtaskId,
      records: this.buffer,
    }
    this.state.prepared += this.buffer.length
    this.buffer = []
    this.unsnapshotted.push(committable.id)
    return [committable]
  }

  snapshotState(checkpointId: number): WriterState[] {
    this.sink.log.push(`${this.prefix} snapshotState@${checkpointId}`)
    for (const id of this.unsnapshotted.splice(0)) this.sink.preparedAt.set(id, checkpointId)
    this.state.checkpointId = checkpointId
    const state = { ...this.state }
    this.sink.snapshots.set(`${this.context.subtaskId}@${checkpointId}`, [state])
    return [state]
  }

  close(): void {
    this.sink.log.push(`${this.prefix} close`)
  }
}

/** A RecordingSink whose committables are also combined per checkpoint and committed once by a global committer. */
class RecordingGlobalSink extends RecordingSink implements SupportsGlobalCommitter<Committable, GlobalCommittable> {
  readonly globalLog: string[] = []
  readonly globalResults: number[] = []
  readonly globalCommitted = new Set<number>()
  readonly globalCommitsBeforeDurable: number[] = []
  /** Makes the global committable serializer throw for this checkpoint, once. */
  failGlobalSerializerAt: number | undefined

  constructor(private readonly checkpointDirectory: string) {
    super(checkpointDirectory)
  }

  createGlobalCommitter(): GlobalCommitter<Committable, GlobalCommittable> {
    this.globalLog.push('createGlobalCommitter')
    return {
      combine: (checkpointId, committables) => {
        this.globalLog.push(`combine@${checkpointId}`)
        return {
          checkpointId,
          committableIds: committables.map((c) => c.id).sort(),
          records: committables.flatMap((c) => c.records),
        }
      },
      commit: async (globalCommittables) => {
        for (const committable of globalCommittables) {
          this.globalLog.push(`commit@${committable.checkpointId}`)
          if (!durable(this.checkpointDirectory, committable.checkpointId)) this.globalCommitsBeforeDurable.push(committable.checkpointId)
          if (this.globalCommitted.has(committable.checkpointId)) throw new Error(`global committable ${committable.checkpointId} committed twice`)
          this.globalCommitted.add(committable.checkpointId)
          for (const record of committable.records) this.globalResults.push(record)
        }
        return []
      },
      filterRecoveredCommittables: async (globalCommittables) => {
        this.globalLog.push(`filterRecovered@${globalCommittables.map((c) => c.checkpointId).join(',')}`)
        return globalCommittables.filter((c) => !this.globalCommitted.has(c.checkpointId))
      },
      endOfInput: () => {
        this.globalLog.push('endOfInput')
      },
      close: () => {
        this.globalLog.push('close')
      },
    }
  }

  globalCommittableSerializer(): SimpleVersionedSerializer<GlobalCommittable> {
    const serializer = json<GlobalCommittable>()
    return {
      ...serializer,
      serialize: (committable) => {
        if (committable.checkpointId === this.failGlobalSerializerAt) {
          this.failGlobalSerializerAt = undefined
          throw new Error('global committable serializer hiccup')
        }
        return serializer.serialize(committable)
      },
    }
  }
}

const COUNT = 4000
const input = Array.from({ length: COUNT }, (_, i) => i)
const sorted = (values: number[]) => [...values].sort((a, b) => a - b)

/** The calls of one subtask, without the `s<n> ` prefix. */
function callsOf(log: string[], subtaskId: number): string[] {
  return log.filter((entry) => entry.startsWith(`s${subtaskId} `)).map((entry) => entry.slice(`s${subtaskId} `.length))
}

/** Consecutive writes folded into one `write`. */
function foldWrites(calls: string[]): string[] {
  return calls.filter((call, index) => call !== 'write' || calls[index - 1] !== 'write')
}

let directory: string
beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'sluice-sink-lifecycle-'))
})
afterEach(async () => {
  await rm(directory, { recursive: true, force: true })
})

interface JobOptions {
  /** The map throws once, right after a committer applied a committable of checkpoint >= 2. */
  injectFailure?: boolean
  tolerableFailedCheckpoints?: number
}

function runJob(sink: RecordingSink, options: JobOptions = {}) {
  const warnings: string[] = []
  let armed = false
  let failuresLeft = options.injectFailure ? 1 : 0
  if (options.injectFailure) {
    sink.onCommitted = (request) => {
      if (request.checkpointId >= 2 && failuresLeft > 0) armed = true
    }
  }
  const env = StreamExecutionEnvironment.create({
    parallelism: 2,
    checkpointing: {
      interval: 20,
      // Keeps a new checkpoint from completing between the commit that arms the failure and the failure.
      minPauseBetweenCheckpoints: 50,
      directory,
      retainedCheckpoints: 3,
      tolerableFailedCheckpoints: options.tolerableFailedCheckpoints ?? 0,
    },
    restartStrategy: RestartStrategies.fixedDelay(3, 1),
    onWarning: (message) => warnings.push(message),
  })
  env
    .datagen({ generator: (i) => i, count: COUNT, recordsPerSecond: 10_000 })
    .uid('numbers')
    .map((n) => {
      if (armed && failuresLeft > 0) {
        armed = false
        failuresLeft--
        throw new Error(`injected failure at record ${n}`)
      }
      return n
    })
    .uid('fail-once')
    .sinkTo(sink)
    .uid('recording-sink')
  return { job: env.execute('sink-lifecycle'), warnings }
}

describe('sink lifecycle: SinkWriter, writer state and Committer', () => {
  it('per checkpoint: write* → flush(false) → prepareCommit → snapshotState, committed once durable; at end of input flush(true) and a final commit', async () => {
    const sink = new RecordingSink(directory)
    const { job } = runJob(sink)
    const result = await job.result
    expect(result.state).toBe('FINISHED')
    expect(result.metrics.checkpointsCompleted).toBeGreaterThanOrEqual(3)

    for (const subtaskId of [0, 1]) {
      const calls = callsOf(sink.log, subtaskId)
      const withoutCommits = foldWrites(calls.filter((c) => !c.startsWith('commit@'))).join(' ')
      // Each checkpoint: flush(false) → prepareCommit → snapshotState; at the end flush(true) once, then the
      // final checkpoint (and any periodic one still in flight) prepare without another flush.
      expect(withoutCommits).toMatch(
        /^createWriter( write)?( flush\(false\) prepareCommit snapshotState@\d+( write)?)* flush\(true\)( prepareCommit snapshotState@\d+)+ close$/,
      )
      expect(calls.filter((c) => c === 'flush(true)')).toHaveLength(1)
      // Every snapshotted checkpoint is committed, after its snapshot; checkpoint ids only grow.
      const snapshotted = calls.filter((c) => c.startsWith('snapshotState@')).map((c) => Number(c.split('@')[1]))
      expect(snapshotted).toEqual(sorted(snapshotted))
      for (const checkpointId of snapshotted) {
        expect(calls.indexOf(`commit@${checkpointId}`)).toBeGreaterThan(calls.indexOf(`snapshotState@${checkpointId}`))
      }
      // The final checkpoint is committed before the writer closes.
      const last = snapshotted.at(-1) as number
      expect(calls.indexOf(`commit@${last}`)).toBeLessThan(calls.indexOf('close'))
    }
    // Commits only of durable checkpoints; nothing committed twice, nothing left pending.
    expect(sink.commitsBeforeDurable).toEqual([])
    expect(sink.alreadyCommitted).toEqual([])
    expect([...sink.committed].sort()).toEqual([...sink.preparedAt.keys()].sort())
    expect(sorted(sink.results)).toEqual(input)
    // Writer state counted every record once.
    const finals = [0, 1].map((subtaskId) => {
      const ids = [...sink.snapshots.keys()].filter((k) => k.startsWith(`${subtaskId}@`)).map((k) => Number(k.split('@')[1]))
      return sink.snapshots.get(`${subtaskId}@${Math.max(...ids)}`)?.[0]?.prepared ?? 0
    })
    expect(finals.reduce((sum, n) => sum + n, 0)).toBe(COUNT)
  })

  it('after a restart, commits the restored committables again (signalled as already committed) before any new write', async () => {
    const sink = new RecordingSink(directory)
    const { job, warnings } = runJob(sink, { injectFailure: true })
    const result = await job.result
    expect(result.state).toBe('FINISHED')
    expect(result.metrics.restarts).toBe(1)
    expect(warnings.some((w) => w.includes('injected failure'))).toBe(true)
    const restoredId = result.metrics.restoredCheckpointId as number
    expect(restoredId).toBeGreaterThanOrEqual(2)

    // Each subtask's writer is restored from its own state in the restored checkpoint.
    expect(sink.restores.map((r) => r.subtaskId).sort()).toEqual([0, 1])
    for (const restore of sink.restores) {
      expect(restore.restoredCheckpointId).toBe(restoredId)
      expect(restore.states).toEqual(sink.snapshots.get(`${restore.subtaskId}@${restoredId}`))
    }

    const committedBeforeRestart = new Set<string>()
    const failedAt = sink.log.findIndex((entry) => entry.endsWith(`restoreWriter@${restoredId}`))
    for (const entry of sink.log.slice(0, failedAt)) if (entry.includes(' commit@')) committedBeforeRestart.add(entry)
    for (const subtaskId of [0, 1]) {
      const calls = callsOf(sink.log, subtaskId)
      const restoredAt = calls.indexOf(`restoreWriter@${restoredId}`)
      const afterRestore = calls.slice(restoredAt)
      const firstWrite = afterRestore.indexOf('write')
      // The committables of the restored checkpoint are committed before the first new write.
      expect(afterRestore.slice(0, firstWrite)).toContain(`commit@${restoredId}`)
    }
    // The ones already applied before the failure are recognised and not applied again.
    expect(sink.alreadyCommitted.length).toBeGreaterThanOrEqual(1)
    for (const id of sink.alreadyCommitted) expect(sink.preparedAt.get(id)).toBeLessThanOrEqual(restoredId)
    expect(sink.commitsBeforeDurable).toEqual([])
    // Exactly once: the failed attempt's uncommitted records were dropped and replayed.
    expect(sorted(sink.results)).toEqual(input)
    const finals = [0, 1].map((subtaskId) => {
      const ids = [...sink.snapshots.keys()].filter((k) => k.startsWith(`${subtaskId}@`)).map((k) => Number(k.split('@')[1]))
      return sink.snapshots.get(`${subtaskId}@${Math.max(...ids)}`)?.[0]?.prepared ?? 0
    })
    expect(finals.reduce((sum, n) => sum + n, 0)).toBe(COUNT)
  })
})

describe('sink lifecycle: GlobalCommitter', () => {
  it('combines once per checkpoint, commits after the checkpoint is durable, and ends input once', async () => {
    const sink = new RecordingGlobalSink(directory)
    const { job } = runJob(sink)
    await job.result
    const log = sink.globalLog
    expect(log[0]).toBe('createGlobalCommitter')
    expect(log.slice(-2)).toEqual(['endOfInput', 'close'])
    expect(log.filter((e) => e === 'endOfInput')).toHaveLength(1)
    const combined = log.filter((e) => e.startsWith('combine@')).map((e) => Number(e.split('@')[1]))
    expect(new Set(combined).size).toBe(combined.length)
    for (const checkpointId of combined) {
      expect(log.indexOf(`commit@${checkpointId}`)).toBeGreaterThan(log.indexOf(`combine@${checkpointId}`))
    }
    expect(sink.globalCommitsBeforeDurable).toEqual([])
    // The last commit happens before endOfInput: nothing is left pending.
    expect(log.lastIndexOf('endOfInput')).toBeGreaterThan(log.lastIndexOf(`commit@${combined.at(-1)}`))
    expect(sorted(sink.globalResults)).toEqual(input)
    expect(sorted(sink.results)).toEqual(input)
  })

  it('after a restart, passes the recovered global committables through filterRecoveredCommittables', async () => {
    const sink = new RecordingGlobalSink(directory)
    const { job } = runJob(sink, { injectFailure: true })
    const result = await job.result
    expect(result.metrics.restarts).toBe(1)
    const restoredId = result.metrics.restoredCheckpointId as number
    const log = sink.globalLog
    expect(log.filter((e) => e === 'createGlobalCommitter')).toHaveLength(2)
    const secondAttempt = log.lastIndexOf('createGlobalCommitter')
    // The first call of the new attempt's committer: the recovered committable of the restored checkpoint.
    expect(log[secondAttempt + 1]).toBe(`filterRecovered@${restoredId}`)
    // It was committed before the failure, so it is filtered out and not committed again.
    expect(log.filter((e) => e === `commit@${restoredId}`)).toHaveLength(1)
    expect(log.filter((e) => e === 'endOfInput')).toHaveLength(1)
    expect(sink.globalCommitsBeforeDurable).toEqual([])
    expect(sorted(sink.globalResults)).toEqual(input)
  })

  it('hands the committables of an aborted checkpoint to the next combine, so none is lost', async () => {
    const sink = new RecordingGlobalSink(directory)
    sink.failWriterStateAt = 3
    const { job, warnings } = runJob(sink, { tolerableFailedCheckpoints: 1 })
    const result = await job.result
    expect(result.metrics.restarts).toBe(0)
    expect(result.metrics.checkpointsFailed).toBe(1)
    expect(warnings.some((w) => w.includes('checkpoint 3 failed') && w.includes('writer state serializer hiccup'))).toBe(true)
    expect(sink.globalLog).not.toContain('combine@3')
    expect(sorted(sink.results)).toEqual(input)
    expect(sorted(sink.globalResults)).toEqual(input)
  })

  it('a checkpoint that failed after combine (its global committable could not be stored) loses and duplicates nothing', async () => {
    const sink = new RecordingGlobalSink(directory)
    sink.failGlobalSerializerAt = 3
    const { job, warnings } = runJob(sink, { tolerableFailedCheckpoints: 1 })
    const result = await job.result
    expect(result.metrics.restarts).toBe(0)
    expect(warnings.some((w) => w.includes('checkpoint 3 failed') && w.includes('global committable serializer hiccup'))).toBe(true)
    // Combined, but never stored: it must not be committed; its committables go into checkpoint 4's.
    expect(sink.globalLog).toContain('combine@3')
    expect(sink.globalLog).not.toContain('commit@3')
    expect(sorted(sink.globalResults)).toEqual(input)
    expect(sorted(sink.results)).toEqual(input)
  })
})
