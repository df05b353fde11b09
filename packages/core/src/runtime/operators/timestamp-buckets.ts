/**
 * The buffered elements of one side of one key of an interval join: buckets of elements with equal
 * timestamps, sorted by timestamp. Plain arrays, so the keyed state holding it is checkpointed as it is
 * (CBOR) and it can be searched by timestamp.
 *
 * Why not a map from timestamp to bucket (Flink's `MapState<Long, List<BufferEntry>>`): Flink scans every
 * bucket of the other side for each element. When one input runs ahead of the other (the join's
 * watermark is the slower one's), that side holds many buckets beyond the join range, and the scan
 * dominates (measured: ~21 buckets scanned per element in the benchmark, for ~1 joined). Sorted buckets
 * are searched in O(log n + matches). Which pairs are emitted is unchanged; within one element the
 * pairs come in timestamp order.
 */
export interface TimestampBuckets {
  /** Ascending, distinct. */
  readonly timestamps: number[]
  /** `buckets[i]` holds the elements with timestamp `timestamps[i]`, in arrival order; never empty. */
  readonly buckets: unknown[][]
}

export function emptyBuckets(): TimestampBuckets {
  return { timestamps: [], buckets: [] }
}

/** Index of the first timestamp `>= timestamp` (`timestamps.length` if none). */
export function lowerBoundIndex(timestamps: readonly number[], timestamp: number): number {
  let low = 0
  let high = timestamps.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if ((timestamps[middle] as number) < timestamp) low = middle + 1
    else high = middle
  }
  return low
}

/** Appends `value` to the bucket of `timestamp`; returns true when that bucket is new. */
export function addToBuckets(target: TimestampBuckets, timestamp: number, value: unknown): boolean {
  const { timestamps, buckets } = target
  const count = timestamps.length
  // Timestamps mostly rise: the common case is a new last bucket, or the last one again.
  if (count === 0 || (timestamps[count - 1] as number) < timestamp) {
    timestamps.push(timestamp)
    buckets.push([value])
    return true
  }
  const index = lowerBoundIndex(timestamps, timestamp)
  if (timestamps[index] === timestamp) {
    ;(buckets[index] as unknown[]).push(value)
    return false
  }
  timestamps.splice(index, 0, timestamp)
  buckets.splice(index, 0, [value])
  return true
}

/** Removes the bucket of `timestamp`, if any. Cleanup removes the oldest bucket almost always: a shift. */
export function removeBucket(target: TimestampBuckets, timestamp: number): void {
  const { timestamps, buckets } = target
  if (timestamps[0] === timestamp) {
    timestamps.shift()
    buckets.shift()
    return
  }
  const index = lowerBoundIndex(timestamps, timestamp)
  if (timestamps[index] !== timestamp) return
  timestamps.splice(index, 1)
  buckets.splice(index, 1)
}
