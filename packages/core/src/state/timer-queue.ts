import type { Key } from '../api/state.js'
import type { NormalizedKey } from './key-groups.js'

/** A due timer: the key it was registered for and its timestamp. */
export interface Timer {
  readonly timestamp: number
  readonly key: Key
}

class TimerNode implements Timer {
  readonly key: Key
  readonly timestamp: number
  constructor(key: Key, timestamp: number) {
    this.key = key
    this.timestamp = timestamp
  }
}

/** The timers of one timestamp, by key in registration order (a `Map` iterates in insertion order). */
class TimestampBucket {
  readonly timestamp: number
  /** Position in the heap array, kept up to date so an emptied bucket can be removed in O(log n). */
  index: number
  readonly timers = new Map<NormalizedKey, TimerNode>()
  constructor(timestamp: number, index: number) {
    this.timestamp = timestamp
    this.index = index
  }
}

/**
 * The timers of one time domain of a keyed operator subtask, in firing order: by timestamp, then by
 * registration order (Flink's `HeapPriorityQueueSet` order). Registering a (key, timestamp) that is
 * already registered is a no-op that keeps its place; a deleted timer registered again goes last among
 * its timestamp's.
 *
 * Timers are grouped by timestamp: a binary min-heap of the distinct timestamps, each with the timers
 * of that timestamp by key. Many keys usually share a timestamp (the end of a window, a cleanup time),
 * so the heap stays small, firing a timestamp hands over its timers at once, and the bucket's map is
 * also the (key, timestamp) index that makes registration idempotent and deletion cheap.
 *
 * Owned by one keyed state backend and used by its task only, never concurrently.
 */
export class TimerQueue {
  private readonly heap: TimestampBucket[] = []
  private readonly buckets = new Map<number, TimestampBucket>()
  private count = 0

  get size(): number {
    return this.count
  }

  /** Registers a timer; returns false when the key already has one at that timestamp. */
  add(key: Key, normalizedKey: NormalizedKey, timestamp: number): boolean {
    let bucket = this.buckets.get(timestamp)
    if (bucket === undefined) {
      bucket = new TimestampBucket(timestamp, this.heap.length)
      this.buckets.set(timestamp, bucket)
      this.heap.push(bucket)
      this.siftUp(bucket.index)
    } else if (bucket.timers.has(normalizedKey)) {
      return false
    }
    bucket.timers.set(normalizedKey, new TimerNode(key, timestamp))
    this.count++
    return true
  }

  /** Deletes the timer of a key at a timestamp; returns false when there is none. */
  delete(normalizedKey: NormalizedKey, timestamp: number): boolean {
    const bucket = this.buckets.get(timestamp)
    if (bucket === undefined || !bucket.timers.delete(normalizedKey)) return false
    this.count--
    if (bucket.timers.size === 0) {
      this.buckets.delete(timestamp)
      this.removeAt(bucket.index)
    }
    return true
  }

  /** The earliest timestamp, or `undefined` when there are no timers. */
  peekTimestamp(): number | undefined {
    return this.heap[0]?.timestamp
  }

  /** Removes and returns the timers with a timestamp `<= upToInclusive`, earliest first (ties: registration order). */
  pollUpTo(upToInclusive: number): Timer[] {
    const due: Timer[] = []
    const heap = this.heap
    while (heap.length > 0) {
      const head = heap[0] as TimestampBucket
      if (head.timestamp > upToInclusive) break
      this.buckets.delete(head.timestamp)
      this.removeAt(0)
      this.count -= head.timers.size
      for (const node of head.timers.values()) due.push(node)
    }
    return due
  }

  /** All timers in firing order, for a checkpoint; the queue is unchanged. */
  toSortedArray(): Timer[] {
    const sorted: Timer[] = []
    const buckets = this.heap.slice().sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0))
    for (const bucket of buckets) for (const node of bucket.timers.values()) sorted.push(node)
    return sorted
  }

  private removeAt(index: number): void {
    const heap = this.heap
    const last = heap.pop() as TimestampBucket
    if (index === heap.length) return
    heap[index] = last
    last.index = index
    if (index > 0 && last.timestamp < (heap[(index - 1) >> 1] as TimestampBucket).timestamp) this.siftUp(index)
    else this.siftDown(index)
  }

  private siftUp(start: number): void {
    const heap = this.heap
    const bucket = heap[start] as TimestampBucket
    let index = start
    while (index > 0) {
      const parentIndex = (index - 1) >> 1
      const parent = heap[parentIndex] as TimestampBucket
      if (!(bucket.timestamp < parent.timestamp)) break
      heap[index] = parent
      parent.index = index
      index = parentIndex
    }
    heap[index] = bucket
    bucket.index = index
  }

  private siftDown(start: number): void {
    const heap = this.heap
    const length = heap.length
    const bucket = heap[start] as TimestampBucket
    let index = start
    for (;;) {
      const leftIndex = 2 * index + 1
      if (leftIndex >= length) break
      const rightIndex = leftIndex + 1
      let childIndex = leftIndex
      if (rightIndex < length && (heap[rightIndex] as TimestampBucket).timestamp < (heap[leftIndex] as TimestampBucket).timestamp) childIndex = rightIndex
      const child = heap[childIndex] as TimestampBucket
      if (!(child.timestamp < bucket.timestamp)) break
      heap[index] = child
      child.index = index
      index = childIndex
    }
    heap[index] = bucket
    bucket.index = index
  }
}
