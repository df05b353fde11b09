/**
 * What travels through a channel between two tasks. Records move as batches; watermarks, barriers
 * and end markers travel in line with them so their order relative to records is kept.
 * All elements are plain data (no functions, no class instances of the runtime), so a channel can
 * later cross a worker-thread or process boundary.
 */
export type StreamElement =
  | RecordBatch
  | WatermarkElement
  | WatermarkStatusElement
  | BarrierElement
  | EndOfDataElement
  | EndOfPartitionElement

/** Timestamps of a batch: one per record, `undefined` for a record without one; `null` when none has one. */
export type Timestamps = (number | undefined)[] | null

export interface RecordBatch {
  readonly kind: 'records'
  readonly values: unknown[]
  readonly timestamps: Timestamps
}

export interface WatermarkElement {
  readonly kind: 'watermark'
  readonly timestamp: number
}

/**
 * Whether the producer may still send watermarks (Flink's `WatermarkStatus`). An `IDLE` producer
 * holds no watermark back: consumers leave it out of their minimum until it sends `ACTIVE` again.
 */
export interface WatermarkStatusElement {
  readonly kind: 'watermark-status'
  readonly status: WatermarkStatus
}

export type WatermarkStatus = 'IDLE' | 'ACTIVE'

export interface BarrierElement {
  readonly kind: 'barrier'
  readonly checkpointId: number
}

/** The producer has no more records (bounded input ended, or a drain); checkpoints still pass. */
export interface EndOfDataElement {
  readonly kind: 'end-of-data'
}

/** The producer is finished: nothing, not even a barrier, follows. */
export interface EndOfPartitionElement {
  readonly kind: 'end-of-partition'
}

export const MAX_WATERMARK = Number.POSITIVE_INFINITY
export const MIN_WATERMARK = Number.NEGATIVE_INFINITY

export const END_OF_DATA: EndOfDataElement = { kind: 'end-of-data' }
export const END_OF_PARTITION: EndOfPartitionElement = { kind: 'end-of-partition' }

export const WATERMARK_STATUS_IDLE: WatermarkStatusElement = { kind: 'watermark-status', status: 'IDLE' }
export const WATERMARK_STATUS_ACTIVE: WatermarkStatusElement = { kind: 'watermark-status', status: 'ACTIVE' }
