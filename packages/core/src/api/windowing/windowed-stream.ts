import { ConfigError, JobGraphError } from '../../errors.js'
import { perSubtaskInstance } from '../../runtime/abstract-stream-operator.js'
import { type WindowContents, WindowOperator, type WindowOperatorSpec } from '../../runtime/operators/window-operator.js'
import type { StreamOperator } from '../../runtime/stream-operator.js'
import type { KeyedStream, SingleOutputStream } from '../data-stream.js'
import type { KeySelector, OutputTag, ReduceFunction } from '../functions.js'
import type { AggregateFunction, Key } from '../state.js'
import type { Evictor } from './evictor.js'
import type {
  AllWindowFunction,
  ProcessAllWindowFunction,
  ProcessWindowFunction,
  WindowFunction,
} from './process-window-function.js'
import type { Trigger } from './trigger.js'
import type { Window } from './window.js'
import { isMergingWindowAssigner, type WindowAssigner } from './window-assigner.js'

/** How a windowed stream adds its operator; implemented by DataStream (kept out of this module to avoid an import cycle). */
interface OperatorSink {
  /** @internal */
  transformOneInput<R>(name: string, createOperator: (uid: string, name: string) => StreamOperator, nonParallel?: boolean): SingleOutputStream<R>
}

/** What WindowedStream and AllWindowedStream share: the builder settings and their checks (Flink's). */
abstract class WindowedStreamBase<T, W extends Window> {
  protected windowTrigger: Trigger<T, W>
  protected windowEvictor: Evictor<T, W> | undefined
  protected lateness = 0
  protected lateDataTag: OutputTag<T> | undefined

  constructor(protected readonly assigner: WindowAssigner<T, W>) {
    this.windowTrigger = assigner.getDefaultTrigger()
  }

  /** Replaces the assigner's default trigger. A merging assigner (sessions) needs a trigger that can merge. */
  trigger(trigger: Trigger<T, W>): this {
    if (isMergingWindowAssigner(this.assigner) && !trigger.canMerge()) {
      throw new JobGraphError(`A merging window assigner cannot be used with a trigger that does not support merging: ${trigger.toString()} with ${this.assigner.toString()}`)
    }
    this.windowTrigger = trigger
    return this
  }

  /** Removes elements before and/or after the window function runs; the window then keeps every element. */
  evictor(evictor: Evictor<T, W>): this {
    this.windowEvictor = evictor
    return this
  }

  /**
   * How long (ms of event time) after its end a window still accepts late elements: each one re-fires
   * the window with the default trigger; the window's state is dropped at `maxTimestamp + lateness`.
   * Default 0. Only event-time windows have lateness.
   */
  allowedLateness(lateness: number): this {
    if (typeof lateness !== 'number' || !Number.isInteger(lateness) || lateness < 0) {
      throw new ConfigError('allowedLateness', `The allowed lateness cannot be negative (integer ms >= 0), got ${String(lateness)}`)
    }
    this.lateness = lateness
    return this
  }

  /** Elements dropped as late go to this side output (read it with `getSideOutput(tag)` on the result) instead of being dropped. */
  sideOutputLateData(tag: OutputTag<T>): this {
    this.lateDataTag = tag
    return this
  }

  protected spec(contents: WindowContents, windowFunction: WindowOperatorSpec['windowFunction']): WindowOperatorSpec {
    return {
      assigner: this.assigner as unknown as WindowAssigner<unknown, Window>,
      trigger: this.windowTrigger as unknown as Trigger<unknown, Window>,
      evictor: this.windowEvictor as unknown as Evictor<unknown, Window> | undefined,
      allowedLateness: this.lateness,
      lateDataTag: this.lateDataTag?.id,
      contents,
      windowFunction,
    }
  }

  protected operatorName(functionName: string): string {
    const evictor = this.windowEvictor === undefined ? '' : `, ${this.windowEvictor.constructor.name}`
    return `Window(${this.assigner.toString()}, ${this.windowTrigger.toString()}${evictor}, ${functionName})`
  }
}

type AnyProcessWindowFunction = ProcessWindowFunction<unknown, unknown, Key, Window>

