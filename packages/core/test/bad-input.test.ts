import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { EnvironmentOptions } from '../src/api/config.js'
import { StreamExecutionEnvironment } from '../src/api/environment.js'
import type { JobHandle } from '../src/api/job-handle.js'
import type { SimpleVersionedSerializer } from '../src/api/serializer.js'
import type { Sink, SupportsWriterState } from '../src/api/sink.js'
import type { StatefulSinkWriter } from '../src/api/sink-writer.js'
import { FileCheckpointStorage } from '../src/checkpoint/checkpoint-storage.js'
import { decodeCheckpoint } from '../src/checkpoint/completed-checkpoint.js'
import { RestartStrategies } from '../src/checkpoint/restart-strategy.js'
import { CollectSink } from '../src/connectors/collect-sink.js'
import { datagenSplitListSerializer, datagenSplitSerializer } from '../src/connectors/datagen-split.js'
import { ConfigError, JobFailedError, JobGraphError, UnsupportedVersionError } from '../src/errors.js'

/*
 * What a user gets when the input to a job is bad: corrupted or future checkpoints, a throwing user
 * serializer, invalid options, and savepoints that do not fit the job. Every error must say what and where.
 */

let directory: string
beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'sluice-bad-input-'))
})
afterEach(async () => {
  await rm(directory, { recursive: true, force: true })
})

const COUNT = 6000
const input = Array.from({ length: COUNT }, (_, i) => i)
const sorted = (values: number[]) => [...values].sort((a, b) => a - b)

const waitFor = async (condition: () => boolean) => {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5))
}

/** The same job every time: numbers 0..COUNT-1 through a map into `sink`, checkpointed into `directory`. */
function numbersJob(sink: CollectSink<number>, warnings: string[], options: EnvironmentOptions = {}): JobHandle {
  const env = StreamExecutionEnvironment.create({
    parallelism: 2,
    checkpointing: { interval: 20, directory, retainedCheckpoints: 3 },
    restartStrategy: RestartStrategies.none(),
    onWarning: (message) => warnings.push(message),
    ...options,
  })
  env
    .datagen({ generator: (i) => i, count: COUNT, recordsPerSecond: 20_000 })
    .uid('numbers')
    .map((n) => n)
    .uid('identity')
    .sinkTo(sink)
    .uid('collect')
  return env.execute('numbers')
}

/** Runs the numbers job until at least 3 checkpoints are on disk, cancels it, returns the checkpoint ids. */
async function leaveThreeCheckpoints(sink: CollectSink<number>): Promise<number[]> {
  const job = numbersJob(sink, [])
  await waitFor(() => (job.metrics().lastCheckpointId ?? 0) >= 3)
  await job.cancel()
  expect((await job.result).state).toBe('CANCELED')
  const ids = (await readdir(directory))
    .filter((name) => /^chk-\d+$/.test(name))
    .map((name) => Number(name.slice(4)))
    .sort((a, b) => a - b)
  expect(ids.length).toBe(3)
  return ids
}

/** The indexes a checkpoint of the numbers job has not emitted yet: its splits' `[next, end)`. */
async function remainingAt(checkpointId: number): Promise<number[]> {
  const stored = await new FileCheckpointStorage({ directory }).read(path.join(directory, `chk-${checkpointId}`))
  const checkpoint = decodeCheckpoint(stored.payload, stored.path)
  const splits = (checkpoint.operators.numbers?.subtasks ?? []).flatMap((subtask) =>
    (subtask.lists?.splits ?? []).map((item) => datagenSplitSerializer().deserialize(item.version, item.bytes)),
  )
  const unassigned = checkpoint.enumerators.numbers
  if (unassigned) splits.push(...datagenSplitListSerializer().deserialize(unassigned.version, unassigned.bytes))
  return splits.flatMap((split) => Array.from({ length: (split.end as number) - split.next }, (_, i) => split.next + i))
}

