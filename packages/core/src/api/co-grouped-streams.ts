import { JobGraphError } from '../errors.js'
import type { DataStream, SingleOutputStream } from './data-stream.js'
import type { Collector, KeySelector } from './functions.js'
import type { CoGroupFunction, TaggedUnion } from './join-function.js'
import type { Key } from './state.js'
import type { Evictor } from './windowing/evictor.js'
import type { Trigger } from './windowing/trigger.js'
import type { Window } from './windowing/window.js'
import type { WindowAssigner } from './windowing/window-assigner.js'

/**
 * `a.coGroup(b)`: two streams grouped by key and window (Flink's CoGroupedStreams). Continue with
 * `.where(keyOfA).equalTo(keyOfB).window(assigner).apply(coGroupFn)`.
 */
export class CoGroupedStreams<In1, In2> {
  /** @internal Built by `DataStream.coGroup`. */
  constructor(
    private readonly first: DataStream<In1>,
    private readonly second: DataStream<In2>,
  ) {}

  /** The key of the first stream's elements. */
  where<K extends Key>(keySelector: KeySelector<In1, K>): CoGroupWhere<In1, In2, K> {
    checkKeySelector('where', keySelector)
    return new CoGroupWhere(this.first, this.second, keySelector)
  }
}

export class CoGroupWhere<In1, In2, K extends Key> {
  /** @internal */
  constructor(
    private readonly first: DataStream<In1>,
    private readonly second: DataStream<In2>,
    private readonly keySelector1: KeySelector<In1, K>,
  ) {}

  /** The key of the second stream's elements; elements with equal keys are grouped together. */
  equalTo(keySelector: KeySelector<In2, K>): CoGroupEqualTo<In1, In2, K> {
    checkKeySelector('equalTo', keySelector)
    return new CoGroupEqualTo(this.first, this.second, this.keySelector1, keySelector)
  }
}

export class CoGroupEqualTo<In1, In2, K extends Key> {
  /** @internal */
  constructor(
    private readonly first: DataStream<In1>,
    private readonly second: DataStream<In2>,
    private readonly keySelector1: KeySelector<In1, K>,
    private readonly keySelector2: KeySelector<In2, K>,
  ) {}

  /** The windows the groups are formed in, e.g. `TumblingEventTimeWindows.of(5000)`. */
  window<W extends Window>(assigner: WindowAssigner<TaggedUnion<In1, In2>, W>): CoGroupWithWindow<In1, In2, K, W> {
    return new CoGroupWithWindow(this.first, this.second, this.keySelector1, this.keySelector2, assigner)
  }
}

/**
 * A co-group (or join) with its window (Flink's `CoGroupedStreams.WithWindow`). Built the way Flink builds
 * it: each input is tagged with its side (a map), the two are unioned, keyed by the side's key selector
 * and windowed; when a window fires, its elements are split by side and handed to the function. So the
 * window semantics (assigners, triggers, lateness, merging sessions, state in checkpoints and on rescale)
 * are exactly those of `keyBy(...).window(...)`.
 */
export class CoGroupWithWindow<In1, In2, K extends Key, W extends Window> {
  private windowTrigger: Trigger<TaggedUnion<In1, In2>, W> | undefined
  private windowEvictor: Evictor<TaggedUnion<In1, In2>, W> | undefined
  private lateness: number | undefined

  /** @internal */
  constructor(
    private readonly first: DataStream<In1>,
    private readonly second: DataStream<In2>,
    private readonly keySelector1: KeySelector<In1, K>,
    private readonly keySelector2: KeySelector<In2, K>,
    private readonly assigner: WindowAssigner<TaggedUnion<In1, In2>, W>,
  ) {}

  /** Replaces the assigner's default trigger. */
  trigger(trigger: Trigger<TaggedUnion<In1, In2>, W>): this {
    this.windowTrigger = trigger
    return this
  }

  /** Removes elements of the fired window before and/or after the function runs. */
  evictor(evictor: Evictor<TaggedUnion<In1, In2>, W>): this {
    this.windowEvictor = evictor
    return this
  }

  /** How long after its end a window still accepts late elements (each one fires it again). Default 0. */
  allowedLateness(lateness: number): this {
    this.lateness = lateness
    return this
  }

  /** Calls `fn` once per key and fired window with the elements of each side. */
  apply<Out>(fn: CoGroupFunction<In1, In2, Out>, name?: string): SingleOutputStream<Out> {
    if (typeof fn !== 'function') throw new JobGraphError(`coGroup apply: expected a function (first, second, out) => void, got ${String(fn)}`)
    const tagged1 = this.first.map<TaggedUnion<In1, In2>>((value) => ({ input: 1, value }), 'Map (tag input 1)')
    const tagged2 = this.second.map<TaggedUnion<In1, In2>>((value) => ({ input: 2, value }), 'Map (tag input 2)')
    const key1 = this.keySelector1
    const key2 = this.keySelector2
    const windowed = tagged1
      .union(tagged2)
      .keyBy<K>((element) => (element.input === 1 ? key1(element.value) : key2(element.value)))
      .window(this.assigner)
    if (this.windowTrigger !== undefined) windowed.trigger(this.windowTrigger)
    if (this.windowEvictor !== undefined) windowed.evictor(this.windowEvictor)
    if (this.lateness !== undefined) windowed.allowedLateness(this.lateness)
    // Flink's CoGroupWindowFunction: split the window's elements by side, keep their order.
    const result = windowed.apply<Out>((_key: K, _window: W, elements: readonly TaggedUnion<In1, In2>[], out: Collector<Out>) => {
      const ones: In1[] = []
      const twos: In2[] = []
      for (const element of elements) {
        if (element.input === 1) ones.push(element.value)
        else twos.push(element.value)
      }
      fn(ones, twos, out)
    })
    return name === undefined ? result : result.name(name)
  }
}

function checkKeySelector(method: string, keySelector: unknown): void {
  if (typeof keySelector !== 'function') throw new JobGraphError(`${method}(...): expected a key selector function, got ${String(keySelector)}`)
}