/** A ProcessWindowFunction from the older WindowFunction. */
function fromWindowFunction(fn: WindowFunction<unknown, unknown, Key, Window>): AnyProcessWindowFunction {
  return { process: (key, context, elements, out) => fn(key, context.window(), elements, out) }
}

function checkFunction(what: string, fn: unknown): void {
  if (fn === null || (typeof fn !== 'function' && typeof fn !== 'object')) throw new ConfigError(what, `expected a function, got ${String(fn)}`)
}

function checkAggregate(aggregate: AggregateFunction<unknown, unknown, unknown>): void {
  for (const method of ['createAccumulator', 'add', 'getResult', 'merge'] as const) {
    if (typeof aggregate?.[method] !== 'function') throw new ConfigError('aggregate', `an AggregateFunction needs createAccumulator, add, getResult and merge; ${method} is missing`)
  }
}

/**
 * A keyed stream cut into windows: Flink's `WindowedStream`, built with `keyed.window(assigner)`.
 *
 * ```ts
 * keyed
 *   .window(TumblingEventTimeWindows.of(5000))
 *   .allowedLateness(2000)
 *   .sideOutputLateData(late)
 *   .aggregate(count, new LabelWithWindow())
 * ```
 * `reduce` and `aggregate` keep one value per window (incremental); `process` keeps every element.
 * Windows, their contents and pending timers are keyed state: they are in checkpoints and move with
 * their keys on a restore at another parallelism.
 */
export class WindowedStream<T, K extends Key, W extends Window> extends WindowedStreamBase<T, W> {
  constructor(
    private readonly input: KeyedStream<T, K> & OperatorSink,
    assigner: WindowAssigner<T, W>,
  ) {
    super(assigner)
  }

  /** Reduces each window incrementally; emits the reduced value, or passes it to `windowFunction`. */
  reduce(fn: ReduceFunction<T>): SingleOutputStream<T>
  reduce<R>(fn: ReduceFunction<T>, windowFunction: ProcessWindowFunction<T, R, K, W> | WindowFunction<T, R, K, W>): SingleOutputStream<R>
  reduce<R>(fn: ReduceFunction<T>, windowFunction?: ProcessWindowFunction<T, R, K, W> | WindowFunction<T, R, K, W>): SingleOutputStream<R | T> {
    checkFunction('reduce', fn)
    return this.build<R | T>('reduce', { kind: 'reduce', reduce: fn as ReduceFunction<unknown> }, windowFunction)
  }

  /** Aggregates each window incrementally; emits the result, or passes it to `windowFunction`. */
  aggregate<A, R>(aggregate: AggregateFunction<T, A, R>): SingleOutputStream<R>
  aggregate<A, V, R>(aggregate: AggregateFunction<T, A, V>, windowFunction: ProcessWindowFunction<V, R, K, W> | WindowFunction<V, R, K, W>): SingleOutputStream<R>
  aggregate<A, V, R>(aggregate: AggregateFunction<T, A, V>, windowFunction?: ProcessWindowFunction<V, R, K, W> | WindowFunction<V, R, K, W>): SingleOutputStream<R | V> {
    checkAggregate(aggregate as AggregateFunction<unknown, unknown, unknown>)
    return this.build<R | V>('aggregate', { kind: 'aggregate', aggregate: aggregate as AggregateFunction<unknown, unknown, unknown> }, windowFunction)
  }

  /** Evaluates each window with all its elements. */
  process<R>(fn: ProcessWindowFunction<T, R, K, W>): SingleOutputStream<R> {
    checkFunction('process', fn)
    return this.build('process', { kind: 'list' }, fn)
  }

  /** Evaluates each window with all its elements, with the older function signature. */
  apply<R>(fn: WindowFunction<T, R, K, W>): SingleOutputStream<R> {
    checkFunction('apply', fn)
    return this.build('apply', { kind: 'list' }, fn)
  }

