import { printSink } from '../connectors/print-sink.js'
import { JobGraphError } from '../errors.js'
import { CoProcessOperator } from '../runtime/operators/co-process-operator.js'
import { KeyedProcessOperator, ProcessOperator } from '../runtime/operators/process-operator.js'
import { KeyedReduceOperator } from '../runtime/operators/keyed-reduce-operator.js'
import { SinkWriterOperator } from '../runtime/operators/sink-writer-operator.js'
import { FilterOperator, FlatMapOperator, MapOperator } from '../runtime/operators/stateless-operators.js'
import type { StreamOperator } from '../runtime/stream-operator.js'
import type { PhysicalTransformation, Transformation } from '../runtime/transformation.js'
import type {
  CoProcessFunction,
  Collector,
  FilterFunction,
  FlatMapFunction,
  KeyedCoProcessFunction,
  KeyedProcessFunction,
  KeySelector,
  MapFunction,
  OutputTag,
  ProcessFunction,
  ReduceFunction,
} from './functions.js'
import type { Sink } from './sink.js'
import type { Key, MapStateDescriptor } from './state.js'
// ---- joins and broadcast state (issue 6) ----
import { BroadcastConnectedStream, KeyedBroadcastConnectedStream } from './broadcast-connected-stream.js'
import { BroadcastStream } from './broadcast-stream.js'
import { IntervalJoin } from './interval-join.js'
import { CoGroupedStreams } from './co-grouped-streams.js'
import { JoinedStreams } from './joined-streams.js'
// ---- event time and windows (issue 6) ----
import { TimestampsAndWatermarksOperator } from '../runtime/operators/timestamps-and-watermarks-operator.js'
import type { WatermarkStrategy } from './watermark-strategy.js'
import type { Window } from './windowing/window.js'
import type { WindowAssigner } from './windowing/window-assigner.js'
import { AllWindowedStream, WindowedStream } from './windowing/windowed-stream.js'
import { CountEvictor } from './windowing/count-evictor.js'
import { CountTrigger } from './windowing/count-trigger.js'
import type { GlobalWindow } from './windowing/global-window.js'
import { GlobalWindows } from './windowing/global-windows.js'
import { PurgingTrigger } from './windowing/purging-trigger.js'

/** What a DataStream needs from its environment: ids for new transformations and the list of sinks. */
export interface StreamGraphBuilder {
  nextId(): number
  addSink(transformation: PhysicalTransformation): void
  /** Environment options operators need when the plan is built (the environment's resolved options). */
  readonly options?: { readonly autoWatermarkInterval: number }
}

/**
 * A stream of records of type `T`: the result of a source or a transformation. Methods build the
 * job's plan; nothing runs until `env.execute()`. Flink's DataStream, with the same method names.
 */
export class DataStream<T> {
  constructor(
    /** @internal */ readonly builder: StreamGraphBuilder,
    /** @internal */ readonly transformation: Transformation,
  ) {}

  /** One output per record. */
  map<R>(fn: MapFunction<T, R>, name = 'Map'): SingleOutputStream<R> {
    return this.oneInput(name, (uid, n) => new MapOperator(uid, n, fn as MapFunction<unknown, unknown>))
  }

  /** Keeps the records for which `fn` is true. */
  filter(fn: FilterFunction<T>, name = 'Filter'): SingleOutputStream<T> {
    return this.oneInput(name, (uid, n) => new FilterOperator(uid, n, fn as FilterFunction<unknown>))
  }

  /** Any number of outputs per record. */
  flatMap<R>(fn: FlatMapFunction<T, R>, name = 'Flat Map'): SingleOutputStream<R> {
    return this.oneInput(name, (uid, n) => new FlatMapOperator(uid, n, fn as FlatMapFunction<unknown, unknown>))
  }

  /** A ProcessFunction: per-record logic with side outputs. For keyed state and timers, `keyBy` first. */
  process<R>(fn: ProcessFunction<T, R>, name = 'Process'): SingleOutputStream<R> {
    return this.oneInput(name, (uid, n) => new ProcessOperator(uid, n, fn as ProcessFunction<unknown, unknown>))
  }

