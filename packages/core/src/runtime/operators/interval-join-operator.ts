import type { Collector, KeySelector, OutputTag } from '../../api/functions.js'
import type { ProcessJoinContext, ProcessJoinFunction } from '../../api/process-join-function.js'
import { type Key, type ValueState, ValueStateDescriptor } from '../../api/state.js'
import { IllegalStateError } from '../../errors.js'
import type { HeapKeyedStateBackend } from '../../state/heap-keyed-state-backend.js'
import { AbstractStreamOperator, perSubtaskInstance } from '../abstract-stream-operator.js'
import { MIN_WATERMARK, type Timestamps } from '../stream-element.js'
import { addToBuckets, emptyBuckets, lowerBoundIndex, removeBucket, type TimestampBuckets } from './timestamp-buckets.js'

/** What the operator needs from `between(...)` and the optional builder calls. */
export interface IntervalJoinSpec {
  /** Lower bound in ms, already made inclusive (an exclusive bound `b` is `b + 1`). */
  readonly lowerBound: number
  /** Upper bound in ms, already made inclusive (an exclusive bound `b` is `b - 1`). */
  readonly upperBound: number
  readonly leftLateDataTag: OutputTag<unknown> | undefined
  readonly rightLateDataTag: OutputTag<unknown> | undefined
}

/** Names of the keyed states, as in Flink. Part of the checkpoint format: do not rename. */
export const LEFT_BUFFER = 'LEFT_BUFFER'
export const RIGHT_BUFFER = 'RIGHT_BUFFER'

/**
 * The interval join of two keyed streams (Flink's IntervalJoinOperator), rule for rule:
 *
 * - A left element with timestamp `t` joins the right elements of the same key with timestamps in
 *   `[t + lowerBound, t + upperBound]` (bounds here already inclusive); for a right element at `t` the
 *   range of left timestamps is `[t - upperBound, t - lowerBound]`. Each pair is emitted once, by whichever
 *   of its two elements arrives second, with timestamp `max(left, right)`.
 * - An element is late, and dropped (or sent to the side's late-data tag), when its timestamp is below
 *   the current watermark: `watermark != MIN && t < watermark`. A late element is not buffered.
 * - Every other element is buffered in keyed state (buckets by timestamp, see TimestampBuckets) with a
 *   cleanup time: left at `t + upperBound` (or `t` if `upperBound <= 0`), right at `t - lowerBound` (or
 *   `t` if `lowerBound >= 0`). When the watermark reaches it, the bucket is removed: by then no element that
 *   could still join it can arrive without being late. So state stays bounded on an endless stream.
 *
 * Flink registers a cleanup timer per buffered element in the keyed timer service. Here the cleanup
 * times live in a queue of the operator (one entry per bucket, pushed when the bucket is created), which
 * the watermark drains exactly as it would fire those timers: an entry at `T` is handled at the first
 * watermark `>= T` that arrives after it was pushed. The queue is not checkpointed: every cleanup time
 * is a function of a bucket's timestamp, so after a restore (at any parallelism) it is rebuilt from the
 * restored buffers. This keeps the per-element cost to one heap push, without a timer object per element.
 *
 * Elements must carry timestamps (assign them with a WatermarkStrategy); one without fails the task.
 */
export class IntervalJoinOperator extends AbstractStreamOperator {
  private leftBuffer!: ValueState<TimestampBuckets>
  private rightBuffer!: ValueState<TimestampBuckets>
  private collector!: Collector<unknown>
  private joinContext!: ProcessJoinContext
  private leftTimestamp = 0
  private rightTimestamp = 0
  private resultTimestamp = 0
  private readonly cleanup = new CleanupQueue()
  /** Emptied bucket structures, reused for the next new key: fewer allocations per element. */
  private readonly spareBuckets: TimestampBuckets[] = []