  private build<R>(
    label: string,
    contents: WindowContents,
    windowFunction: ProcessWindowFunction<never, R, K, W> | WindowFunction<never, R, K, W> | undefined,
  ): SingleOutputStream<R> {
    if (windowFunction !== undefined) checkFunction(`${label} window function`, windowFunction)
    const keySelector = this.input.keySelector as KeySelector<unknown, Key>
    const fn =
      windowFunction === undefined
        ? undefined
        : typeof windowFunction === 'function'
          ? fromWindowFunction(windowFunction as unknown as WindowFunction<unknown, unknown, Key, Window>)
          : (windowFunction as unknown as AnyProcessWindowFunction)
    const spec = this.spec(contents, fn)
    return this.input.transformOneInput<R>(this.operatorName(label), (uid, name) => new WindowOperator(uid, name, keySelector, spec))
  }
}

/**
 * A non-keyed stream cut into windows: Flink's `AllWindowedStream`, built with `stream.windowAll(assigner)`.
 * All elements go to one subtask (the window operator has parallelism 1).
 */
export class AllWindowedStream<T, W extends Window> extends WindowedStreamBase<T, W> {
  constructor(
    /** The input keyed by a constant, so that window state is keyed state like in WindowedStream. */
    private readonly input: KeyedStream<T, number> & OperatorSink,
    assigner: WindowAssigner<T, W>,
  ) {
    super(assigner)
  }

  reduce(fn: ReduceFunction<T>): SingleOutputStream<T>
  reduce<R>(fn: ReduceFunction<T>, windowFunction: ProcessAllWindowFunction<T, R, W> | AllWindowFunction<T, R, W>): SingleOutputStream<R>
  reduce<R>(fn: ReduceFunction<T>, windowFunction?: ProcessAllWindowFunction<T, R, W> | AllWindowFunction<T, R, W>): SingleOutputStream<R | T> {
    checkFunction('reduce', fn)
    return this.build<R | T>('reduce', { kind: 'reduce', reduce: fn as ReduceFunction<unknown> }, windowFunction)
  }

  aggregate<A, R>(aggregate: AggregateFunction<T, A, R>): SingleOutputStream<R>
  aggregate<A, V, R>(aggregate: AggregateFunction<T, A, V>, windowFunction: ProcessAllWindowFunction<V, R, W> | AllWindowFunction<V, R, W>): SingleOutputStream<R>
  aggregate<A, V, R>(aggregate: AggregateFunction<T, A, V>, windowFunction?: ProcessAllWindowFunction<V, R, W> | AllWindowFunction<V, R, W>): SingleOutputStream<R | V> {
    checkAggregate(aggregate as AggregateFunction<unknown, unknown, unknown>)
    return this.build<R | V>('aggregate', { kind: 'aggregate', aggregate: aggregate as AggregateFunction<unknown, unknown, unknown> }, windowFunction)
  }

  process<R>(fn: ProcessAllWindowFunction<T, R, W>): SingleOutputStream<R> {
    checkFunction('process', fn)
    return this.build('process', { kind: 'list' }, fn)
  }

  apply<R>(fn: AllWindowFunction<T, R, W>): SingleOutputStream<R> {
    checkFunction('apply', fn)
    return this.build('apply', { kind: 'list' }, fn)
  }

  private build<R>(
    label: string,
    contents: WindowContents,
    windowFunction: ProcessAllWindowFunction<never, R, W> | AllWindowFunction<never, R, W> | undefined,
  ): SingleOutputStream<R> {
    if (windowFunction !== undefined) checkFunction(`${label} window function`, windowFunction)
    const keySelector = this.input.keySelector as KeySelector<unknown, Key>
    const createOperator = (uid: string, name: string) => {
      let fn: AnyProcessWindowFunction | undefined
      if (typeof windowFunction === 'function') {
        const apply = windowFunction as unknown as AllWindowFunction<unknown, unknown, Window>
        fn = { process: (_key, context, elements, out) => apply(context.window(), elements, out) }
      } else if (windowFunction !== undefined) {
        // The user's function as this subtask sees it; the adapter forwards its lifecycle.
        const user = perSubtaskInstance(windowFunction as unknown as ProcessAllWindowFunction<unknown, unknown, Window>)
        fn = {
          open: (context) => user.open?.(context),
          close: () => user.close?.(),
          process: (_key, context, elements, out) => user.process(context, elements, out),
          clear: (context) => user.clear?.(context),
        }
      }
      return new WindowOperator(uid, name, keySelector, this.spec(contents, fn))
    }
    return this.input.transformOneInput<R>(this.operatorName(label), createOperator, true)
  }
}