  /** Partitions by key: records with the same key go to the same subtask and share keyed state. */
  keyBy<K extends Key>(keySelector: KeySelector<T, K>): KeyedStream<T, K> {
    return new KeyedStream<T, K>(this.builder, {
      kind: 'partition',
      id: this.builder.nextId(),
      input: this.transformation,
      partitioning: { type: 'hash', keySelector: keySelector as KeySelector<unknown, Key> },
    }, keySelector)
  }

  /** Spreads records round-robin over the next operator's subtasks. */
  rebalance(): DataStream<T> {
    return this.partition({ type: 'rebalance' })
  }

  /** Sends every record to every subtask of the next operator. */
  broadcast(): DataStream<T>
  /**
   * Broadcasts the stream with broadcast state: connect a stream to the result
   * (`stream.connect(broadcastStream).process(fn)`) and every subtask of that operator gets every record
   * of this stream and keeps a {@link BroadcastState} per descriptor (Flink's `broadcast(descriptors...)`).
   */
  // biome-ignore lint/suspicious/noExplicitAny: descriptors of any key and value types
  broadcast(...descriptors: [MapStateDescriptor<any, any>, ...MapStateDescriptor<any, any>[]]): BroadcastStream<T>
  // biome-ignore lint/suspicious/noExplicitAny: descriptors of any key and value types
  broadcast(...descriptors: MapStateDescriptor<any, any>[]): DataStream<T> | BroadcastStream<T> {
    const partitioned = this.partition({ type: 'broadcast' })
    return descriptors.length === 0 ? partitioned : new BroadcastStream(partitioned, descriptors)
  }

  /** Subtask i feeds subtask i of the next operator (equal parallelism required). */
  forward(): DataStream<T> {
    return this.partition({ type: 'forward' })
  }

  /** Merges streams of the same type. */
  union(...others: DataStream<T>[]): DataStream<T> {
    return new DataStream<T>(this.builder, {
      kind: 'union',
      id: this.builder.nextId(),
      inputs: [this.transformation, ...others.map((o) => o.transformation)],
    })
  }

  /** Connects a broadcast stream: `process` a {@link BroadcastProcessFunction} with broadcast state. */
  connect<U>(other: BroadcastStream<U>): BroadcastConnectedStream<T, U>
  /** Connects two streams of possibly different types for a CoProcessFunction (or coMap/coFlatMap). */
  connect<U>(other: DataStream<U>): ConnectedStreams<T, U>
  connect<U>(other: DataStream<U> | BroadcastStream<U>): ConnectedStreams<T, U> | BroadcastConnectedStream<T, U> {
    if (other instanceof BroadcastStream) return new BroadcastConnectedStream<T, U>(this, other)
    return new ConnectedStreams(this.builder, this, other)
  }

  /** Writes the stream into a sink. */
  sinkTo(sink: Sink<T>, name = 'Sink'): DataStreamSink {
    const t: PhysicalTransformation = {
      kind: 'one-input',
      id: this.builder.nextId(),
      name,
      uid: undefined,
      parallelism: undefined,
      input: this.transformation,
      isSink: true,
      sink: sink as Sink<unknown>,
      createOperator: (uid, n) => new SinkWriterOperator(uid, n, sink as Sink<unknown>),
    }
    this.builder.addSink(t)
    return new DataStreamSink(t)
  }

  /** Prints every record to stdout (Flink's `print()`): `2> value` with parallelism > 1. At-least-once. */
  print(prefix?: string): DataStreamSink {
    return this.sinkTo(printSink<T>(prefix === undefined ? {} : { prefix }), 'Print to Std. Out')
  }

  /** @internal */
  protected oneInput<R>(name: string, createOperator: (uid: string, name: string) => StreamOperator): SingleOutputStream<R> {
    return new SingleOutputStream<R>(this.builder, {
      kind: 'one-input',
      id: this.builder.nextId(),
      name,
      uid: undefined,
      parallelism: undefined,
      input: this.transformation,
      isSink: false,
      createOperator,
    })
  }

  private partition(partitioning: { type: 'rebalance' } | { type: 'broadcast' } | { type: 'forward' }): DataStream<T> {
    return new DataStream<T>(this.builder, { kind: 'partition', id: this.builder.nextId(), input: this.transformation, partitioning })
  }

