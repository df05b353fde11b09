import { JobGraphError } from '../errors.js'
import { IntervalJoinOperator } from '../runtime/operators/interval-join-operator.js'
import type { KeyedStream, SingleOutputStream } from './data-stream.js'
import type { KeySelector, OutputTag } from './functions.js'
import type { ProcessJoinFunction } from './process-join-function.js'
import type { Key } from './state.js'

/**
 * `left.keyBy(k).intervalJoin(right.keyBy(k))`: two keyed streams to be joined on key and on event time
 * (Flink's `KeyedStream.IntervalJoin`). Give the time bounds with {@link between}.
 */
export class IntervalJoin<L, R, K extends Key> {
  /** @internal Built by `KeyedStream.intervalJoin`. */
  constructor(
    private readonly left: KeyedStream<L, K>,
    private readonly right: KeyedStream<R, K>,
  ) {}

  /** Event time: the only time an interval join supports (the default). */
  inEventTime(): this {
    return this
  }

  /** @throws JobGraphError: as in Flink, interval joins are only supported in event time. */
  inProcessingTime(): never {
    throw new JobGraphError('interval join: time-bounded stream joins are only supported in event time')
  }

  /**
   * Joins a left element at `t` with the right elements of the same key at timestamps in
   * `[t + lowerBound, t + upperBound]`, bounds in milliseconds and inclusive unless made exclusive on
   * the result. Negative bounds reach into the past.
   *
   * @throws JobGraphError unless both are integers and `lowerBound <= upperBound`.
   */
  between(lowerBound: number, upperBound: number): IntervalJoined<L, R, K> {
    for (const [label, bound] of [['lowerBound', lowerBound], ['upperBound', upperBound]] as const) {
      if (!Number.isSafeInteger(bound)) throw new JobGraphError(`interval join: between(...): ${label} must be an integer number of ms, got ${String(bound)}`)
    }
    if (lowerBound > upperBound) {
      throw new JobGraphError(`interval join: between(${lowerBound}, ${upperBound}): lowerBound <= upperBound must be fulfilled`)
    }
    return new IntervalJoined(this.left, this.right, lowerBound, upperBound)
  }
}

/**
 * An interval join with its bounds (Flink's `KeyedStream.IntervalJoined`): set exclusivity and late-data
 * side outputs, then `process(fn)`. See IntervalJoinOperator for the exact rules.
 */
export class IntervalJoined<L, R, K extends Key> {
  private lowerInclusive = true
  private upperInclusive = true
  private leftLateDataTag: OutputTag<L> | undefined
  private rightLateDataTag: OutputTag<R> | undefined

  /** @internal Built by `IntervalJoin.between`. */
  constructor(
    private readonly left: KeyedStream<L, K>,
    private readonly right: KeyedStream<R, K>,
    private readonly lowerBound: number,
    private readonly upperBound: number,
  ) {}

  /** Excludes the lower bound: `t + lowerBound < rightTimestamp`. */
  lowerBoundExclusive(): this {
    this.lowerInclusive = false
    return this
  }

  /** Excludes the upper bound: `rightTimestamp < t + upperBound`. */
  upperBoundExclusive(): this {
    this.upperInclusive = false
    return this
  }

  /** Left elements that arrive late (timestamp below the watermark) go to this side output instead of being dropped. */
  sideOutputLeftLateData(tag: OutputTag<L>): this {
    this.leftLateDataTag = tag
    return this
  }

  /** Right elements that arrive late go to this side output instead of being dropped. */
  sideOutputRightLateData(tag: OutputTag<R>): this {
    this.rightLateDataTag = tag
    return this
  }

  /** Calls `fn` for every joined pair; its output carries the pair's timestamp, `max(left, right)`. */
  process<Out>(fn: ProcessJoinFunction<L, R, Out>, name = 'Interval Join'): SingleOutputStream<Out> {
    if (typeof fn?.processElement !== 'function') throw new JobGraphError(`'${name}': the function needs a processElement(left, right, context, out) method`)
    const spec = {
      // Moved by one ms when exclusive, so the operator only ever checks inclusive bounds (as Flink does).
      lowerBound: this.lowerInclusive ? this.lowerBound : this.lowerBound + 1,
      upperBound: this.upperInclusive ? this.upperBound : this.upperBound - 1,
      leftLateDataTag: this.leftLateDataTag as OutputTag<unknown> | undefined,
      rightLateDataTag: this.rightLateDataTag as OutputTag<unknown> | undefined,
    }
    const leftKey = this.left.keySelector as KeySelector<unknown, Key>
    const rightKey = this.right.keySelector as KeySelector<unknown, Key>
    const joinFn = fn as ProcessJoinFunction<unknown, unknown, unknown>
    return this.left.twoInput<Out>(this.right.transformation, name, (uid, n) => new IntervalJoinOperator(uid, n, joinFn, leftKey, rightKey, spec))
  }
}
