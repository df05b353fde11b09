import { JobGraphError } from '../errors.js'
import { CoGroupedStreams, type CoGroupWithWindow } from './co-grouped-streams.js'
import type { DataStream, SingleOutputStream } from './data-stream.js'
import type { Collector, KeySelector } from './functions.js'
import type { FlatJoinFunction, JoinFunction, JoinOrFlatJoinFunction, TaggedUnion } from './join-function.js'
import type { Key } from './state.js'
import type { Evictor } from './windowing/evictor.js'
import type { Trigger } from './windowing/trigger.js'
import type { Window } from './windowing/window.js'
import type { WindowAssigner } from './windowing/window-assigner.js'

/**
 * `a.join(b)`: a window join (Flink's JoinedStreams), an inner join per key and window. Continue with
 * `.where(keyOfA).equalTo(keyOfB).window(assigner).apply(joinFn)`.
 *
 * Every pair of an element of `a` and an element of `b` with equal keys in the same window is joined;
 * a window with elements of one side only emits nothing; a pair that shares several (sliding) windows is
 * emitted once per window. Results carry the window's `maxTimestamp()`.
 */
export class JoinedStreams<In1, In2> {
  /** @internal Built by `DataStream.join`. */
  constructor(
    private readonly first: DataStream<In1>,
    private readonly second: DataStream<In2>,
  ) {}

  /** The key of the first stream's elements. */
  where<K extends Key>(keySelector: KeySelector<In1, K>): JoinWhere<In1, In2, K> {
    return new JoinWhere(this.first, this.second, keySelector)
  }
}

export class JoinWhere<In1, In2, K extends Key> {
  /** @internal */
  constructor(
    private readonly first: DataStream<In1>,
    private readonly second: DataStream<In2>,
    private readonly keySelector1: KeySelector<In1, K>,
  ) {}

  /** The key of the second stream's elements. */
  equalTo(keySelector: KeySelector<In2, K>): JoinEqualTo<In1, In2, K> {
    return new JoinEqualTo(this.first, this.second, this.keySelector1, keySelector)
  }
}

export class JoinEqualTo<In1, In2, K extends Key> {
  /** @internal */
  constructor(
    private readonly first: DataStream<In1>,
    private readonly second: DataStream<In2>,
    private readonly keySelector1: KeySelector<In1, K>,
    private readonly keySelector2: KeySelector<In2, K>,
  ) {}

  /** The windows pairs are formed in, e.g. `TumblingEventTimeWindows.of(5000)`. */
  window<W extends Window>(assigner: WindowAssigner<TaggedUnion<In1, In2>, W>): JoinWithWindow<In1, In2, K, W> {
    const coGrouped = new CoGroupedStreams(this.first, this.second).where(this.keySelector1).equalTo(this.keySelector2).window(assigner)
    return new JoinWithWindow(coGrouped)
  }
}

/** A window join with its window (Flink's `JoinedStreams.WithWindow`): a co-group whose function pairs up the two sides. */
export class JoinWithWindow<In1, In2, K extends Key, W extends Window> {
  /** @internal */
  constructor(private readonly coGrouped: CoGroupWithWindow<In1, In2, K, W>) {}

  trigger(trigger: Trigger<TaggedUnion<In1, In2>, W>): this {
    this.coGrouped.trigger(trigger)
    return this
  }

  evictor(evictor: Evictor<TaggedUnion<In1, In2>, W>): this {
    this.coGrouped.evictor(evictor)
    return this
  }

  allowedLateness(lateness: number): this {
    this.coGrouped.allowedLateness(lateness)
    return this
  }

  /**
   * Joins each pair: a JoinFunction `(first, second) => result` emits one result per pair; a
   * FlatJoinFunction `(first, second, out) => void` (a function declaring three parameters) emits any
   * number through `out`.
   */
  apply<Out>(fn: JoinOrFlatJoinFunction<In1, In2, Out>, name?: string): SingleOutputStream<Out> {
    if (typeof fn !== 'function') throw new JobGraphError(`join apply: expected a function (first, second) => result, got ${String(fn)}`)
    if (fn.length >= 3) {
      // Flink's FlatJoinCoGroupFunction.
      const flat = fn as unknown as FlatJoinFunction<In1, In2, Out>
      return this.coGrouped.apply<Out>((first, second, out: Collector<Out>) => {
        for (const one of first) for (const two of second) flat(one, two, out)
      }, name)
    }
    // Flink's JoinCoGroupFunction.
    const join = fn as unknown as JoinFunction<In1, In2, Out>
    return this.coGrouped.apply<Out>((first, second, out: Collector<Out>) => {
      for (const one of first) for (const two of second) out.collect(join(one, two))
    }, name)
  }
}
