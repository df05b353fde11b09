import { OutputBuffer } from '../output-buffer.js'
import { MIN_WATERMARK } from '../stream-element.js'
import type { OperatorContext, OperatorSubtaskState, StreamOperator } from '../stream-operator.js'

export interface HarnessOptions {
  subtaskId?: number
  parallelism?: number
  maxParallelism?: number
  restoredState?: OperatorSubtaskState
}

/** One emitted record: value and timestamp, main or side output. */
export interface HarnessRecord {
  readonly value: unknown
  readonly timestamp: number | undefined
}

/**
 * Drives one operator the way its task does (Flink's `KeyedTwoInputStreamOperatorTestHarness`):
 * elements with timestamps into input 1 or 2, watermarks (the task's current watermark is set before the
 * operator sees it), snapshots. Everything the operator emits is collected in order.
 */
export class OperatorHarness<Op extends StreamOperator> {
  readonly output: HarnessRecord[] = []
  readonly sideOutputs = new Map<string, HarnessRecord[]>()
  private readonly buffer = new OutputBuffer()
  private watermark = MIN_WATERMARK
  private processingTime = 0

  private constructor(readonly operator: Op) {}

  static async open<Op extends StreamOperator>(operator: Op, options: HarnessOptions = {}): Promise<OperatorHarness<Op>> {
    const harness = new OperatorHarness(operator)
    const context: OperatorContext = {
      jobName: 'test',
      taskName: `${operator.name} (${(options.subtaskId ?? 0) + 1}/${options.parallelism ?? 1})`,
      subtaskId: options.subtaskId ?? 0,
      parallelism: options.parallelism ?? 1,
      maxParallelism: options.maxParallelism ?? 128,
      attemptNumber: 0,
      restoredCheckpointId: options.restoredState ? 1 : undefined,
      restoredState: options.restoredState,
      output: harness.buffer,
      processingTime: { now: () => harness.processingTime, requestWakeup: () => {} },
      currentWatermark: () => harness.watermark,
      runtimeMode: 'STREAMING',
      checkpointing: { interval: 1000, mode: 'EXACTLY_ONCE' },
      warn: () => {},
    }
    await operator.open(context)
    return harness
  }

  /** Processes one element (or a batch, when `values` has several) on an input. */
  async process(inputIndex: 1 | 2, values: unknown[], timestamps: (number | undefined)[] | null): Promise<void> {
    await this.operator.processBatch(values, timestamps, inputIndex)
    this.drain()
  }

  element(inputIndex: 1 | 2, value: unknown, timestamp?: number): Promise<void> {
    return this.process(inputIndex, [value], timestamp === undefined ? null : [timestamp])
  }

  watermarkTo(watermark: number): void {
    if (watermark <= this.watermark) return
    this.watermark = watermark
    this.operator.processWatermark(watermark)
    this.drain()
  }

  advanceProcessingTime(now: number): void {
    this.processingTime = now
    this.operator.onProcessingTime(now)
    this.drain()
  }

  get currentWatermark(): number {
    return this.watermark
  }

  async snapshot(checkpointId = 1): Promise<OperatorSubtaskState> {
    return await this.operator.snapshotState(checkpointId)
  }

  async close(): Promise<void> {
    await this.operator.close()
  }

  /** Emitted main-output values, in order; clears them. */
  takeValues(): unknown[] {
    const values = this.output.map((r) => r.value)
    this.output.length = 0
    return values
  }

  private drain(): void {
    const { values, timestamps } = this.buffer.take()
    for (let i = 0; i < values.length; i++) this.output.push({ value: values[i], timestamp: timestamps === null ? undefined : timestamps[i] })
    if (this.buffer.side) {
      for (const [tag, side] of this.buffer.side) {
        const list = this.sideOutputs.get(tag) ?? []
        for (let i = 0; i < side.values.length; i++) list.push({ value: side.values[i], timestamp: side.timestamps === null ? undefined : side.timestamps[i] })
        this.sideOutputs.set(tag, list)
      }
      this.buffer.side.clear()
    }
  }
}
