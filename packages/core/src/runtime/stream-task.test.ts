import { afterEach, describe, expect, it } from 'vitest'
import type { CheckpointingMode } from '../api/config.js'
import { Channel } from './channel.js'
import { Notifier } from './notifier.js'
import { RecordWriter } from './record-writer.js'
import { END_OF_DATA, END_OF_PARTITION, MAX_WATERMARK, type StreamElement } from './stream-element.js'
import type { OperatorContext, OperatorSubtaskState, StreamOperator } from './stream-operator.js'
import { StreamTask } from './stream-task.js'
import type { TaskCheckpointState, TaskEvents } from './task-messages.js'

/** Logs every call the task makes, and passes records through to its output. */
class RecordingOperator implements StreamOperator {
  readonly uid = 'recorder'
  readonly name = 'Recorder'
  readonly log: string[] = []
  private context!: OperatorContext

  open(context: OperatorContext): void {
    this.context = context
    this.log.push('open')
  }

  processBatch(values: unknown[], _timestamps: unknown, inputIndex: 1 | 2): void {
    for (const value of values) {
      this.log.push(`record:${String(value)}`)
      this.context.output.collect(value, undefined)
    }
    if (inputIndex !== 1) this.log.push(`input:${inputIndex}`)
  }

  processWatermark(watermark: number): void {
    this.log.push(`watermark:${watermark}`)
  }

  onProcessingTime(): void {}

  endInput(): void {
    this.log.push('endInput')
  }

  prepareSnapshotPreBarrier(checkpointId: number): void {
    this.log.push(`prepareSnapshot:${checkpointId}`)
  }

  snapshotState(checkpointId: number): OperatorSubtaskState {
    this.log.push(`snapshot:${checkpointId}`)
    // What the state would hold: the records seen so far.
    const seen = this.log.filter((entry) => entry.startsWith('record:')).map((entry) => entry.slice('record:'.length))
    return { lists: { seen: seen.map((value) => ({ version: 1, bytes: new TextEncoder().encode(value) })) } }
  }

  notifyCheckpointComplete(checkpointId: number): void {
    this.log.push(`complete:${checkpointId}`)
  }

  notifyCheckpointAborted(checkpointId: number): void {
    this.log.push(`aborted:${checkpointId}`)
  }

  close(): void {
    this.log.push('close')
  }

  /** Record values seen before the snapshot of `checkpointId`, and after it. */
  recordsAround(checkpointId: number): { before: string[]; after: string[] } {
    const index = this.log.indexOf(`snapshot:${checkpointId}`)
    if (index === -1) throw new Error(`no snapshot of checkpoint ${checkpointId} in ${JSON.stringify(this.log)}`)
    const records = (entries: string[]) => entries.filter((e) => e.startsWith('record:')).map((e) => e.slice('record:'.length))
    return { before: records(this.log.slice(0, index)), after: records(this.log.slice(index + 1)) }
  }
}

class RecordingEvents implements TaskEvents {
  readonly acknowledged: { taskIndex: number; checkpointId: number; state: TaskCheckpointState }[] = []
  readonly declined: { checkpointId: number; error: unknown }[] = []
  readonly endOfDataCalls: number[] = []

  acknowledgeCheckpoint(taskIndex: number, checkpointId: number, state: TaskCheckpointState): void {
    this.acknowledged.push({ taskIndex, checkpointId, state })
  }

  declineCheckpoint(_taskIndex: number, checkpointId: number, error: unknown): void {
    this.declined.push({ checkpointId, error })
  }

  endOfData(taskIndex: number): void {
    this.endOfDataCalls.push(taskIndex)
  }

  sendSplitRequest(): void {}
}

interface Harness {
  task: StreamTask
  operator: RecordingOperator
  events: RecordingEvents
  a: Channel
  b: Channel
  run: Promise<void>
  /** Everything the task wrote downstream so far (drained from its output channel). */
  output(): StreamElement[]
}

const running: Harness[] = []

