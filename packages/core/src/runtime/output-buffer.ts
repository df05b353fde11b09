import type { Timestamps } from './stream-element.js'

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

  collect(value: unknown, timestamp: number | undefined): void {
    if (timestamp !== undefined && this.timestamps === null) {
      this.timestamps = new Array(this.values.length).fill(undefined)
    }
    this.values.push(value)
    if (this.timestamps !== null) this.timestamps.push(timestamp)
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

  get size(): number {
    return this.values.length
  }

  /** Returns the main output collected so far and empties the buffer. */
  take(): { values: unknown[]; timestamps: Timestamps } {
    const taken = { values: this.values, timestamps: this.timestamps }
    this.values = []
    this.timestamps = null
    return taken
  }
}
