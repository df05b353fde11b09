import { JobCancelledError } from '../errors.js'
import type { Notifier } from './notifier.js'
import type { StreamElement } from './stream-element.js'

/**
 * A bounded FIFO of stream elements from one producer subtask to one consumer subtask.
 *
 * The producer pushes (never blocks: the push itself always succeeds) and, when the channel holds
 * `capacity` elements or more, awaits `writable()` before producing more: that is backpressure.
 * The consumer polls without waiting and is woken through its task's {@link Notifier}.
 */
export class Channel {
  private readonly queue: StreamElement[] = []
  private head = 0
  private closed = false
  private writableWaiters: (() => void)[] = []

  constructor(
    readonly id: string,
    private readonly capacity: number,
    private readonly consumer: Notifier,
  ) {}

  push(element: StreamElement): void {
    if (this.closed) throw new JobCancelledError(`channel ${this.id} is closed`)
    this.queue.push(element)
    if (this.queue.length - this.head === 1) this.consumer.signal()
  }

  /** Whether the producer should wait before pushing more. */
  isFull(): boolean {
    return this.queue.length - this.head >= this.capacity
  }

  /** Resolves once the channel is below capacity (or closed). */
  writable(): Promise<void> {
    if (!this.isFull() || this.closed) return Promise.resolve()
    return new Promise((resolve) => this.writableWaiters.push(resolve))
  }

  poll(): StreamElement | undefined {
    if (this.head >= this.queue.length) return undefined
    const element = this.queue[this.head] as StreamElement
    this.queue[this.head] = undefined as unknown as StreamElement
    this.head++
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head)
      this.head = 0
    }
    if (this.writableWaiters.length > 0 && !this.isFull()) this.releaseWriters()
    return element
  }

  peek(): StreamElement | undefined {
    return this.head < this.queue.length ? this.queue[this.head] : undefined
  }

  size(): number {
    return this.queue.length - this.head
  }

  /** Drops the content and wakes everyone: used when the job is cancelled or restarts. */
  close(): void {
    this.closed = true
    this.queue.length = 0
    this.head = 0
    this.releaseWriters()
    this.consumer.signal()
  }

  isClosed(): boolean {
    return this.closed
  }

  private releaseWriters(): void {
    const waiters = this.writableWaiters
    this.writableWaiters = []
    for (const resolve of waiters) resolve()
  }
}
