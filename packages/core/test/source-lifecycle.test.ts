import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { StreamExecutionEnvironment } from '../src/api/environment.js'
import type { SimpleVersionedSerializer } from '../src/api/serializer.js'
import type { Source } from '../src/api/source.js'
import type { InputStatus, ReaderOutput, SourceReader, SourceReaderContext } from '../src/api/source-reader.js'
import type { SplitEnumerator, SplitEnumeratorContext } from '../src/api/split-enumerator.js'
import { RestartStrategies } from '../src/checkpoint/restart-strategy.js'
import { CollectSink } from '../src/connectors/collect-sink.js'

/*
 * The source contracts (api/source.ts, split-enumerator.ts, source-reader.ts) driven by a real job:
 * a pull-based recording source whose readers ask for one split at a time, so that at every checkpoint
 * some splits are still with the enumerator and others with the readers.
 */

/** Numbers `[next, end)`. */
interface RangeSplit {
  splitId: string
  next: number
  end: number
}

const SPLITS = 6
const SPLIT_SIZE = 500
const COUNT = SPLITS * SPLIT_SIZE
const input = Array.from({ length: COUNT }, (_, i) => i)
const allSplitIds = Array.from({ length: SPLITS }, (_, i) => `split-${i}`)

function json<T>(): SimpleVersionedSerializer<T> {
  return {
    version: 1,
    serialize: (value) => new TextEncoder().encode(JSON.stringify(value)),
    deserialize: (_version, bytes) => JSON.parse(new TextDecoder().decode(bytes)) as T,
  }
}

const ids = (splits: RangeSplit[]) => splits.map((s) => s.splitId)

class RecordingSource implements Source<number, RangeSplit, RangeSplit[]> {
  readonly boundedness = 'BOUNDED' as const
  /** Enumerator calls: `start`, `addReader 0`, `request 1`, `complete 3`, `close`, ... per attempt. */
  readonly enumeratorLog: string[] = []
  /** Reader calls, `s<subtask> <call>`. */
  readonly readerLog: string[] = []
  readonly restoredEnumeratorStates: RangeSplit[][] = []
  /** The splits the enumerator still had at each checkpoint. */
  readonly enumeratorSnapshots = new Map<number, string[]>()
  /** Per `<subtask>@<checkpointId>`: the splits the reader owned (with positions) and those it had finished. */
  readonly readerSnapshots = new Map<string, { owned: RangeSplit[]; finished: string[] }>()
  /** Splits added to each reader, in order, per reader instance (index = creation order). */
  readonly addedSplits: { subtaskId: number; splits: RangeSplit[][] }[] = []
  /** Called by a reader when it learns a checkpoint completed. */
  onReaderCheckpointComplete: ((checkpointId: number) => void) | undefined

  createEnumerator(context: SplitEnumeratorContext<RangeSplit>): SplitEnumerator<RangeSplit, RangeSplit[]> {
    this.enumeratorLog.push('createEnumerator')
    const splits = allSplitIds.map((splitId, i) => ({ splitId, next: i * SPLIT_SIZE, end: (i + 1) * SPLIT_SIZE }))
    return new RecordingEnumerator(this, context, splits)
  }

  restoreEnumerator(context: SplitEnumeratorContext<RangeSplit>, checkpoint: RangeSplit[]): SplitEnumerator<RangeSplit, RangeSplit[]> {
    this.enumeratorLog.push('restoreEnumerator')
    this.restoredEnumeratorStates.push(checkpoint.map((split) => ({ ...split })))
    return new RecordingEnumerator(this, context, checkpoint)
  }

  createReader(context: SourceReaderContext): SourceReader<number, RangeSplit> {
    return new RecordingReader(this, context)
  }

  splitSerializer(): SimpleVersionedSerializer<RangeSplit> {
    return json<RangeSplit>()
  }

  enumeratorCheckpointSerializer(): SimpleVersionedSerializer<RangeSplit[]> {
    return json<RangeSplit[]>()
  }
}

/** Hands out one split per request; `signalNoMoreSplits` once none is left. */
class RecordingEnumerator implements SplitEnumerator<RangeSplit, RangeSplit[]> {
  constructor(
    private readonly source: RecordingSource,
    private readonly context: SplitEnumeratorContext<RangeSplit>,
    private readonly unassigned: RangeSplit[],
  ) {}

  start(): void {
    this.source.enumeratorLog.push('start')
  }

  addReader(subtaskId: number): void {
    this.source.enumeratorLog.push(`addReader ${subtaskId}`)
  }

  handleSplitRequest(subtaskId: number): void {
    this.source.enumeratorLog.push(`request ${subtaskId}`)
    const split = this.unassigned.shift()
    if (split) this.context.assignSplits(subtaskId, [split])
    else this.context.signalNoMoreSplits(subtaskId)
  }

  addSplitsBack(splits: RangeSplit[]): void {
    this.unassigned.push(...splits)
  }

  snapshotState(checkpointId: number): RangeSplit[] {
    this.source.enumeratorSnapshots.set(checkpointId, ids(this.unassigned))
    return this.unassigned.map((split) => ({ ...split }))
  }