  // ---------------------------------------------------------------- joins and broadcast state (issue 6)

  /**
   * A window join with `other`: `a.join(b).where(keyOfA).equalTo(keyOfB).window(assigner).apply(fn)`
   * (Flink's inner window join; every pair with equal keys in the same window, once per window).
   */
  join<U>(other: DataStream<U>): JoinedStreams<T, U> {
    return new JoinedStreams<T, U>(this, other)
  }

  /**
   * Groups this stream and `other` by key and window: `a.coGroup(b).where(..).equalTo(..).window(..).apply(fn)`;
   * the function gets both sides' elements of each fired window, one side possibly empty.
   */
  coGroup<U>(other: DataStream<U>): CoGroupedStreams<T, U> {
    return new CoGroupedStreams<T, U>(this, other)
  }

  /**
   * @internal A two-input operator with this stream as input 1 and `input2` as input 2: how the join and
   * broadcast builders (in their own files) add their operators without importing this module.
   */
  twoInput<R>(input2: Transformation, name: string, createOperator: (uid: string, name: string) => StreamOperator): SingleOutputStream<R> {
    return new SingleOutputStream<R>(this.builder, {
      kind: 'two-input',
      id: this.builder.nextId(),
      name,
      uid: undefined,
      parallelism: undefined,
      input1: this.transformation,
      input2,
      createOperator,
    })
  }

  // ---------------------------------------------------------------- event time and windows (issue 6)

  /**
   * Gives every record the event timestamp of `strategy`'s assigner and makes watermarks with its
   * generator from here on (one generator per subtask); watermarks from upstream are replaced, except
   * the final one of a bounded input. Prefer a strategy at the source (`fromSource`), which works per split.
   */
  assignTimestampsAndWatermarks(strategy: WatermarkStrategy<T>, name = 'Timestamps/Watermarks'): SingleOutputStream<T> {
    if (strategy === null || typeof strategy !== 'object' || typeof strategy.createWatermarkGenerator !== 'function') {
      throw new JobGraphError(`assignTimestampsAndWatermarks: expected a WatermarkStrategy, got ${String(strategy)}`)
    }
    const interval = this.builder.options?.autoWatermarkInterval ?? 200
    return this.oneInput(name, (uid, n) => new TimestampsAndWatermarksOperator(uid, n, strategy as WatermarkStrategy<unknown>, interval))
  }

  /**
   * Cuts the whole (non-keyed) stream into windows, evaluated by one subtask: Flink's `windowAll`.
   * For keyed windows, `keyBy(...).window(assigner)`.
   */
  windowAll<W extends Window>(assigner: WindowAssigner<T, W>): AllWindowedStream<T, W> {
    return new AllWindowedStream<T, W>(this.keyBy(() => 0), assigner)
  }

  /**
   * Count windows over the whole stream (Flink's `countWindowAll`): tumbling windows of `size`
   * elements, or with `slide` the last `size` elements every `slide` elements.
   */
  countWindowAll(size: number, slide?: number): AllWindowedStream<T, GlobalWindow> {
    const windowed = this.windowAll(GlobalWindows.create() as WindowAssigner<T, GlobalWindow>)
    if (slide === undefined) return windowed.trigger(PurgingTrigger.of(CountTrigger.of<GlobalWindow>(size)))
    return windowed.evictor(CountEvictor.of<GlobalWindow>(size)).trigger(CountTrigger.of<GlobalWindow>(slide))
  }

  /**
   * @internal Adds a one-input operator after this stream (how the window builders, in their own
   * files, add theirs); `nonParallel` pins its parallelism to 1.
   */
  transformOneInput<R>(name: string, createOperator: (uid: string, name: string) => StreamOperator, nonParallel = false): SingleOutputStream<R> {
    const stream = this.oneInput<R>(name, createOperator)
    if (nonParallel) {
      const transformation = stream.transformation as PhysicalTransformation & { nonParallel?: boolean }
      transformation.parallelism = 1
      transformation.nonParallel = true
    }
    return stream
  }
}