function startTask(checkpointingMode: CheckpointingMode, inputIndexes: [1 | 2, 1 | 2] = [1, 1]): Harness {
  const notifier = new Notifier()
  const a = new Channel('A', 1000, notifier)
  const b = new Channel('B', 1000, notifier)
  const downstream = new Channel('out', 100_000, new Notifier())
  const operator = new RecordingOperator()
  const events = new RecordingEvents()
  const task = new StreamTask({
    taskIndex: 3,
    taskName: 'Recorder (1/1)',
    jobName: 'stream-task-test',
    subtaskId: 0,
    parallelism: 1,
    maxParallelism: 128,
    attemptNumber: 0,
    restoredCheckpointId: undefined,
    operators: [operator],
    restoredStates: [undefined],
    inputs: [
      { channel: a, inputIndex: inputIndexes[0] },
      { channel: b, inputIndex: inputIndexes[1] },
    ],
    mainWriters: [new RecordWriter([downstream], { type: 'forward' }, 0, 128, 1024)],
    sideWriters: new Map(),
    checkpointingMode,
    runtimeMode: 'STREAMING',
    checkpointing: { interval: 1000, mode: checkpointingMode },
    notifier,
    events,
    metrics: { recordsFromSources: 0, firstRecordAt: undefined },
    warn: () => {},
  })
  const collected: StreamElement[] = []
  const harness: Harness = {
    task,
    operator,
    events,
    a,
    b,
    run: task.run(),
    output: () => {
      for (let element = downstream.poll(); element !== undefined; element = downstream.poll()) collected.push(element)
      return collected
    },
  }
  harness.run.catch(() => {})
  running.push(harness)
  return harness
}

const records = (...values: string[]): StreamElement => ({ kind: 'records', values, timestamps: null })
const barrier = (checkpointId: number): StreamElement => ({ kind: 'barrier', checkpointId })
const watermark = (timestamp: number): StreamElement => ({ kind: 'watermark', timestamp })

/** Lets the task loop run until it has nothing left to do. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 15))

function push(channel: Channel, ...elements: StreamElement[]): void {
  for (const element of elements) channel.push(element)
}

/** Ends both inputs and waits for the task to finish. */
async function finish(harness: Harness): Promise<void> {
  push(harness.a, END_OF_DATA, END_OF_PARTITION)
  push(harness.b, END_OF_DATA, END_OF_PARTITION)
  await harness.run
}

/** Values of the record batches before the first barrier of `checkpointId` in the output, and the count of those barriers. */
function outputAroundBarrier(output: StreamElement[], checkpointId: number): { before: unknown[]; barriers: number } {
  const index = output.findIndex((e) => e.kind === 'barrier' && e.checkpointId === checkpointId)
  const before = output.slice(0, index === -1 ? output.length : index).flatMap((e) => (e.kind === 'records' ? e.values : []))
  const barriers = output.filter((e) => e.kind === 'barrier' && e.checkpointId === checkpointId).length
  return { before, barriers }
}

afterEach(async () => {
  for (const harness of running.splice(0)) {
    harness.task.cancel()
    await harness.run.catch(() => {})
  }
})

