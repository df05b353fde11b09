import type { AnySource } from '../../api/source.js'
import type { InputStatus, ReaderOutput, SourceReader } from '../../api/source-reader.js'
import type { SourceSplit } from '../../api/source-split.js'
import type { WatermarkStrategy } from '../../api/watermark-strategy.js'
import { AbstractStreamOperator } from '../abstract-stream-operator.js'
import type { OutputBuffer } from '../output-buffer.js'
import { deserializeItem, serializeItem } from '../versioned-items.js'
import type { OperatorContext, OperatorSubtaskState } from '../stream-operator.js'
import { MAX_WATERMARK } from '../stream-element.js'
import type { WatermarkAlignmentMember, WatermarkAlignmentRegistry } from '../watermark-alignment.js'
import { SourceWatermarks } from './source-watermarks.js'

/** Event time at a source: the strategy (per split) and the periodic emit interval (ms, 0 = off). */
export interface SourceWatermarkOptions {
  readonly strategy: WatermarkStrategy<unknown> | undefined
  readonly autoWatermarkInterval: number
}

/**
 * The head of a source task: owns the subtask's SourceReader. The task loop calls `pollNext`;
 * splits from the enumerator arrive through `addSplits` in the task's mailbox, so they are ordered
 * with checkpoint triggers (see SplitEnumerator).
 *
 * It makes the task's watermarks: those the reader emits, and with a watermark strategy those of a
 * generator per split (or per reader), combined by minimum and emitted in order with the records; at
 * the end of input the MAX watermark.
 *
 * With watermark alignment (`WatermarkStrategy.withWatermarkAlignment`) it joins its group in the job's
 * registry, reports every change of its watermark and idleness, and while the group holds it back
 * `pollNext` returns `NOTHING_AVAILABLE` without asking the reader and `isAvailable` resolves when it is
 * released (Flink's `WAITING_FOR_ALIGNMENT`). The task loop keeps handling its mailbox meanwhile, so
 * checkpoints, stop and cancel are not held back; the MAX watermark at the end of input reports the
 * subtask as finished.
 */
export class SourceOperator extends AbstractStreamOperator {
  readonly generatesWatermarks = true
  private reader!: SourceReader<unknown, SourceSplit>
  private readerOutput!: ReaderOutput<unknown>
  private watermarks!: SourceWatermarks<unknown>
  private nextPeriodicEmit = Number.POSITIVE_INFINITY
  private finalWatermarkSent = false
  private alignment: WatermarkAlignmentMember | undefined
  /** Splits paused by watermark alignment per split (readers with `pauseOrResumeSplits`). */
  private readonly pausedSplits = new Set<string>()
  /** Inside the reader's `pollNext`. */
  private polling = false

  constructor(
    uid: string,
    name: string,
    private readonly source: AnySource<unknown>,
    private readonly sendSplitRequest: () => void,
    private readonly watermarkOptions: SourceWatermarkOptions = { strategy: undefined, autoWatermarkInterval: 0 },
    /** The job execution's alignment groups; joined when the strategy asks for alignment. */
    private readonly alignmentRegistry?: WatermarkAlignmentRegistry,
  ) {
    super(uid, name)
  }

  override async open(context: OperatorContext): Promise<void> {
    await super.open(context)
    // Without a strategy the reader writes straight into the task's output buffer: one call per record, no wrapper.
    const { strategy, autoWatermarkInterval } = this.watermarkOptions
    const alignmentParams = strategy?.alignmentParams
    const now = () => context.processingTime.now()
    const alignment =
      alignmentParams === undefined ? undefined : this.alignmentRegistry?.join(alignmentParams.group, alignmentParams.maxAllowedDrift, now)
    this.alignment = alignment
    this.watermarks = new SourceWatermarks(
      context.output as OutputBuffer,
      strategy,
      alignment === undefined
        ? { currentProcessingTime: now }
        : { currentProcessingTime: now, inputActivityClock: () => alignment.inputActivityTime() },
      alignment === undefined ? undefined : (watermark, idle) => alignment.update(watermark, idle),
    )
    this.readerOutput = this.watermarks.readerOutput
    if (strategy !== undefined && autoWatermarkInterval > 0) {
      this.nextPeriodicEmit = context.processingTime.now() + autoWatermarkInterval
      context.processingTime.requestWakeup(this.nextPeriodicEmit)
    }
    this.reader = this.source.createReader({
      subtaskId: context.subtaskId,
      parallelism: context.parallelism,
      sendSplitRequest: this.sendSplitRequest,
    })
    await this.reader.start()
    if (alignment !== undefined && this.reader.pauseOrResumeSplits !== undefined) {
      // A change in the group can come from this reader's own poll (a watermark it emits): the reader
      // is then told after the poll, never from inside it.
      alignment.onAlign = () => {
        if (!this.polling) this.alignSplits()
      }
    }
    const restored = context.restoredState?.lists?.splits
    if (restored && restored.length > 0) {
      const serializer = this.source.splitSerializer()
      const where = `checkpoint ${context.restoredCheckpointId}`
      const splits = restored.map((item, index) =>
        deserializeItem(serializer, item, `split ${index} of source '${this.name}'`, where),
      )
      this.reader.addSplits(splits)
    }
  }