  notifyCheckpointComplete(checkpointId: number): void {
    this.source.enumeratorLog.push(`complete ${checkpointId}`)
  }

  close(): void {
    this.source.enumeratorLog.push('close')
  }
}

/** Emits at most 10 records per millisecond from its first split; asks for a split when it has none. */
class RecordingReader implements SourceReader<number, RangeSplit> {
  private readonly splits: RangeSplit[] = []
  private readonly finished: string[] = []
  private readonly added: RangeSplit[][] = []
  private noMoreSplits = false
  private requested = false
  private throttled = false
  private timer: NodeJS.Timeout | undefined
  private wakeUp: (() => void) | undefined

  constructor(
    private readonly source: RecordingSource,
    private readonly context: SourceReaderContext,
  ) {
    source.readerLog.push(`s${context.subtaskId} create`)
    source.addedSplits.push({ subtaskId: context.subtaskId, splits: this.added })
  }

  private log(call: string): void {
    this.source.readerLog.push(`s${this.context.subtaskId} ${call}`)
  }

  start(): void {
    this.log('start')
    this.requestSplit()
  }

  pollNext(output: ReaderOutput<number>): InputStatus {
    const split = this.splits[0]
    if (!split) return this.noMoreSplits ? 'END_OF_INPUT' : 'NOTHING_AVAILABLE'
    if (this.throttled) return 'NOTHING_AVAILABLE'
    for (let i = 0; i < 10 && split.next < split.end; i++) output.collect(split.next++)
    if (split.next >= split.end) {
      this.splits.shift()
      this.finished.push(split.splitId)
      if (this.splits.length === 0) this.requestSplit()
    }
    this.throttled = true
    this.timer = setTimeout(() => {
      this.throttled = false
      this.wake()
    }, 1)
    return 'NOTHING_AVAILABLE'
  }

  isAvailable(): Promise<void> {
    if (!this.throttled && (this.splits.length > 0 || this.noMoreSplits)) return Promise.resolve()
    return new Promise((resolve) => {
      this.wakeUp = resolve
    })
  }

  addSplits(splits: RangeSplit[]): void {
    this.log(`addSplits ${ids(splits).join(',')}`)
    this.added.push(splits.map((split) => ({ ...split })))
    this.splits.push(...splits)
    this.requested = false
    this.wake()
  }

  notifyNoMoreSplits(): void {
    this.log('noMoreSplits')
    this.noMoreSplits = true
    this.requested = false
    this.wake()
  }

  snapshotState(checkpointId: number): RangeSplit[] {
    const owned = this.splits.map((split) => ({ ...split }))
    this.source.readerSnapshots.set(`${this.context.subtaskId}@${checkpointId}`, { owned, finished: [...this.finished] })
    return owned
  }

  notifyCheckpointComplete(checkpointId: number): void {
    this.log(`complete ${checkpointId}`)
    this.source.onReaderCheckpointComplete?.(checkpointId)
  }

  close(): void {
    this.log('close')
    if (this.timer) clearTimeout(this.timer)
    this.wake()
  }

  private requestSplit(): void {
    if (this.requested || this.noMoreSplits) return
    this.requested = true
    this.context.sendSplitRequest()
  }

  private wake(): void {
    const resolve = this.wakeUp
    this.wakeUp = undefined
    resolve?.()
  }
}

let directory: string
beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'sluice-source-lifecycle-'))
})
afterEach(async () => {
  await rm(directory, { recursive: true, force: true })
})

function runJob(source: RecordingSource, injectFailure: boolean) {
  const sink = new CollectSink<number>()
  let armed = false
  let failuresLeft = injectFailure ? 1 : 0
  source.onReaderCheckpointComplete = (checkpointId) => {
    if (checkpointId >= 2 && failuresLeft > 0) armed = true
  }
  const env = StreamExecutionEnvironment.create({
    parallelism: 2,
    checkpointing: { interval: 20, minPauseBetweenCheckpoints: 50, directory },
    restartStrategy: RestartStrategies.fixedDelay(3, 1),
    onWarning: () => {},
  })
  env
    .fromSource(source, 'ranges')
    .uid('ranges')
    .map((n: number) => {
      if (armed && failuresLeft > 0) {
        armed = false
        failuresLeft--
        throw new Error(`injected failure at ${n}`)
      }
      return n
    })
    .uid('fail-once')
    .sinkTo(sink)
    .uid('collect')
  return { job: env.execute('source-lifecycle'), sink }
}

const sorted = (values: number[]) => [...values].sort((a, b) => a - b)