/** A stream produced by one operator: its name, uid and parallelism can be set, and its side outputs read. */
export class SingleOutputStream<T> extends DataStream<T> {
  private get physical(): PhysicalTransformation {
    return this.transformation as PhysicalTransformation
  }

  /** The operator's name in task names, logs and errors. */
  name(name: string): this {
    this.physical.name = name
    return this
  }

  /** A stable id for the operator's state in checkpoints and savepoints; set it on stateful operators you may move. */
  uid(uid: string): this {
    this.physical.uid = uid
    return this
  }

  setParallelism(parallelism: number): this {
    if (!Number.isInteger(parallelism) || parallelism < 1) {
      throw new JobGraphError(`operator '${this.physical.name}': parallelism must be an integer >= 1, got ${parallelism}`)
    }
    // windowAll and other non-parallel operators (issue 6)
    if ((this.physical as { nonParallel?: boolean }).nonParallel === true && parallelism !== 1) {
      throw new JobGraphError(`operator '${this.physical.name}': the parallelism of a non-parallel operator (windowAll) must be 1, got ${parallelism}`)
    }
    this.physical.parallelism = parallelism
    return this
  }

  /** Records the operator emitted with `context.output(tag, value)`. */
  getSideOutput<X>(tag: OutputTag<X>): DataStream<X> {
    return new DataStream<X>(this.builder, { kind: 'side-output', id: this.builder.nextId(), input: this.transformation, tagId: tag.id })
  }
}

/** A stream partitioned by key: keyed state and timers are available to its operators. */
export class KeyedStream<T, K extends Key> extends DataStream<T> {
  constructor(builder: StreamGraphBuilder, transformation: Transformation, readonly keySelector: KeySelector<T, K>) {
    super(builder, transformation)
  }

  /** A KeyedProcessFunction: keyed state, timers, side outputs. */
  override process<R>(fn: KeyedProcessFunction<K, T, R> | ProcessFunction<T, R>, name = 'Keyed Process'): SingleOutputStream<R> {
    const keySelector = this.keySelector as KeySelector<unknown, Key>
    return this.oneInput(name, (uid, n) => new KeyedProcessOperator(uid, n, keySelector, fn as KeyedProcessFunction<Key, unknown, unknown>))
  }

  /** Emits the running reduction of each key after every record. */
  reduce(fn: ReduceFunction<T>, name = 'Reduce'): SingleOutputStream<T> {
    const keySelector = this.keySelector as KeySelector<unknown, Key>
    return this.oneInput(name, (uid, n) => new KeyedReduceOperator(uid, n, keySelector, fn as ReduceFunction<unknown>))
  }

  // ---------------------------------------------------------------- joins and broadcast state (issue 6)

  /**
   * Joins this keyed stream with another keyed by the same key type on event time:
   * `.intervalJoin(other).between(lower, upper).process(fn)` (Flink's interval join).
   */
  intervalJoin<U>(other: KeyedStream<U, K>): IntervalJoin<T, U, K> {
    if (!(other instanceof KeyedStream)) throw new JobGraphError('intervalJoin(...): the other stream must be keyed too (call keyBy on it)')
    return new IntervalJoin<T, U, K>(this, other)
  }

  /** Connects a broadcast stream: `process` a {@link KeyedBroadcastProcessFunction} (keyed state, timers, applyToKeyedState). */
  override connect<U>(other: BroadcastStream<U>): KeyedBroadcastConnectedStream<T, U, K>
  override connect<U>(other: DataStream<U>): ConnectedStreams<T, U>
  override connect<U>(other: DataStream<U> | BroadcastStream<U>): ConnectedStreams<T, U> | KeyedBroadcastConnectedStream<T, U, K> {
    if (other instanceof BroadcastStream) return new KeyedBroadcastConnectedStream<T, U, K>(this, other, this.keySelector)
    return new ConnectedStreams(this.builder, this, other)
  }

  // ---------------------------------------------------------------- event time and windows (issue 6)

  /**
   * Cuts each key's records into windows of `assigner` (Flink's `keyBy(...).window(...)`); finish with
   * `reduce`, `aggregate`, `process` or `apply`.
   */
  window<W extends Window>(assigner: WindowAssigner<T, W>): WindowedStream<T, K, W> {
    if (assigner === null || typeof assigner !== 'object' || typeof assigner.assignWindows !== 'function') {
      throw new JobGraphError(`window: expected a WindowAssigner (e.g. TumblingEventTimeWindows.of(5000)), got ${String(assigner)}`)
    }
    return new WindowedStream<T, K, W>(this, assigner)
  }