const metadataOf = (checkpointId: number) => path.join(directory, `chk-${checkpointId}`, '_metadata')

/** Every message along an error's cause chain. */
function causeMessages(error: unknown): string[] {
  const messages: string[] = []
  for (let current = error; current instanceof Error; current = current.cause) messages.push(current.message)
  return messages
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected the promise to reject')
}

describe('a corrupted newest checkpoint', () => {
  for (const corruption of ['truncated', 'one flipped byte'] as const) {
    it(`(${corruption}) is skipped with a warning naming file and reason; the job resumes from the one before, exactly once`, async () => {
      const sink = new CollectSink<number>()
      const ids = await leaveThreeCheckpoints(sink)
      const newest = ids.at(-1) as number
      const previous = ids.at(-2) as number
      const committedByFirstRun = [...sink.results]
      const remaining = await remainingAt(previous)
      const emittedBefore = new Set(input.filter((n) => !remaining.includes(n)))

      const file = metadataOf(newest)
      const bytes = await readFile(file)
      if (corruption === 'truncated') {
        await writeFile(file, bytes.subarray(0, bytes.length - 7))
      } else {
        const offset = 64 + Math.floor((bytes.length - 64) / 2) // inside the payload
        bytes.writeUInt8((bytes.readUInt8(offset) ^ 0x01) & 0xff, offset)
        await writeFile(file, bytes)
      }

      const warnings: string[] = []
      const result = await numbersJob(sink, warnings).result
      expect(result.state).toBe('FINISHED')
      expect(result.metrics.restoredCheckpointId).toBe(previous)
      const warning = warnings.find((w) => w.includes(file))
      expect(warning).toBeDefined()
      expect(warning).toMatch(corruption === 'truncated' ? /truncated \(header says \d+ payload bytes, file has \d+\)/ : /checksum mismatch/)
      expect(warning).toContain('falling back')

      // The first run committed everything up to the restored checkpoint (and maybe the corrupted one)...
      expect(new Set(committedByFirstRun).size).toBe(committedByFirstRun.length)
      for (const n of emittedBefore) expect(committedByFirstRun.includes(n)).toBe(true)
      // ...and the second run committed exactly what the restored checkpoint had not emitted yet.
      const committedBySecondRun = sink.results.slice(committedByFirstRun.length)
      expect(sorted(committedBySecondRun)).toEqual(sorted(remaining))
      expect(sorted([...emittedBefore, ...committedBySecondRun])).toEqual(input)
    })
  }

  it('written by a newer format version fails the start, naming the version and the file', async () => {
    const sink = new CollectSink<number>()
    const ids = await leaveThreeCheckpoints(sink)
    const file = metadataOf(ids.at(-1) as number)
    const bytes = await readFile(file)
    bytes.writeUInt16BE(2, 4) // the u16 format version of the header
    await writeFile(file, bytes)

    const error = await rejection(numbersJob(sink, []).result)
    expect(UnsupportedVersionError.isInstance(error)).toBe(true)
    expect((error as Error).message).toContain('format version 2')
    expect((error as Error).message).toContain(file)
  })
})

interface LedgerState {
  total: number
}

/** A sink with writer state whose serializer always throws. */
class LedgerSink implements Sink<number>, SupportsWriterState<number, LedgerState> {
  createWriter(): StatefulSinkWriter<number, LedgerState> {
    let total = 0
    return {
      write: (records) => {
        for (const record of records) total += record
      },
      flush: () => {},
      snapshotState: () => [{ total }],
      close: () => {},
    }
  }

  restoreWriter(): StatefulSinkWriter<number, LedgerState> {
    return this.createWriter()
  }

  writerStateSerializer(): SimpleVersionedSerializer<LedgerState> {
    return {
      version: 3,
      serialize: () => {
        throw new Error('cannot serialize ledger state: total is not a bigint')
      },
      deserialize: () => ({ total: 0 }),
    }
  }
}

