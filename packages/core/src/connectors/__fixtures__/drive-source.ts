import type { VersionedBytes } from '../../api/serializer.js'
import type { AnySource } from '../../api/source.js'
import type { InputStatus, ReaderOutput, SourceReader } from '../../api/source-reader.js'
import type { SourceSplit } from '../../api/source-split.js'
import type { SplitEnumerator, SplitEnumeratorContext } from '../../api/split-enumerator.js'

/**
 * A stand-in for the runtime, for testing sources before the real one exists: it drives one
 * enumerator and `parallelism` readers the way the contracts in `api/` say the runtime does.
 *
 * Start: `restoreEnumerator` or `createEnumerator`, `enumerator.start()`, one reader per subtask
 * (`createReader`, `start`, the restored splits through `addSplits`), then `addReader` per subtask.
 * Assignments and `signalNoMoreSplits` are delivered to the reader at once (before any later
 * checkpoint). Polling: each reader is polled in its own loop; on `NOTHING_AVAILABLE` the loop awaits
 * `isAvailable()` (failing after `availabilityTimeoutMs` instead of hanging the test).
 * Checkpoints: {@link SourceDriver.snapshot} takes the enumerator's and every reader's state and
 * round-trips it through the source's serializers, as a real checkpoint would.
 */

/** One record as the runtime received it. */
export interface EmittedRecord<T> {
  readonly subtaskId: number
  readonly value: T
  readonly timestamp: number | undefined
}

/** What {@link SourceDriver.snapshot} captured: serialized like a checkpoint on disk. */
export interface SourceCheckpoint {
  readonly checkpointId: number
  readonly enumerator: VersionedBytes
  /** Per subtask, the serialized splits its reader owned. */
  readonly readers: VersionedBytes[][]
}

export interface SourceDriverOptions {
  parallelism: number
  /** Restore the enumerator and the readers' splits from this checkpoint. */
  restoreFrom?: SourceCheckpoint
  /** A reader whose `isAvailable()` has not resolved after this long fails the test. Default 5000. */
  availabilityTimeoutMs?: number
}

/** Per subtask, how the reader was driven: useful to check it does not busy-loop. */
export interface ReaderStatistics {
  polls: number
  waits: number
  ended: boolean
}

type Split = SourceSplit

export class SourceDriver<T> {
  readonly records: EmittedRecord<T>[] = []
  readonly watermarks: Array<{ subtaskId: number; timestamp: number }> = []
  readonly statistics: ReaderStatistics[]
  /** Every call the enumerator made on its context, in order, for assertions on assignment. */
  readonly enumeratorCalls: Array<
    { kind: 'assignSplits'; subtaskId: number; splits: Split[] } | { kind: 'signalNoMoreSplits'; subtaskId: number }
  > = []
  readonly enumerator: SplitEnumerator<Split, unknown>
  readonly readers: SourceReader<T, Split>[]
  private readonly source: AnySource<T>
  private readonly outputs: ReaderOutput<T>[]
  private readonly availabilityTimeoutMs: number
  private readonly timers = new Set<ReturnType<typeof setTimeout>>()
  /** Per subtask, the splits its reader gets back from the restored checkpoint. */
  private readonly restoredSplits: Split[][]

  private constructor(source: AnySource<T>, options: SourceDriverOptions) {
    const { parallelism } = options
    this.source = source
    this.availabilityTimeoutMs = options.availabilityTimeoutMs ?? 5000
    const registered = new Set<number>()
    const context: SplitEnumeratorContext<Split> = {
      parallelism,
      registeredReaders: () => [...registered].sort((a, b) => a - b),
      assignSplits: (subtaskId, splits) => {
        if (!registered.has(subtaskId)) throw new Error(`assignSplits to subtask ${subtaskId}, which is not registered`)
        this.enumeratorCalls.push({ kind: 'assignSplits', subtaskId, splits: [...splits] })
        this.readerOf(subtaskId).addSplits(splits)
      },
      signalNoMoreSplits: (subtaskId) => {
        if (!registered.has(subtaskId)) throw new Error(`signalNoMoreSplits to subtask ${subtaskId}, which is not registered`)
        this.enumeratorCalls.push({ kind: 'signalNoMoreSplits', subtaskId })
        this.readerOf(subtaskId).notifyNoMoreSplits()
      },
      callAsync: (work, handler, periodMs) => {
        const run = (): void => {
          void work().then(handler)
          if (periodMs !== undefined) this.schedule(run, periodMs)
        }
        this.schedule(run, 0)
      },
    }

    const restored = options.restoreFrom
    this.enumerator =
      restored === undefined
        ? source.createEnumerator(context)
        : source.restoreEnumerator(
            context,
            source.enumeratorCheckpointSerializer().deserialize(restored.enumerator.version, restored.enumerator.bytes),
          )
    this.enumerator.start()

    this.statistics = []
    this.outputs = []
    this.readers = []
    for (let subtaskId = 0; subtaskId < parallelism; subtaskId++) {
      this.statistics.push({ polls: 0, waits: 0, ended: false })
      this.outputs.push({
        collect: (value, timestamp) => {
          this.records.push({ subtaskId, value, timestamp })
        },
        emitWatermark: (timestamp) => {
          this.watermarks.push({ subtaskId, timestamp })
        },
      })
      this.readers.push(source.createReader({ subtaskId, parallelism, sendSplitRequest: () => this.enumerator.handleSplitRequest(subtaskId) }))
    }
    this.restoredSplits = restored === undefined ? [] : this.redistribute(restored, parallelism)
    for (let subtaskId = 0; subtaskId < parallelism; subtaskId++) registered.add(subtaskId)
  }

