import type { Collector, FunctionLifecycle, OutputTag, RuntimeContext } from './functions.js'

/**
 * Context of one joined pair of an interval join. Flink's `ProcessJoinFunction.Context`
 * (`getLeftTimestamp` → `leftTimestamp`, and so on).
 */
export interface ProcessJoinContext {
  /** Event timestamp of the left element. */
  leftTimestamp(): number
  /** Event timestamp of the right element. */
  rightTimestamp(): number
  /** Timestamp of the output: `max(leftTimestamp, rightTimestamp)`. */
  timestamp(): number
  /** Emits to a side output, with the output timestamp. */
  output<X>(tag: OutputTag<X>, value: X): void
}

/**
 * Flink's ProcessJoinFunction: called once per pair of an interval join
 * (`a.keyBy(k).intervalJoin(b.keyBy(k)).between(lower, upper).process(fn)`), with the left element first.
 *
 * Called by the join's subtask only, never concurrently: `open` → `processElement`* → `close`. Each
 * output gets the pair's timestamp, `max(left, right)`. The runtime context in `open` is the keyed one,
 * but state the function registers there is scoped to the key of the element that completed the pair.
 */
export interface ProcessJoinFunction<Left, Right, Out> extends FunctionLifecycle<RuntimeContext> {
  processElement(left: Left, right: Right, context: ProcessJoinContext, out: Collector<Out>): void
}