describe('a user serializer that throws', () => {
  it('fails the checkpoint naming the sink and its serializer; with tolerableFailedCheckpoints 0 the job fails', async () => {
    const warnings: string[] = []
    const env = StreamExecutionEnvironment.create({
      checkpointing: { interval: 20, directory, tolerableFailedCheckpoints: 0 },
      restartStrategy: RestartStrategies.none(),
      onWarning: (message) => warnings.push(message),
    })
    env.datagen({ generator: (i) => i, recordsPerSecond: 1000 }).sinkTo(new LedgerSink(), 'ledger')
    const error = await rejection(env.execute('throwing-serializer').result)
    expect(JobFailedError.isInstance(error)).toBe(true)
    const messages = causeMessages(error)
    expect(messages[0]).toMatch(/^job 'throwing-serializer' failed after 0 restart\(s\)/)
    expect(messages.some((m) => m.includes('more than tolerableFailedCheckpoints (0)'))).toBe(true)
    const serializerFailure = "writer state 0 of sink 'ledger': serializer (version 3) failed: cannot serialize ledger state: total is not a bigint"
    expect(messages.some((m) => m.includes(serializerFailure))).toBe(true)
    expect(warnings.some((w) => w.includes(serializerFailure))).toBe(true)
    // Nothing was ever stored.
    expect((await readdir(directory)).filter((name) => name.startsWith('chk-'))).toEqual([])
  })
})