  constructor(
    uid: string,
    name: string,
    private fn: ProcessJoinFunction<unknown, unknown, unknown>,
    leftKey: KeySelector<unknown, Key>,
    rightKey: KeySelector<unknown, Key>,
    private readonly spec: IntervalJoinSpec,
  ) {
    super(uid, name, leftKey, rightKey)
  }

  protected override openFunction(): Promise<void> | void {
    this.fn = perSubtaskInstance(this.fn)
    const backend = this.requireBackend()
    this.leftBuffer = backend.getState(new ValueStateDescriptor<TimestampBuckets>(LEFT_BUFFER))
    this.rightBuffer = backend.getState(new ValueStateDescriptor<TimestampBuckets>(RIGHT_BUFFER))
    this.rebuildCleanupQueue(backend)
    const output = this.context.output
    this.collector = { collect: (value) => output.collect(value, this.resultTimestamp) }
    this.joinContext = {
      leftTimestamp: () => this.leftTimestamp,
      rightTimestamp: () => this.rightTimestamp,
      timestamp: () => this.resultTimestamp,
      output: (tag, value) => output.collectSide(tag.id, value, this.resultTimestamp),
    }
    return this.fn.open?.(this.keyedRuntimeContext())
  }

  processBatch(values: unknown[], timestamps: Timestamps, inputIndex: 1 | 2): void {
    const backend = this.backend as HeapKeyedStateBackend
    const isLeft = inputIndex === 1
    const keySelector = (isLeft ? this.keySelector : this.keySelector2) as KeySelector<unknown, Key>
    const { lowerBound, upperBound } = this.spec
    // The range of the other side's timestamps relative to ours, and our cleanup delay.
    const relativeLower = isLeft ? lowerBound : -upperBound
    const relativeUpper = isLeft ? upperBound : -lowerBound
    const ourBuffer = isLeft ? this.leftBuffer : this.rightBuffer
    const otherBuffer = isLeft ? this.rightBuffer : this.leftBuffer
    const lateTag = isLeft ? this.spec.leftLateDataTag : this.spec.rightLateDataTag
    const output = this.context.output
    // The watermark cannot move within a batch.
    const watermark = this.context.currentWatermark()
    for (let i = 0; i < values.length; i++) {
      const value = values[i]
      const timestamp = timestamps === null ? undefined : timestamps[i]
      if (timestamp === undefined) throw this.missingTimestamp(isLeft)
      if (watermark !== MIN_WATERMARK && timestamp < watermark) {
        if (lateTag !== undefined) output.collectSide(lateTag.id, value, timestamp)
        continue
      }
      const key = keySelector(value)
      backend.setCurrentKey(key)
      let ours = ourBuffer.value()
      if (ours === undefined) {
        ours = this.spareBuckets.pop() ?? emptyBuckets()
        ourBuffer.update(ours)
      }
      // Buckets are heap arrays owned by the state: changing them in place is the update.
      if (addToBuckets(ours, timestamp, value)) this.cleanup.push(relativeUpper > 0 ? timestamp + relativeUpper : timestamp, key, isLeft)

      const other = otherBuffer.value()
      if (other === undefined) continue
      const { timestamps: otherTimestamps, buckets: otherBuckets } = other
      const to = timestamp + relativeUpper
      for (let index = lowerBoundIndex(otherTimestamps, timestamp + relativeLower); index < otherTimestamps.length; index++) {
        const otherTimestamp = otherTimestamps[index] as number
        if (otherTimestamp > to) break
        const bucket = otherBuckets[index] as unknown[]
        if (isLeft) {
          for (let j = 0; j < bucket.length; j++) this.emit(value, bucket[j], timestamp, otherTimestamp)
        } else {
          for (let j = 0; j < bucket.length; j++) this.emit(bucket[j], value, otherTimestamp, timestamp)
        }
      }
    }
  }