describe('StreamTask: EXACTLY_ONCE barrier alignment', () => {
  it('blocks a channel after its barrier until every channel delivered it, then snapshots once', async () => {
    const harness = startTask('EXACTLY_ONCE')
    push(harness.a, records('a1'), barrier(1), records('a2', 'a3'))
    push(harness.b, records('b1'))
    await settle()
    // Channel A is blocked behind barrier 1; B's record before its barrier is processed.
    expect(harness.operator.log.filter((e) => e.startsWith('record:')).sort()).toEqual(['record:a1', 'record:b1'])
    expect(harness.operator.log).not.toContain('snapshot:1')
    expect(harness.events.acknowledged).toEqual([])

    push(harness.b, records('b2'), barrier(1), records('b3'))
    await settle()
    const { before, after } = harness.operator.recordsAround(1)
    expect(before.sort()).toEqual(['a1', 'b1', 'b2'])
    expect(after.sort()).toEqual(['a2', 'a3', 'b3'])
    expect(harness.operator.log.filter((e) => e.startsWith('snapshot:'))).toEqual(['snapshot:1'])
    // prepareSnapshotPreBarrier runs right before the snapshot, after the last pre-barrier record.
    const log = harness.operator.log
    expect(log.indexOf('prepareSnapshot:1')).toBe(log.indexOf('snapshot:1') - 1)

    // The snapshot is acknowledged with the operator's state, under its uid.
    expect(harness.events.acknowledged).toHaveLength(1)
    const [ack] = harness.events.acknowledged
    expect(ack?.taskIndex).toBe(3)
    expect(ack?.checkpointId).toBe(1)
    const seen = ack?.state.recorder?.lists?.seen?.map((item) => new TextDecoder().decode(item.bytes))
    expect(seen?.sort()).toEqual(['a1', 'b1', 'b2'])

    // Downstream: the barrier is forwarded exactly once, after exactly the pre-barrier records.
    const output = outputAroundBarrier(harness.output(), 1)
    expect(output.barriers).toBe(1)
    expect(output.before.sort()).toEqual(['a1', 'b1', 'b2'])
    await finish(harness)
    expect(outputAroundBarrier(harness.output(), 1).barriers).toBe(1)
  })

  it('aligns consecutive checkpoints independently', async () => {
    const harness = startTask('EXACTLY_ONCE')
    push(harness.a, records('a1'), barrier(1), records('a2'), barrier(2), records('a3'))
    push(harness.b, records('b1'), barrier(1), records('b2'))
    await settle()
    expect(harness.operator.recordsAround(1).before.sort()).toEqual(['a1', 'b1'])
    expect(harness.operator.log).not.toContain('snapshot:2')
    expect(harness.operator.log).not.toContain('record:a3')
    push(harness.b, barrier(2), records('b3'))
    await settle()
    const second = harness.operator.recordsAround(2)
    expect(second.before.sort()).toEqual(['a1', 'a2', 'b1', 'b2'])
    expect(second.after.sort()).toEqual(['a3', 'b3'])
    expect(harness.events.acknowledged.map((a) => a.checkpointId)).toEqual([1, 2])
    const output = harness.output()
    expect(output.filter((e) => e.kind === 'barrier')).toEqual([barrier(1), barrier(2)])
  })

  it('counts a channel that ended (end-of-partition) as aligned', async () => {
    const harness = startTask('EXACTLY_ONCE')
    push(harness.a, records('a1'), barrier(1), records('a2'))
    push(harness.b, records('b1'))
    await settle()
    expect(harness.operator.log).not.toContain('snapshot:1')
    // B finishes without ever sending barrier 1.
    push(harness.b, END_OF_DATA, END_OF_PARTITION)
    await settle()
    const { before, after } = harness.operator.recordsAround(1)
    expect(before.sort()).toEqual(['a1', 'b1'])
    expect(after).toEqual(['a2'])
    expect(harness.events.acknowledged.map((a) => a.checkpointId)).toEqual([1])
  })

  it('snapshots at once when the only other channel had already ended', async () => {
    const harness = startTask('EXACTLY_ONCE')
    push(harness.b, records('b1'), END_OF_DATA, END_OF_PARTITION)
    await settle()
    push(harness.a, records('a1'), barrier(1), records('a2'))
    await settle()
    expect(harness.operator.recordsAround(1)).toEqual({ before: ['b1', 'a1'], after: ['a2'] })
    expect(outputAroundBarrier(harness.output(), 1).barriers).toBe(1)
  })

  it('an aborted checkpoint unblocks the channel; its late barrier is ignored', async () => {
    const harness = startTask('EXACTLY_ONCE')
    push(harness.a, records('a1'), barrier(1), records('a2'))
    push(harness.b, records('b1'))
    await settle()
    expect(harness.operator.log).not.toContain('record:a2')
    harness.task.post({ type: 'checkpoint-aborted', checkpointId: 1 })
    await settle()
    expect(harness.operator.log).toContain('record:a2')
    expect(harness.operator.log).toContain('aborted:1')
    push(harness.b, barrier(1), records('b2'))
    await settle()
    expect(harness.operator.log).not.toContain('snapshot:1')
    expect(harness.events.acknowledged).toEqual([])
    expect(harness.output().filter((e) => e.kind === 'barrier')).toEqual([])
  })

  it('a newer barrier while aligning an older checkpoint gives the older one up', async () => {
    const harness = startTask('EXACTLY_ONCE')
    push(harness.a, records('a1'), barrier(1), records('a2'))
    // B never sends barrier 1 (say it was lost with an aborted checkpoint) but sends barrier 2.
    push(harness.b, records('b1'), barrier(2), records('b2'))
    await settle()
    push(harness.a, barrier(2), records('a3'))
    await settle()
    expect(harness.operator.log.filter((e) => e.startsWith('snapshot:'))).toEqual(['snapshot:2'])
    expect(harness.operator.recordsAround(2).before.sort()).toEqual(['a1', 'a2', 'b1'])
    expect(harness.operator.recordsAround(2).after.sort()).toEqual(['a3', 'b2'])
  })
})