describe('source lifecycle: SplitEnumerator and SourceReader in a job', () => {
  it('starts the enumerator, registers each reader, tracks every split at each checkpoint and closes everything', async () => {
    const source = new RecordingSource()
    const { job, sink } = runJob(source, false)
    const result = await job.result
    expect(result.state).toBe('FINISHED')
    expect(sorted(sink.results)).toEqual(input)

    const log = source.enumeratorLog
    expect(log.slice(0, 4)).toEqual(['createEnumerator', 'start', 'addReader 0', 'addReader 1'])
    expect(log.at(-1)).toBe('close')
    expect(log.filter((e) => e === 'close')).toHaveLength(1)

    // Every checkpoint: each split is with the enumerator, owned by exactly one reader, or finished.
    const checkpoints = [...source.enumeratorSnapshots.keys()].filter(
      (id) => source.readerSnapshots.has(`0@${id}`) && source.readerSnapshots.has(`1@${id}`),
    )
    expect(checkpoints.length).toBeGreaterThanOrEqual(3)
    let sawSplitsInBothPlaces = false
    for (const checkpointId of checkpoints) {
      const withEnumerator = source.enumeratorSnapshots.get(checkpointId) ?? []
      const readers = [0, 1].map((subtaskId) => source.readerSnapshots.get(`${subtaskId}@${checkpointId}`))
      const owned = readers.flatMap((r) => ids(r?.owned ?? []))
      const finished = readers.flatMap((r) => r?.finished ?? [])
      expect([...withEnumerator, ...owned, ...finished].sort()).toEqual(allSplitIds)
      if (withEnumerator.length > 0 && owned.length > 0) sawSplitsInBothPlaces = true
    }
    expect(sawSplitsInBothPlaces).toBe(true)

    // notifyCheckpointComplete reaches the enumerator and both readers, for the same checkpoints.
    const completed = log.filter((e) => e.startsWith('complete ')).map((e) => Number(e.split(' ')[1]))
    expect(completed.length).toBeGreaterThanOrEqual(3)
    for (const subtaskId of [0, 1]) {
      const readerCompleted = source.readerLog
        .filter((e) => e.startsWith(`s${subtaskId} complete `))
        .map((e) => Number(e.split(' ')[2]))
      expect(readerCompleted).toEqual(completed)
      const calls = source.readerLog.filter((e) => e.startsWith(`s${subtaskId} `))
      expect(calls.slice(0, 2)).toEqual([`s${subtaskId} create`, `s${subtaskId} start`])
      expect(calls.at(-1)).toBe(`s${subtaskId} close`)
      expect(calls).toContain(`s${subtaskId} noMoreSplits`)
    }
  })

  it('after a restart, restores the enumerator with its unassigned splits and gives readers their splits back', async () => {
    const source = new RecordingSource()
    const { job, sink } = runJob(source, true)
    const result = await job.result
    expect(result.metrics.restarts).toBe(1)
    const restoredId = result.metrics.restoredCheckpointId as number
    expect(restoredId).toBeGreaterThanOrEqual(2)

    // The enumerator of the second attempt starts from the splits it had not assigned at that checkpoint.
    const log = source.enumeratorLog
    expect(log.filter((e) => e === 'createEnumerator')).toHaveLength(1)
    expect(log.filter((e) => e === 'restoreEnumerator')).toHaveLength(1)
    expect(source.restoredEnumeratorStates).toHaveLength(1)
    expect(ids(source.restoredEnumeratorStates[0] ?? [])).toEqual(source.enumeratorSnapshots.get(restoredId))
    const secondAttempt = log.slice(log.indexOf('restoreEnumerator'))
    expect(secondAttempt.slice(0, 4)).toEqual(['restoreEnumerator', 'start', 'addReader 0', 'addReader 1'])
    // Each attempt's enumerator is closed once.
    expect(log.filter((e) => e === 'close')).toHaveLength(2)

    // Readers of the second attempt first get back, through addSplits, what they owned at that checkpoint.
    const secondReaders = source.addedSplits.slice(2)
    expect(secondReaders.map((r) => r.subtaskId).sort()).toEqual([0, 1])
    for (const reader of secondReaders) {
      const owned = source.readerSnapshots.get(`${reader.subtaskId}@${restoredId}`)?.owned ?? []
      if (owned.length > 0) expect(reader.splits[0]).toEqual(owned)
    }
    for (const subtaskId of [0, 1]) {
      const calls = source.readerLog.filter((e) => e.startsWith(`s${subtaskId} `))
      expect(calls.filter((e) => e.endsWith(' create'))).toHaveLength(2)
      expect(calls.filter((e) => e.endsWith(' close'))).toHaveLength(2)
    }

    // notifyCheckpointComplete of the second attempt reaches the enumerator and both readers.
    const completedAfter = secondAttempt.filter((e) => e.startsWith('complete ')).map((e) => e.split(' ')[1])
    expect(completedAfter.length).toBeGreaterThanOrEqual(1)
    for (const subtaskId of [0, 1]) {
      const calls = source.readerLog.filter((e) => e.startsWith(`s${subtaskId} `))
      const afterRestart = calls.slice(calls.lastIndexOf(`s${subtaskId} create`))
      expect(afterRestart.filter((e) => e.includes(' complete ')).map((e) => e.split(' ')[2])).toEqual(completedAfter)
    }
    // Nothing lost, nothing twice.
    expect(sorted(sink.results)).toEqual(input)
  })
})
