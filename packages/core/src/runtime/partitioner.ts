import type { Key, } from '../api/state.js'
import type { KeySelector } from '../api/functions.js'

/**
 * How the records of one edge are spread over the consumer's subtasks (Flink's StreamPartitioner).
 * Plain data except for the key selector, so an edge can be described in a job graph.
 */
export type Partitioning =
  /** Producer subtask i → consumer subtask i (same parallelism; used for chaining). */
  | { readonly type: 'forward' }
  /** Batches round-robin over consumer subtasks. */
  | { readonly type: 'rebalance' }
  /** By key group of the key (keyBy): the same key always reaches the same subtask. */
  | { readonly type: 'hash'; readonly keySelector: KeySelector<unknown, Key> }
  /** Every record to every consumer subtask. */
  | { readonly type: 'broadcast' }

export function describePartitioning(partitioning: Partitioning): string {
  return partitioning.type.toUpperCase()
}
