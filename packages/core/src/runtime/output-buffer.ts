import { IllegalStateError } from '../errors.js'
import {
  type RecordBatch,
  type StreamElement,
  type Timestamps,
  WATERMARK_STATUS_ACTIVE,
  WATERMARK_STATUS_IDLE,
  type WatermarkStatus,
} from './stream-element.js'

/**
 * Collects what one operator emits while it processes a batch, a watermark or a timer; the task then
 * hands the collected batch to the next operator of the chain or to the network writers.
 * Synchronous and allocation-light: this is the hot path.
 */
export class OutputBuffer {
  values: unknown[] = []
  timestamps: (number | undefined)[] | null = null
  /** Side outputs by tag id, only allocated when used. */
  side: Map<string, { values: unknown[]; timestamps: (number | undefined)[] | null }> | undefined
  /**
   * Only allocated when the operator emits a watermark or a watermark status (sources and timestamp
   * assigners do): what it emitted before, in order — record batches cut at each watermark, and the
   * watermarks and statuses themselves. The task forwards these before `values`.
   */
  segments: StreamElement[] | undefined
  /** Records held in `segments`. */
  private segmentRecords = 0

  collect(value: unknown, timestamp: number | undefined): void {
    if (timestamp !== undefined && this.timestamps === null) {
      this.timestamps = new Array(this.values.length).fill(undefined)
    }
    this.values.push(value)
    if (this.timestamps !== null) this.timestamps.push(timestamp)
  }

  /**
   * `collect` for each record in order, taking ownership of the arrays (a reader's `collectBatch` when
   * the buffer itself is the reader output).
   */
  collectBatch(values: unknown[], timestamps?: (number | undefined)[]): void {
    if (timestamps !== undefined && timestamps.length !== values.length) throw batchLengthMismatch(values.length, timestamps.length)
    this.emitBatch(values, timestamps ?? null)
  }

  /** Emits a whole batch; takes ownership of the arrays when the buffer is empty. */
  emitBatch(values: unknown[], timestamps: Timestamps): void {
    if (this.values.length === 0 && this.timestamps === null) {
      this.values = values
      this.timestamps = timestamps
      return
    }
    for (let i = 0; i < values.length; i++) this.collect(values[i], timestamps === null ? undefined : timestamps[i])
  }

  collectSide(tagId: string, value: unknown, timestamp: number | undefined): void {
    this.side ??= new Map()
    let buffer = this.side.get(tagId)
    if (!buffer) {
      buffer = { values: [], timestamps: null }
      this.side.set(tagId, buffer)
    }
    if (timestamp !== undefined && buffer.timestamps === null) buffer.timestamps = new Array(buffer.values.length).fill(undefined)
    buffer.values.push(value)
    if (buffer.timestamps !== null) buffer.timestamps.push(timestamp)
  }

  /**
   * Emits a watermark after the records collected so far and before any collected afterwards, so that
   * a record emitted after a watermark stays after it downstream (a punctuated watermark generator
   * relies on this).
   */
  collectWatermark(timestamp: number): void {
    this.cutSegment().push({ kind: 'watermark', timestamp })
  }

  /** Emits a watermark status, in order with records and watermarks like {@link collectWatermark}. */
  collectWatermarkStatus(status: WatermarkStatus): void {
    this.cutSegment().push(status === 'IDLE' ? WATERMARK_STATUS_IDLE : WATERMARK_STATUS_ACTIVE)
  }

  /** Records collected so far, including those held before a watermark. */
  get size(): number {
    return this.values.length + this.segmentRecords
  }

  /** Returns the segments (see {@link segments}) and forgets them; `values` are what follows them. */
  takeSegments(): StreamElement[] {
    const segments = this.segments ?? []
    this.segments = undefined
    this.segmentRecords = 0
    return segments
  }

  private cutSegment(): StreamElement[] {
    this.segments ??= []
    if (this.values.length > 0) {
      const batch: RecordBatch = { kind: 'records', values: this.values, timestamps: this.timestamps }
      this.segments.push(batch)
      this.segmentRecords += this.values.length
      this.values = []
      this.timestamps = null
    }
    return this.segments
  }

  /** Returns the main output collected so far and empties the buffer. */
  take(): { values: unknown[]; timestamps: Timestamps } {
    const taken = { values: this.values, timestamps: this.timestamps }
    this.values = []
    this.timestamps = null
    return taken
  }
}

/** A reader handed `collectBatch` timestamps that do not match its records one to one. */
export function batchLengthMismatch(records: number, timestamps: number): IllegalStateError {
  return new IllegalStateError(`collectBatch: expected one timestamp per record, got ${timestamps} timestamps for ${records} records`)
}