  /** Creates and starts the enumerator and the readers, and registers every reader. */
  static async start<T>(source: AnySource<T>, options: SourceDriverOptions): Promise<SourceDriver<T>> {
    const driver = new SourceDriver<T>(source, options)
    for (const [subtaskId, reader] of driver.readers.entries()) {
      await reader.start()
      const splits = driver.restoredSplits[subtaskId] ?? []
      if (splits.length > 0) reader.addSplits(splits)
    }
    for (let subtaskId = 0; subtaskId < driver.readers.length; subtaskId++) driver.enumerator.addReader(subtaskId)
    return driver
  }

  /** The values emitted so far, by subtask, in emission order. */
  valuesBySubtask(): T[][] {
    const values: T[][] = this.readers.map(() => [])
    for (const record of this.records) values[record.subtaskId]?.push(record.value)
    return values
  }

  /** Polls one reader once. */
  pollOnce(subtaskId: number): InputStatus {
    const statistics = this.statistics[subtaskId]
    if (statistics === undefined) throw new Error(`no subtask ${subtaskId}`)
    statistics.polls++
    const status = this.readerOf(subtaskId).pollNext(this.outputs[subtaskId] as ReaderOutput<T>)
    if (status === 'END_OF_INPUT') statistics.ended = true
    return status
  }

  /**
   * Polls every reader in its own loop until all have ended, or until `stop()` holds (checked after
   * each poll; readers waiting for data are released too). Readers that ended are not polled again.
   */
  async run(stop: () => boolean = () => false): Promise<void> {
    let release!: () => void
    const stopped = new Promise<void>((resolve) => {
      release = resolve
    })
    let halted = false
    const halt = (): boolean => {
      if (!halted && stop()) {
        halted = true
        release()
      }
      return halted
    }
    const loop = async (subtaskId: number): Promise<void> => {
      const statistics = this.statistics[subtaskId] as ReaderStatistics
      while (!statistics.ended && !halt()) {
        const status = this.pollOnce(subtaskId)
        if (status === 'NOTHING_AVAILABLE' && !halt()) {
          statistics.waits++
          await Promise.race([this.withTimeout(this.readerOf(subtaskId).isAvailable(), subtaskId), stopped])
        } else if (status === 'MORE_AVAILABLE') {
          // Yield like a real task loop between batches, so timers and sockets get their turn.
          await new Promise<void>((resolve) => setImmediate(resolve))
        }
      }
    }
    await Promise.all(this.readers.map((_, subtaskId) => loop(subtaskId)))
  }

  /** Whether every reader returned END_OF_INPUT. */
  get ended(): boolean {
    return this.statistics.every((statistics) => statistics.ended)
  }

  /** Takes a checkpoint: the enumerator first (as the coordinator does), then every reader, serialized. */
  snapshot(checkpointId: number): SourceCheckpoint {
    const splitSerializer = this.source.splitSerializer()
    const enumeratorSerializer = this.source.enumeratorCheckpointSerializer()
    return {
      checkpointId,
      enumerator: {
        version: enumeratorSerializer.version,
        bytes: enumeratorSerializer.serialize(this.enumerator.snapshotState(checkpointId)),
      },
      readers: this.readers.map((reader) =>
        reader.snapshotState(checkpointId).map((split) => ({ version: splitSerializer.version, bytes: splitSerializer.serialize(split) })),
      ),
    }
  }

  /** Closes the readers and the enumerator, as after a failure or at the end of the job. */
  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    for (const reader of this.readers) await reader.close()
    await this.enumerator.close()
  }

  private readerOf(subtaskId: number): SourceReader<T, Split> {
    const reader = this.readers[subtaskId]
    if (reader === undefined) throw new Error(`no reader for subtask ${subtaskId}`)
    return reader
  }

  /** With the same parallelism each subtask gets its own splits back; otherwise they are dealt round-robin. */
  private redistribute(checkpoint: SourceCheckpoint, parallelism: number): Split[][] {
    const serializer = this.source.splitSerializer()
    const bySubtask = checkpoint.readers.map((splits) => splits.map(({ version, bytes }) => serializer.deserialize(version, bytes) as Split))
    if (bySubtask.length === parallelism) return bySubtask
    const dealt: Split[][] = Array.from({ length: parallelism }, () => [])
    for (const [position, split] of bySubtask.flat().entries()) dealt[position % parallelism]?.push(split)
    return dealt
  }

  private schedule(run: () => void, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      run()
    }, delayMs)
    this.timers.add(timer)
  }

  private async withTimeout(promise: Promise<void>, subtaskId: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`reader ${subtaskId}: isAvailable() did not resolve within ${this.availabilityTimeoutMs} ms`)),
        this.availabilityTimeoutMs,
      )
    })
    try {
      await Promise.race([promise, timeout])
    } finally {
      clearTimeout(timer)
    }
  }
}

/** Runs a bounded source to its end with a fresh start and returns what it emitted. */
export async function driveToEnd<T>(source: AnySource<T>, parallelism: number): Promise<SourceDriver<T>> {
  const driver = await SourceDriver.start(source, { parallelism })
  await driver.run()
  await driver.close()
  return driver
}
