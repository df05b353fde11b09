import type { Key } from '../api/state.js'
import type { NormalizedKey } from './key-groups.js'

/** A due timer: the key it was registered for and its timestamp. */
export interface Timer {
  readonly timestamp: number
  readonly key: Key
}

class TimerNode implements Timer {
  readonly key: Key
  readonly normalizedKey: NormalizedKey
  readonly timestamp: number
  /** Registration order; breaks ties between equal timestamps. */
  readonly sequence: number
  /** Position in the heap array, kept up to date so a timer can be deleted in O(log n). */
  index: number
  constructor(key: Key, normalizedKey: NormalizedKey, timestamp: number, sequence: number, index: number) {
    this.key = key
    this.normalizedKey = normalizedKey
    this.timestamp = timestamp
    this.sequence = sequence
    this.index = index
  }
}

function isBefore(a: TimerNode, b: TimerNode): boolean {
  return a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.sequence < b.sequence)
}

/**
 * The timers of one time domain of a keyed operator subtask: a binary min-heap ordered by timestamp,
 * then registration order, with an index by (key, timestamp) that makes registration idempotent and
 * deletion O(log n) (Flink's `HeapPriorityQueueSet`).
 *
 * Owned by one keyed state backend and used by its task only, never concurrently.
 */
export class TimerQueue {
  private readonly heap: TimerNode[] = []
  private readonly byKey = new Map<NormalizedKey, Map<number, TimerNode>>()
  private nextSequence = 0

  get size(): number {
    return this.heap.length
  }

  /** Registers a timer; returns false when the key already has one at that timestamp. */
  add(key: Key, normalizedKey: NormalizedKey, timestamp: number): boolean {
    let timestamps = this.byKey.get(normalizedKey)
    if (timestamps === undefined) {
      timestamps = new Map()
      this.byKey.set(normalizedKey, timestamps)
    } else if (timestamps.has(timestamp)) {
      return false
    }
    const node = new TimerNode(key, normalizedKey, timestamp, this.nextSequence++, this.heap.length)
    timestamps.set(timestamp, node)
    this.heap.push(node)
    this.siftUp(node.index)
    return true
  }

  /** Deletes the timer of a key at a timestamp; returns false when there is none. */
  delete(normalizedKey: NormalizedKey, timestamp: number): boolean {
    const timestamps = this.byKey.get(normalizedKey)
    const node = timestamps?.get(timestamp)
    if (timestamps === undefined || node === undefined) return false
    this.forget(timestamps, node)
    this.removeAt(node.index)
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
      const head = heap[0] as TimerNode
      if (head.timestamp > upToInclusive) break
      this.forget(this.byKey.get(head.normalizedKey) as Map<number, TimerNode>, head)
      this.removeAt(0)
      due.push(head)
    }
    return due
  }

  /** All timers in firing order, for a checkpoint; the queue is unchanged. */
  toSortedArray(): Timer[] {
    return this.heap.slice().sort((a, b) => (isBefore(a, b) ? -1 : isBefore(b, a) ? 1 : 0))
  }

  private forget(timestamps: Map<number, TimerNode>, node: TimerNode): void {
    timestamps.delete(node.timestamp)
    if (timestamps.size === 0) this.byKey.delete(node.normalizedKey)
  }

  private removeAt(index: number): void {
    const heap = this.heap
    const last = heap.pop() as TimerNode
    if (index === heap.length) return
    heap[index] = last
    last.index = index
    if (index > 0 && isBefore(last, heap[(index - 1) >> 1] as TimerNode)) this.siftUp(index)
    else this.siftDown(index)
  }

  private siftUp(start: number): void {
    const heap = this.heap
    const node = heap[start] as TimerNode
    let index = start
    while (index > 0) {
      const parentIndex = (index - 1) >> 1
      const parent = heap[parentIndex] as TimerNode
      if (!isBefore(node, parent)) break
      heap[index] = parent
      parent.index = index
      index = parentIndex
    }
    heap[index] = node
    node.index = index
  }

  private siftDown(start: number): void {
    const heap = this.heap
    const length = heap.length
    const node = heap[start] as TimerNode
    let index = start
    for (;;) {
      const leftIndex = 2 * index + 1
      if (leftIndex >= length) break
      const rightIndex = leftIndex + 1
      let childIndex = leftIndex
      if (rightIndex < length && isBefore(heap[rightIndex] as TimerNode, heap[leftIndex] as TimerNode)) childIndex = rightIndex
      const child = heap[childIndex] as TimerNode
      if (!isBefore(child, node)) break
      heap[index] = child
      child.index = index
      index = childIndex
    }
    heap[index] = node
    node.index = index
  }
}