describe('StreamTask: AT_LEAST_ONCE', () => {
  it('keeps reading a channel after its barrier and snapshots when the last barrier arrives', async () => {
    const harness = startTask('AT_LEAST_ONCE')
    push(harness.a, records('a1'), barrier(1), records('a2', 'a3'))
    push(harness.b, records('b1'))
    await settle()
    // Not blocked: A's records after its barrier are processed before any snapshot.
    expect(harness.operator.log.filter((e) => e.startsWith('record:')).sort()).toEqual(['record:a1', 'record:a2', 'record:a3', 'record:b1'])
    expect(harness.operator.log).not.toContain('snapshot:1')
    push(harness.b, barrier(1), records('b2'))
    await settle()
    const { before, after } = harness.operator.recordsAround(1)
    expect(before.sort()).toEqual(['a1', 'a2', 'a3', 'b1'])
    expect(after).toEqual(['b2'])
    expect(harness.events.acknowledged.map((a) => a.checkpointId)).toEqual([1])
    expect(outputAroundBarrier(harness.output(), 1).barriers).toBe(1)
  })
})

describe('StreamTask: watermarks and end of input', () => {
  it('forwards the minimum watermark over its inputs', async () => {
    const harness = startTask('EXACTLY_ONCE')
    push(harness.a, watermark(10))
    await settle()
    expect(harness.operator.log.filter((e) => e.startsWith('watermark:'))).toEqual([])
    push(harness.b, watermark(5))
    await settle()
    push(harness.b, watermark(20))
    await settle()
    push(harness.a, watermark(30))
    await settle()
    push(harness.a, watermark(25)) // A goes back: the minimum stays 20, watermarks never go back
    await settle()
    expect(harness.operator.log.filter((e) => e.startsWith('watermark:'))).toEqual(['watermark:5', 'watermark:10', 'watermark:20'])
    const forwarded = harness.output().filter((e) => e.kind === 'watermark')
    expect(forwarded).toEqual([watermark(5), watermark(10), watermark(20)])
  })

  it('an input that ended holds no watermark back', async () => {
    const harness = startTask('EXACTLY_ONCE')
    push(harness.a, watermark(10))
    push(harness.b, watermark(3))
    await settle()
    push(harness.b, END_OF_DATA)
    await settle()
    expect(harness.operator.log.filter((e) => e.startsWith('watermark:'))).toEqual(['watermark:3', 'watermark:10'])
  })

  it('calls endInput and reports endOfData once, after end-of-data on every input', async () => {
    const harness = startTask('EXACTLY_ONCE')
    push(harness.a, records('a1'), END_OF_DATA)
    await settle()
    expect(harness.operator.log).not.toContain('endInput')
    expect(harness.events.endOfDataCalls).toEqual([])
    // Checkpoints still pass after end of data (the final checkpoint needs them).
    push(harness.b, records('b1'), END_OF_DATA)
    await settle()
    expect(harness.operator.log.filter((e) => e === 'endInput')).toHaveLength(1)
    expect(harness.events.endOfDataCalls).toEqual([3])
    push(harness.a, barrier(1))
    push(harness.b, barrier(1))
    await settle()
    expect(harness.events.acknowledged.map((a) => a.checkpointId)).toEqual([1])
    push(harness.a, END_OF_PARTITION)
    push(harness.b, END_OF_PARTITION)
    await harness.run
    const log = harness.operator.log
    expect(log.filter((e) => e === 'endInput')).toHaveLength(1)
    expect(harness.events.endOfDataCalls).toEqual([3])
    expect(log.indexOf('watermark:Infinity')).toBeLessThan(log.indexOf('endInput'))
    expect(log.at(-1)).toBe('close')
    const output = harness.output()
    expect(output.filter((e) => e.kind === 'end-of-data')).toHaveLength(1)
    expect(output.at(-1)).toEqual(END_OF_PARTITION)
    expect(output.filter((e) => e.kind === 'watermark').at(-1)).toEqual(watermark(MAX_WATERMARK))
  })

  it('feeds each channel to the input of the operator it is wired to', async () => {
    const harness = startTask('EXACTLY_ONCE', [1, 2])
    push(harness.a, records('a1'))
    await settle()
    push(harness.b, records('b1'))
    await settle()
    await finish(harness)
    const log = harness.operator.log
    expect(log.slice(log.indexOf('record:a1'), log.indexOf('record:b1') + 2)).toEqual(['record:a1', 'record:b1', 'input:2'])
  })
})
