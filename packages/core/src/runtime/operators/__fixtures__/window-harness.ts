import type { Key } from '../../../api/state.js'
import type { OperatorSubtaskState } from '../../stream-operator.js'
import { OutputBuffer } from '../../output-buffer.js'
import { MIN_WATERMARK } from '../../stream-element.js'
import { WindowOperator, type WindowOperatorSpec } from '../window-operator.js'

/** One emitted record: `value@timestamp`, the way the expectations in the tests are written. */
export type Emitted = string

function show(value: unknown, timestamp: number | undefined): Emitted {
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return timestamp === undefined ? text : `${text}@${timestamp}`
}

/**
 * Drives one WindowOperator the way its task does (Flink's `KeyedOneInputStreamOperatorTestHarness`):
 * elements with timestamps, watermarks (the operator's current watermark is set before its timers fire),
 * a manual processing-time clock, snapshots and restores. Emitted records are collected as `value@ts`.
 */
export class WindowHarness {
  readonly output: Emitted[] = []
  readonly side = new Map<string, Emitted[]>()
  readonly operator: WindowOperator
  private readonly buffer = new OutputBuffer()
  private watermark = MIN_WATERMARK
  private now = 0
  /** Processing-time wake-ups the operator asked for. */
  readonly wakeups: number[] = []

  private constructor(keySelector: (value: unknown) => Key, spec: WindowOperatorSpec) {
    this.operator = new WindowOperator('window', 'Window', keySelector, spec)
  }

  static async open(
    keySelector: (value: unknown) => Key,
    spec: WindowOperatorSpec,
    options: { restoredState?: OperatorSubtaskState; subtaskId?: number; parallelism?: number; now?: number; watermark?: number } = {},
  ): Promise<WindowHarness> {
    const harness = new WindowHarness(keySelector, spec)
    harness.now = options.now ?? 0
    harness.watermark = options.watermark ?? MIN_WATERMARK
    await harness.operator.open({
      jobName: 'test',
      taskName: 'Window (1/1)',
      subtaskId: options.subtaskId ?? 0,
      parallelism: options.parallelism ?? 1,
      maxParallelism: 128,
      attemptNumber: 0,
      runtimeMode: 'STREAMING',
      checkpointing: { interval: 1000, mode: 'EXACTLY_ONCE' },
      restoredCheckpointId: options.restoredState ? 1 : undefined,
      restoredState: options.restoredState,
      output: harness.buffer,
      processingTime: { now: () => harness.now, requestWakeup: (timestamp) => void harness.wakeups.push(timestamp) },
      currentWatermark: () => harness.watermark,
      warn: () => {},
    })
    return harness
  }

  element(value: unknown, timestamp?: number): this {
    this.operator.processBatch([value], timestamp === undefined ? null : [timestamp])
    this.drain()
    return this
  }

  /** Several elements in one batch, as the task hands them over. */
  batch(elements: [unknown, number][]): this {
    this.operator.processBatch(
      elements.map(([value]) => value),
      elements.map(([, timestamp]) => timestamp),
    )
    this.drain()
    return this
  }

  processWatermark(watermark: number): this {
    if (watermark <= this.watermark) return this
    this.watermark = watermark
    this.operator.processWatermark(watermark)
    this.drain()
    return this
  }

  setProcessingTime(now: number): this {
    this.now = now
    this.operator.onProcessingTime(now)
    this.drain()
    return this
  }

  snapshot(): OperatorSubtaskState {
    return this.operator.snapshotState(1) as OperatorSubtaskState
  }

  sideOutput(tag: string): Emitted[] {
    return this.side.get(tag) ?? []
  }

  /** Emitted main-output records so far; clears them. */
  take(): Emitted[] {
    return this.output.splice(0, this.output.length)
  }

  private drain(): void {
    const { values, timestamps } = this.buffer.take()
    for (let index = 0; index < values.length; index++) this.output.push(show(values[index], timestamps === null ? undefined : timestamps[index]))
    if (this.buffer.side) {
      for (const [tag, side] of this.buffer.side) {
        const list = this.side.get(tag) ?? []
        for (let index = 0; index < side.values.length; index++) {
          list.push(show(side.values[index], side.timestamps === null ? undefined : side.timestamps[index]))
        }
        this.side.set(tag, list)
      }
      this.buffer.side.clear()
    }
  }
}