describe('invalid options', () => {
  const create = (options: unknown) => () => StreamExecutionEnvironment.create(options as EnvironmentOptions)
  const configError = (options: unknown): ConfigError => {
    try {
      create(options)()
    } catch (error) {
      expect(ConfigError.isInstance(error)).toBe(true)
      return error as ConfigError
    }
    throw new Error(`expected ${JSON.stringify(options)} to be rejected`)
  }

  it('a negative checkpoint interval names checkpointing.interval', () => {
    const error = configError({ checkpointing: { interval: -5 } })
    expect(error.path).toBe('checkpointing.interval')
    expect(error.message).toBe('checkpointing.interval: expected an integer >= 1, got -5')
  })

  it('an unknown option, also nested, names its full path', () => {
    const nested = configError({ checkpointing: { intervall: 100 } })
    expect(nested.path).toBe('checkpointing.intervall')
    expect(nested.message).toMatch(/^checkpointing\.intervall: unknown option \(known: interval, /)
    expect(configError({ paralellism: 2 }).message).toMatch(/^paralellism: unknown option/)
    expect(configError({ restartStrategy: { type: 'fixed-delay', attempts: 1, delayMs: 1, jitter: 1 } }).path).toBe('restartStrategy.jitter')
  })

  it('a value of the wrong type names the option path and the value', () => {
    const cases: [unknown, string, string][] = [
      [{ parallelism: '2' }, 'parallelism', "expected an integer in [1, 128], got '2'"],
      [{ parallelism: 1.5 }, 'parallelism', 'expected an integer in [1, 128], got 1.5'],
      [{ checkpointing: { interval: 10, timeout: '5s' } }, 'checkpointing.timeout', "expected an integer >= 1, got '5s'"],
      [{ checkpointing: { interval: 10, mode: 'exactly_once' } }, 'checkpointing.mode', "expected 'EXACTLY_ONCE' | 'AT_LEAST_ONCE', got 'exactly_once'"],
      [{ checkpointing: { interval: 10, directory: 42 } }, 'checkpointing.directory', 'expected a non-empty string, got 42'],
      [{ checkpointing: 1000 }, 'checkpointing', 'expected an object, got 1000'],
      [{ checkpointing: {} }, 'checkpointing.interval', 'is required (ms between checkpoints)'],
      [{ chaining: 'yes' }, 'chaining', "expected true or false, got 'yes'"],
      [{ runtimeMode: 'batch' }, 'runtimeMode', "expected 'STREAMING' | 'BATCH', got 'batch'"],
      [{ maxParallelism: 0 }, 'maxParallelism', 'expected an integer in [1, 32768], got 0'],
      [{ restartStrategy: { type: 'fixed-delay', attempts: -1, delayMs: 1 } }, 'restartStrategy.attempts', 'expected an integer >= 0, got -1'],
      [{ restartStrategy: 'never' }, 'restartStrategy', "expected an object with a 'type', got 'never'"],
    ]
    for (const [options, optionPath, message] of cases) {
      const error = configError(options)
      expect(error.path).toBe(optionPath)
      expect(error.message).toBe(`${optionPath}: ${message}`)
    }
  })

  it('invalid connector options name the connector option', () => {
    const env = StreamExecutionEnvironment.create({ onWarning: () => {} })
    expect(() => env.datagen({ generator: (i) => i, count: -1 })).toThrow(/^datagen\.count: /)
    expect(() => env.datagen({ generator: 'i' as never })).toThrow(/^datagen\.generator: /)
  })
})

describe('a savepoint that does not fit the job', () => {
  /** A keyed running count per key, stopped with a savepoint once some records went through. */
  async function takeSavepoint(): Promise<string> {
    const env = StreamExecutionEnvironment.create({ parallelism: 2, checkpointing: { interval: 50, directory }, onWarning: () => {} })
    env
      .datagen({ generator: (i) => ({ key: `k${i % 5}`, count: 1 }), recordsPerSecond: 5000 })
      .uid('events')
      .keyBy((e) => e.key)
      .reduce((a, b) => ({ key: a.key, count: a.count + b.count }))
      .uid('running-count')
      .sinkTo(new CollectSink())
      .uid('collect')
    const job = env.execute('keyed-counts')
    await waitFor(() => job.metrics().recordsFromSources >= 200)
    const savepoint = await job.stopWithSavepoint()
    await job.result
    return savepoint
  }

  function restore(savepoint: string, options: EnvironmentOptions, withReduce: boolean): JobHandle {
    const env = StreamExecutionEnvironment.create({
      parallelism: 2,
      checkpointing: { interval: 50, directory },
      fromSavepoint: savepoint,
      onWarning: () => {},
      ...options,
    })
    const keyed = env
      .datagen({ generator: (i) => ({ key: `k${i % 5}`, count: 1 }), recordsPerSecond: 5000 })
      .uid('events')
      .keyBy((e) => e.key)
    const counted = withReduce
      ? keyed.reduce((a, b) => ({ key: a.key, count: a.count + b.count })).uid('running-count')
      : keyed.map((e) => e).uid('renamed-count')
    counted.sinkTo(new CollectSink()).uid('collect')
    return env.execute('keyed-counts')
  }

  it('restoring keyed state with another maxParallelism fails naming maxParallelism (at once, without restarts)', async () => {
    const savepoint = await takeSavepoint()
    // Default restart strategy (unlimited with checkpointing): a state that can never be restored must not loop.
    const job = restore(savepoint, { maxParallelism: 64 }, true)
    const error = await rejection(job.result)
    const messages = causeMessages(error)
    expect(messages.some((m) => m.includes('maxParallelism') && m.includes('128') && m.includes('64'))).toBe(true)
    const configError = [error, (error as Error).cause].find((e) => ConfigError.isInstance(e)) as ConfigError
    expect(configError.path).toBe('maxParallelism')
    expect(configError.message).toContain("operator 'running-count'")
    expect(job.metrics().restarts).toBe(0)
  })

  it('restoring into a job without one of its operator uids fails naming the uid (at once, without restarts)', async () => {
    const savepoint = await takeSavepoint()
    const job = restore(savepoint, {}, false)
    const error = await rejection(job.result)
    const graphError = [error, (error as Error).cause].find((e) => JobGraphError.isInstance(e)) as JobGraphError
    expect(graphError).toBeDefined()
    expect(graphError.message).toContain("operator uid 'running-count'")
    expect(graphError.message).toContain(savepoint)
    expect(job.metrics().restarts).toBe(0)
  })
})
