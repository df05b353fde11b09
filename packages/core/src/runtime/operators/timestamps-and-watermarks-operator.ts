import type { TimestampAssigner, WatermarkGenerator } from '../../api/watermark-generator.js'
import type { WatermarkStrategy } from '../../api/watermark-strategy.js'
import { AbstractStreamOperator } from '../abstract-stream-operator.js'
import { MAX_WATERMARK, type Timestamps } from '../stream-element.js'
import { WatermarkToOutputBuffer } from './source-watermarks.js'

/**
 * `stream.assignTimestampsAndWatermarks(strategy)`: Flink's `TimestampsAndWatermarksOperator`.
 *
 * Each record gets the timestamp of the strategy's assigner and is emitted, then the generator sees it
 * (a punctuated generator's watermark follows the record that caused it, in order). Every
 * `autoWatermarkInterval` ms the generator's `onPeriodicEmit` runs. Watermarks from upstream are not
 * forwarded — this operator makes the watermarks from here on — except the MAX watermark at the end of
 * input, so that bounded input still ends every window.
 */
export class TimestampsAndWatermarksOperator extends AbstractStreamOperator {
  readonly generatesWatermarks = true
  private assigner!: TimestampAssigner<unknown>
  private generator!: WatermarkGenerator<unknown>
  private output!: WatermarkToOutputBuffer
  private nextPeriodicEmit = Number.POSITIVE_INFINITY

  constructor(
    uid: string,
    name: string,
    private readonly strategy: WatermarkStrategy<unknown>,
    private readonly autoWatermarkInterval: number,
  ) {
    super(uid, name)
  }

  protected override openFunction(): void {
    const context = this.context
    this.assigner = this.strategy.createTimestampAssigner()
    this.generator = this.strategy.createWatermarkGenerator({ currentProcessingTime: () => context.processingTime.now() })
    this.output = new WatermarkToOutputBuffer(context.output)
    if (this.autoWatermarkInterval > 0) {
      this.nextPeriodicEmit = context.processingTime.now() + this.autoWatermarkInterval
      context.processingTime.requestWakeup(this.nextPeriodicEmit)
    }
  }

  processBatch(values: unknown[], timestamps: Timestamps): void {
    const { assigner, generator, output } = this
    const buffer = this.context.output
    for (let index = 0; index < values.length; index++) {
      const value = values[index]
      const timestamp = assigner(value, timestamps === null ? undefined : timestamps[index])
      buffer.collect(value, timestamp)
      generator.onEvent(value, timestamp, output)
    }
  }

  override processWatermark(watermark: number): void {
    // The end of input travels on so that downstream windows are ended; other watermarks are replaced by ours.
    if (watermark === MAX_WATERMARK && this.output.maxWatermark !== MAX_WATERMARK) {
      this.nextPeriodicEmit = Number.POSITIVE_INFINITY
      this.output.emitWatermark(MAX_WATERMARK)
    }
  }

  override onProcessingTime(now: number): void {
    if (this.nextPeriodicEmit === Number.POSITIVE_INFINITY) return
    if (now >= this.nextPeriodicEmit) {
      this.generator.onPeriodicEmit(this.output)
      this.nextPeriodicEmit = now + this.autoWatermarkInterval
    }
    // Every wake-up of the task reaches every operator: ask again for ours.
    this.context.processingTime.requestWakeup(this.nextPeriodicEmit)
  }

  override endInput(): void {
    // As Flink's finish(): one last periodic emit (below the MAX watermark that already went out, if any).
    this.generator.onPeriodicEmit(this.output)
  }
}
