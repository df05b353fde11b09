import { subtaskForKey } from '../state/key-groups.js'
import type { Channel } from './channel.js'
import type { Partitioning } from './partitioner.js'
import type { StreamElement, Timestamps } from './stream-element.js'

/**
 * Writes the output of one producer subtask on one edge into the channels of the consumer subtasks,
 * partitioning records as the edge says and cutting them into batches of at most `batchSize`.
 * Called by the producer's task loop only.
 */
export class RecordWriter {
  private readonly bufferValues: unknown[][]
  private readonly bufferTimestamps: ((number | undefined)[] | null)[]
  private roundRobin: number

  constructor(
    private readonly channels: Channel[],
    private readonly partitioning: Partitioning,
    producerSubtask: number,
    private readonly maxParallelism: number,
    private readonly batchSize: number,
  ) {
    this.bufferValues = channels.map(() => [])
    this.bufferTimestamps = channels.map(() => null)
    this.roundRobin = producerSubtask % channels.length
  }

  emit(values: unknown[], timestamps: Timestamps): void {
    if (values.length === 0) return
    const partitioning = this.partitioning
    const channelCount = this.channels.length
    switch (partitioning.type) {
      case 'forward':
        this.pushDirect(0, values, timestamps) // a forward edge has exactly one channel
        return
      case 'rebalance':
        this.pushDirect(this.roundRobin, values, timestamps)
        this.roundRobin = (this.roundRobin + 1) % channelCount
        return
      case 'broadcast':
        for (let target = 0; target < channelCount; target++) this.pushDirect(target, values.slice(), timestamps?.slice() ?? null)
        return
      case 'hash': {
        if (channelCount === 1) {
          this.pushDirect(0, values, timestamps)
          return
        }
        const keySelector = partitioning.keySelector
        const maxParallelism = this.maxParallelism
        for (let i = 0; i < values.length; i++) {
          const value = values[i]
          const target = subtaskForKey(keySelector(value), maxParallelism, channelCount)
          const buffer = this.bufferValues[target] as unknown[]
          if (timestamps !== null) {
            let bufferTimestamps = this.bufferTimestamps[target]
            if (bufferTimestamps === null || bufferTimestamps === undefined) {
              bufferTimestamps = new Array(buffer.length).fill(undefined)
              this.bufferTimestamps[target] = bufferTimestamps
            }
            bufferTimestamps.push(timestamps[i])
          } else if (this.bufferTimestamps[target] != null) {
            ;(this.bufferTimestamps[target] as (number | undefined)[]).push(undefined)
          }
          buffer.push(value)
          if (buffer.length >= this.batchSize) this.flushChannel(target)
        }
        return
      }
    }
  }

  /** Pushes every partly filled batch. Called when the producer finished an input batch and before control elements. */
  flush(): void {
    for (let target = 0; target < this.channels.length; target++) this.flushChannel(target)
  }

  /** Sends a watermark, barrier or end marker to every consumer, after the records before it. */
  broadcastElement(element: StreamElement): void {
    this.flush()
    for (const channel of this.channels) channel.push(element)
  }

  /** A promise if any consumer channel is full (the producer must wait), else undefined. */
  backpressure(): Promise<void> | undefined {
    let waits: Promise<void>[] | undefined
    for (const channel of this.channels) {
      if (!channel.isFull()) continue
      waits ??= []
      waits.push(channel.writable())
    }
    if (!waits) return undefined
    return Promise.all(waits).then(() => undefined)
  }

  private pushDirect(target: number, values: unknown[], timestamps: Timestamps): void {
    // Values already buffered for this channel go first, to keep the order.
    if ((this.bufferValues[target] as unknown[]).length > 0) this.flushChannel(target)
    const channel = this.channels[target] as Channel
    for (let start = 0; start < values.length; start += this.batchSize) {
      const whole = start === 0 && values.length <= this.batchSize
      channel.push({
        kind: 'records',
        values: whole ? values : values.slice(start, start + this.batchSize),
        timestamps: timestamps === null ? null : whole ? timestamps : timestamps.slice(start, start + this.batchSize),
      })
    }
  }

  private flushChannel(target: number): void {
    const values = this.bufferValues[target] as unknown[]
    if (values.length === 0) return
    const timestamps = this.bufferTimestamps[target] ?? null
    this.bufferValues[target] = []
    this.bufferTimestamps[target] = null
    ;(this.channels[target] as Channel).push({ kind: 'records', values, timestamps })
  }
}