  private emit(left: unknown, right: unknown, leftTimestamp: number, rightTimestamp: number): void {
    this.leftTimestamp = leftTimestamp
    this.rightTimestamp = rightTimestamp
    this.resultTimestamp = Math.max(leftTimestamp, rightTimestamp)
    this.fn.processElement(left, right, this.joinContext, this.collector)
  }

  /** Removes the buckets whose cleanup time the watermark reached (Flink's onEventTime of the cleanup timers). */
  override processWatermark(watermark: number): void {
    super.processWatermark(watermark)
    const cleanup = this.cleanup
    if (cleanup.size === 0 || cleanup.peekTime() > watermark) return
    const backend = this.backend as HeapKeyedStateBackend
    const { lowerBound, upperBound } = this.spec
    while (cleanup.size > 0 && cleanup.peekTime() <= watermark) {
      const time = cleanup.peekTime()
      const isLeft = cleanup.peekIsLeft()
      backend.setCurrentKey(cleanup.peekKey())
      cleanup.pop()
      const state = isLeft ? this.leftBuffer : this.rightBuffer
      const buckets = state.value()
      if (buckets === undefined) continue
      removeBucket(buckets, isLeft ? (upperBound <= 0 ? time : time - upperBound) : lowerBound <= 0 ? time + lowerBound : time)
      if (buckets.timestamps.length === 0) {
        state.clear()
        if (this.spareBuckets.length < 1024) this.spareBuckets.push(buckets)
      }
    }
  }

  /** One queue entry per restored bucket, with the cleanup time its element would have registered. */
  private rebuildCleanupQueue(backend: HeapKeyedStateBackend): void {
    const { lowerBound, upperBound } = this.spec
    for (const key of backend.keys(LEFT_BUFFER)) {
      backend.setCurrentKey(key)
      for (const timestamp of this.leftBuffer.value()?.timestamps ?? []) this.cleanup.push(upperBound > 0 ? timestamp + upperBound : timestamp, key, true)
    }
    for (const key of backend.keys(RIGHT_BUFFER)) {
      backend.setCurrentKey(key)
      for (const timestamp of this.rightBuffer.value()?.timestamps ?? []) this.cleanup.push(-lowerBound > 0 ? timestamp - lowerBound : timestamp, key, false)
    }
  }

  override close(): Promise<void> | void {
    return this.fn.close?.()
  }

  /**
   * How many elements this subtask holds in its buffers, over all keys. Walks all state: for tests and
   * benchmarks, called between records only (it changes the current key).
   */
  bufferedElements(): { left: number; right: number } {
    const backend = this.requireBackend()
    const count = (name: string, buffer: ValueState<TimestampBuckets>): number => {
      let total = 0
      for (const key of backend.keys(name)) {
        backend.setCurrentKey(key)
        for (const bucket of buffer.value()?.buckets ?? []) total += bucket.length
      }
      return total
    }
    return { left: count(LEFT_BUFFER, this.leftBuffer), right: count(RIGHT_BUFFER, this.rightBuffer) }
  }

  private missingTimestamp(isLeft: boolean): IllegalStateError {
    return new IllegalStateError(
      `interval join '${this.name}': a ${isLeft ? 'left' : 'right'} element has no timestamp; elements of an interval join ` +
        'need event timestamps (assign them with assignTimestampsAndWatermarks or a source that sets them)',
    )
  }
}

/**
 * Cleanup entries (time, key, side), smallest time first. Each side's times mostly arrive in ascending
 * order, so an entry not below the last one appended for its side goes to the tail of that side's FIFO
 * (O(1)); only an earlier one goes into a binary min-heap. All parallel arrays: no object per entry.
 * Entries with equal times come out in any order; their removals commute.
 */
class CleanupQueue {
  private readonly left = new CleanupFifo()
  private readonly right = new CleanupFifo()
  // Heap part.
  private readonly heapTimes: number[] = []
  private readonly heapKeys: Key[] = []
  private readonly heapSides: boolean[] = []
  /** Where the next `peekKey`/`peekIsLeft`/`pop` read: 0 left FIFO, 1 right FIFO, 2 heap. */
  private from = 0