  /**
   * Count windows per key (Flink's `countWindow`): tumbling windows of `size` elements, or with
   * `slide` the last `size` elements of the key every `slide` elements.
   */
  countWindow(size: number, slide?: number): WindowedStream<T, K, GlobalWindow> {
    const windowed = this.window(GlobalWindows.create() as WindowAssigner<T, GlobalWindow>)
    if (slide === undefined) return windowed.trigger(PurgingTrigger.of(CountTrigger.of<GlobalWindow>(size)))
    return windowed.evictor(CountEvictor.of<GlobalWindow>(size)).trigger(CountTrigger.of<GlobalWindow>(slide))
  }
}

/** Two streams connected for a co-function. */
export class ConnectedStreams<A, B> {
  constructor(
    private readonly builder: StreamGraphBuilder,
    readonly first: DataStream<A>,
    readonly second: DataStream<B>,
  ) {}

  /** Keys both sides so that records of equal keys meet in one subtask with shared keyed state. */
  keyBy<K extends Key>(keyA: KeySelector<A, K>, keyB: KeySelector<B, K>): ConnectedStreams<A, B> {
    return new ConnectedStreams(this.builder, this.first.keyBy(keyA), this.second.keyBy(keyB))
  }

  process<R>(
    fn: CoProcessFunction<A, B, R> | KeyedCoProcessFunction<Key, A, B, R>,
    name = 'Co-Process',
  ): SingleOutputStream<R> {
    const keyA = this.first instanceof KeyedStream ? (this.first.keySelector as KeySelector<unknown, Key>) : undefined
    const keyB = this.second instanceof KeyedStream ? (this.second.keySelector as KeySelector<unknown, Key>) : undefined
    if ((keyA === undefined) !== (keyB === undefined)) {
      throw new JobGraphError(`'${name}': either both connected streams are keyed or neither`)
    }
    return new SingleOutputStream<R>(this.builder, {
      kind: 'two-input',
      id: this.builder.nextId(),
      name,
      uid: undefined,
      parallelism: undefined,
      input1: this.first.transformation,
      input2: this.second.transformation,
      createOperator: (uid, n) =>
        new CoProcessOperator(uid, n, fn as CoProcessFunction<unknown, unknown, unknown>, keyA, keyB),
    })
  }

  /** One function per side, one output per record. */
  map<R>(fn1: MapFunction<A, R>, fn2: MapFunction<B, R>, name = 'Co-Map'): SingleOutputStream<R> {
    const coMap: CoProcessFunction<A, B, R> = {
      processElement1: (value, _context, out) => out.collect(fn1(value)),
      processElement2: (value, _context, out) => out.collect(fn2(value)),
    }
    return this.process<R>(coMap, name)
  }

  /** One function per side, any number of outputs per record. */
  flatMap<R>(fn1: FlatMapFunction<A, R>, fn2: FlatMapFunction<B, R>, name = 'Co-Flat Map'): SingleOutputStream<R> {
    const coFlatMap: CoProcessFunction<A, B, R> = {
      processElement1: (value, _context, out: Collector<R>) => fn1(value, out),
      processElement2: (value, _context, out: Collector<R>) => fn2(value, out),
    }
    return this.process<R>(coFlatMap, name)
  }
}

/** The end of a stream in a sink; its name, uid and parallelism can be set. */
export class DataStreamSink {
  constructor(private readonly transformation: PhysicalTransformation) {}
  name(name: string): this {
    this.transformation.name = name
    return this
  }
  uid(uid: string): this {
    this.transformation.uid = uid
    return this
  }
  setParallelism(parallelism: number): this {
    if (!Number.isInteger(parallelism) || parallelism < 1) {
      throw new JobGraphError(`sink '${this.transformation.name}': parallelism must be an integer >= 1, got ${parallelism}`)
    }
    this.transformation.parallelism = parallelism
    return this
  }
}
