import { MAX_WATERMARK, MIN_WATERMARK, type WatermarkStatus } from './stream-element.js'

/** What the valve decided after an input: a new watermark, a new status, or both (status first). */
export interface ValveOutput {
  emitWatermark(watermark: number): void
  emitWatermarkStatus(status: WatermarkStatus): void
}

interface ChannelStatus {
  watermark: number
  status: WatermarkStatus
  /** Counts toward the minimum: active, and its watermark has caught up with the valve's output. */
  aligned: boolean
}

/**
 * Combines the watermarks and watermark statuses of a task's input channels into the task's own
 * (Flink's `StatusWatermarkValve`, rule for rule):
 * - the output watermark is the minimum over the *aligned* channels and only moves forward;
 * - an `IDLE` channel is left out of the minimum, and its watermarks are ignored while it is idle;
 * - a channel that turns `ACTIVE` again counts only once its watermark has caught up with the output
 *   watermark (so it cannot pull the output back);
 * - when every channel is idle the valve is idle: it flushes (emits the highest channel watermark when
 *   the last active channel held the minimum) and emits `IDLE`; the first channel to turn active again
 *   makes it emit `ACTIVE`.
 *
 * Used by one task loop only; never concurrently.
 */
export class StatusWatermarkValve {
  private readonly channels: ChannelStatus[]
  private lastOutputWatermark = MIN_WATERMARK
  private lastOutputStatus: WatermarkStatus = 'ACTIVE'

  constructor(channelCount: number) {
    this.channels = Array.from({ length: channelCount }, () => ({ watermark: MIN_WATERMARK, status: 'ACTIVE', aligned: true }))
  }

  get watermark(): number {
    return this.lastOutputWatermark
  }

  get status(): WatermarkStatus {
    return this.lastOutputStatus
  }

  inputWatermark(watermark: number, channelIndex: number, output: ValveOutput): void {
    const channel = this.channels[channelIndex] as ChannelStatus
    // Watermarks of an idle channel, or while the whole valve is idle, are ignored (as in Flink).
    if (this.lastOutputStatus !== 'ACTIVE' || channel.status !== 'ACTIVE') return
    if (watermark <= channel.watermark) return
    channel.watermark = watermark
    if (!channel.aligned && watermark >= this.lastOutputWatermark) channel.aligned = true
    this.emitNewMinimum(output)
  }

  inputWatermarkStatus(status: WatermarkStatus, channelIndex: number, output: ValveOutput): void {
    const channel = this.channels[channelIndex] as ChannelStatus
    if (status === 'IDLE' && channel.status === 'ACTIVE') {
      channel.status = 'IDLE'
      channel.aligned = false
      if (!this.channels.some((c) => c.status === 'ACTIVE')) {
        // No channel will advance any more: flush, i.e. emit the highest watermark of all channels,
        // when the channel that just went idle was the one holding the minimum.
        if (channel.watermark === this.lastOutputWatermark) this.emitMaximum(output)
        this.lastOutputStatus = 'IDLE'
        output.emitWatermarkStatus('IDLE')
      } else if (channel.watermark === this.lastOutputWatermark) {
        this.emitNewMinimum(output)
      }
    } else if (status === 'ACTIVE' && channel.status === 'IDLE') {
      channel.status = 'ACTIVE'
      if (channel.watermark >= this.lastOutputWatermark) channel.aligned = true
      if (this.lastOutputStatus === 'IDLE') {
        this.lastOutputStatus = 'ACTIVE'
        output.emitWatermarkStatus('ACTIVE')
      }
    }
  }

  /**
   * The channel ended: it holds nothing back any more. Its producer normally sent the MAX watermark
   * already; this covers producers that stopped without it.
   */
  inputEnded(channelIndex: number, output: ValveOutput): void {
    this.inputWatermarkStatus('ACTIVE', channelIndex, output)
    this.inputWatermark(MAX_WATERMARK, channelIndex, output)
  }

  /**
   * The channel finished without ending its data (a stop without drain): from now on it holds nothing
   * back, but nothing is emitted now; the next input of another channel may advance the output.
   */
  inputFinishedSilently(channelIndex: number): void {
    const channel = this.channels[channelIndex] as ChannelStatus
    channel.status = 'ACTIVE'
    channel.watermark = MAX_WATERMARK
    channel.aligned = true
  }

  private emitNewMinimum(output: ValveOutput): void {
    let minimum = MAX_WATERMARK
    let hasAligned = false
    for (const channel of this.channels) {
      if (!channel.aligned) continue
      hasAligned = true
      if (channel.watermark < minimum) minimum = channel.watermark
    }
    if (hasAligned && minimum > this.lastOutputWatermark) {
      this.lastOutputWatermark = minimum
      output.emitWatermark(minimum)
    }
  }

  private emitMaximum(output: ValveOutput): void {
    let maximum = MIN_WATERMARK
    for (const channel of this.channels) if (channel.watermark > maximum) maximum = channel.watermark
    if (maximum > this.lastOutputWatermark) {
      this.lastOutputWatermark = maximum
      output.emitWatermark(maximum)
    }
  }
}