  get size(): number {
    return this.left.size + this.right.size + this.heapTimes.length
  }

  /** The smallest time; call only when `size > 0`. Chooses which part `peekKey`, `peekIsLeft` and `pop` use. */
  peekTime(): number {
    let time = Number.POSITIVE_INFINITY
    if (this.left.size > 0) {
      time = this.left.peekTime()
      this.from = 0
    }
    if (this.right.size > 0 && this.right.peekTime() < time) {
      time = this.right.peekTime()
      this.from = 1
    }
    if (this.heapTimes.length > 0 && (this.heapTimes[0] as number) < time) {
      time = this.heapTimes[0] as number
      this.from = 2
    }
    return time
  }

  peekKey(): Key {
    return this.from === 0 ? this.left.peekKey() : this.from === 1 ? this.right.peekKey() : (this.heapKeys[0] as Key)
  }

  peekIsLeft(): boolean {
    return this.from === 0 ? true : this.from === 1 ? false : (this.heapSides[0] as boolean)
  }

  push(time: number, key: Key, isLeft: boolean): void {
    const fifo = isLeft ? this.left : this.right
    if (fifo.accepts(time)) fifo.push(time, key)
    else this.heapPush(time, key, isLeft)
  }

  /** Removes the entry the last `peekTime` chose. */
  pop(): void {
    if (this.from === 0) this.left.pop()
    else if (this.from === 1) this.right.pop()
    else this.heapPop()
  }

  private heapPush(time: number, key: Key, isLeft: boolean): void {
    const { heapTimes: times, heapKeys: keys, heapSides: sides } = this
    let index = times.length
    times.push(time)
    keys.push(key)
    sides.push(isLeft)
    while (index > 0) {
      const parent = (index - 1) >> 1
      if ((times[parent] as number) <= time) break
      times[index] = times[parent] as number
      keys[index] = keys[parent] as Key
      sides[index] = sides[parent] as boolean
      index = parent
    }
    times[index] = time
    keys[index] = key
    sides[index] = isLeft
  }

  private heapPop(): void {
    const { heapTimes: times, heapKeys: keys, heapSides: sides } = this
    const lastTime = times.pop() as number
    const lastKey = keys.pop() as Key
    const lastSide = sides.pop() as boolean
    const size = times.length
    if (size === 0) return
    let index = 0
    while (true) {
      let child = 2 * index + 1
      if (child >= size) break
      if (child + 1 < size && (times[child + 1] as number) < (times[child] as number)) child++
      if ((times[child] as number) >= lastTime) break
      times[index] = times[child] as number
      keys[index] = keys[child] as Key
      sides[index] = sides[child] as boolean
      index = child
    }
    times[index] = lastTime
    keys[index] = lastKey
    sides[index] = lastSide
  }
}

/** Ascending (time, key) entries, read from `head`; compacted as the head moves on. */
class CleanupFifo {
  private times: number[] = []
  private keys: Key[] = []
  private head = 0

  get size(): number {
    return this.times.length - this.head
  }

  accepts(time: number): boolean {
    const length = this.times.length
    return length === this.head || (this.times[length - 1] as number) <= time
  }

  peekTime(): number {
    return this.times[this.head] as number
  }

  peekKey(): Key {
    return this.keys[this.head] as Key
  }

  push(time: number, key: Key): void {
    this.times.push(time)
    this.keys.push(key)
  }

  pop(): void {
    this.keys[this.head] = undefined as unknown as Key // let the key be collected
    this.head++
    if (this.head === this.times.length) {
      this.times.length = 0
      this.keys.length = 0
      this.head = 0
    } else if (this.head > 4096 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head)
      this.keys = this.keys.slice(this.head)
      this.head = 0
    }
  }
}