  pollNext(): InputStatus {
    const alignment = this.alignment
    if (alignment === undefined) return this.reader.pollNext(this.readerOutput)
    if (alignment.paused) return 'NOTHING_AVAILABLE'
    if (alignment.onAlign === undefined) return this.reader.pollNext(this.readerOutput)
    this.polling = true
    let status: InputStatus
    try {
      status = this.reader.pollNext(this.readerOutput)
    } finally {
      this.polling = false
    }
    this.alignSplits()
    return status
  }

  /**
   * Watermark alignment per split (Flink's `SourceOperator#checkSplitWatermarkAlignment`): pauses each
   * split whose watermark is above the group's maximum allowed watermark and resumes each paused split
   * that is no longer. Runs after every poll and after every change in the group.
   */
  private alignSplits(): void {
    const alignment = this.alignment
    const reader = this.reader
    if (alignment === undefined || reader?.pauseOrResumeSplits === undefined) return
    const maxAllowed = alignment.maxAllowedWatermark
    const watermarks = this.watermarks.splitWatermarks()
    const toPause: string[] = []
    const toResume: string[] = []
    for (const [splitId, watermark] of watermarks) {
      const paused = this.pausedSplits.has(splitId)
      if (watermark > maxAllowed && watermark !== MAX_WATERMARK) {
        if (!paused) toPause.push(splitId)
      } else if (paused) toResume.push(splitId)
    }
    // A split that finished (its output released) is no longer paused.
    for (const splitId of this.pausedSplits) if (!watermarks.has(splitId)) this.pausedSplits.delete(splitId)
    if (toPause.length === 0 && toResume.length === 0) return
    for (const splitId of toPause) this.pausedSplits.add(splitId)
    for (const splitId of toResume) this.pausedSplits.delete(splitId)
    reader.pauseOrResumeSplits(toPause, toResume)
  }

  isAvailable(): Promise<void> {
    const alignment = this.alignment
    if (alignment?.paused) return alignment.released()
    return this.reader.isAvailable()
  }

  addSplits(splits: SourceSplit[]): void {
    this.reader.addSplits(splits)
  }

  notifyNoMoreSplits(): void {
    this.reader.notifyNoMoreSplits()
  }

  processBatch(): void {
    throw new Error(`source operator '${this.name}' has no input`)
  }

  /** Only the task's MAX watermark at the end of input arrives here. */
  override processWatermark(watermark: number): void {
    if (watermark !== MAX_WATERMARK || this.finalWatermarkSent) return
    this.finalWatermarkSent = true
    this.nextPeriodicEmit = Number.POSITIVE_INFINITY
    this.watermarks.emitFinalWatermark()
  }

  override onProcessingTime(now: number): void {
    if (this.finalWatermarkSent) return
    const interval = this.watermarkOptions.autoWatermarkInterval
    if (now >= this.nextPeriodicEmit) {
      this.watermarks.emitPeriodic()
      this.nextPeriodicEmit = now + interval
      this.alignSplits()
    }
    // Every wake-up of the task reaches every operator: ask again for ours.
    if (this.nextPeriodicEmit !== Number.POSITIVE_INFINITY) this.context.processingTime.requestWakeup(this.nextPeriodicEmit)
  }

  override snapshotState(checkpointId: number): OperatorSubtaskState {
    const serializer = this.source.splitSerializer()
    const splits = this.reader.snapshotState(checkpointId)
    return {
      lists: {
        splits: splits.map((split) => serializeItem(serializer, split, `split '${split.splitId}' of source '${this.name}'`)),
      },
    }
  }

  override notifyCheckpointComplete(checkpointId: number): Promise<void> | void {
    return this.reader.notifyCheckpointComplete?.(checkpointId)
  }

  override close(): Promise<void> | void {
    // A closed subtask holds nobody back (in Flink its coordinator stops counting it).
    const alignment = this.alignment
    this.alignment = undefined
    if (alignment !== undefined) alignment.onAlign = undefined
    alignment?.leave()
    return this.reader?.close()
  }
}
