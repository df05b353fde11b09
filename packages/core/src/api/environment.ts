import { datagenSource, type DatagenSourceOptions } from '../connectors/datagen-source.js'
import { fromElementsSource } from '../connectors/from-elements-source.js'
import { socketTextSource, type SocketTextSourceOptions } from '../connectors/socket-text-source.js'
import { JobGraphError } from '../errors.js'
import { buildJobGraph } from '../runtime/job-graph.js'
import { runJob } from '../runtime/job-runner.js'
import type { PhysicalTransformation } from '../runtime/transformation.js'
import { type EnvironmentOptions, type ResolvedEnvironmentOptions, resolveEnvironmentOptions } from './config.js'
import { SingleOutputStream, type StreamGraphBuilder } from './data-stream.js'
import type { JobHandle } from './job-handle.js'
import type { AnySource } from './source.js'
import type { WatermarkStrategy } from './watermark-strategy.js'

/** Options of {@link StreamExecutionEnvironment.fromSource}. */
export interface FromSourceOptions<T> {
  /** Timestamps and watermarks made at the source, per split. Default: none (only the reader's own watermarks). */
  watermarkStrategy?: WatermarkStrategy<T>
}

/**
 * Where a job is built and started: Flink's StreamExecutionEnvironment.
 *
 * ```ts
 * const env = StreamExecutionEnvironment.create({ parallelism: 2, checkpointing: { interval: 1000 } })
 * env.fromElements(1, 2, 3).map((n) => n * 2).sinkTo(sink)
 * const job = env.execute('doubler')
 * await job.result
 * ```
 * Options are validated in `create`, the job graph in `execute`, both before anything opens.
 */
export class StreamExecutionEnvironment implements StreamGraphBuilder {
  private readonly sinks: PhysicalTransformation[] = []
  private idCounter = 0
  private executed = false

  private constructor(readonly options: ResolvedEnvironmentOptions) {}

  static create(options: EnvironmentOptions = {}): StreamExecutionEnvironment {
    return new StreamExecutionEnvironment(resolveEnvironmentOptions(options))
  }

  /** @internal */
  nextId(): number {
    return ++this.idCounter
  }

  /** @internal */
  addSink(transformation: PhysicalTransformation): void {
    this.sinks.push(transformation)
  }

  /**
   * A stream from any {@link Source}. With `options.watermarkStrategy` (or Flink's form
   * `fromSource(source, strategy, name)`) each source subtask assigns timestamps and makes watermarks,
   * per split when the reader uses split outputs (see `SplitAwareReaderOutput`), the source's
   * watermark being the minimum over its splits (idle ones excluded).
   */
  fromSource<T>(source: AnySource<T>, name?: string, options?: FromSourceOptions<NoInfer<T>>): SingleOutputStream<T>
  fromSource<T>(source: AnySource<T>, watermarkStrategy: WatermarkStrategy<NoInfer<T>>, name?: string): SingleOutputStream<T>
  fromSource<T>(source: AnySource<T>, nameOrStrategy?: string | WatermarkStrategy<T>, nameOrOptions?: string | FromSourceOptions<T>): SingleOutputStream<T> {
    let name = 'Source'
    let strategy: WatermarkStrategy<T> | undefined
    if (typeof nameOrStrategy === 'object' && nameOrStrategy !== null) {
      strategy = nameOrStrategy
      if (typeof nameOrOptions === 'string') name = nameOrOptions
    } else {
      if (typeof nameOrStrategy === 'string') name = nameOrStrategy
      if (typeof nameOrOptions === 'object' && nameOrOptions !== null) strategy = nameOrOptions.watermarkStrategy
    }
    if (strategy !== undefined && typeof strategy.createWatermarkGenerator !== 'function') {
      throw new JobGraphError(`fromSource '${name}': watermarkStrategy must be a WatermarkStrategy, got ${String(strategy)}`)
    }
    return new SingleOutputStream<T>(this, {
      kind: 'source',
      id: this.nextId(),
      name,
      uid: undefined,
      parallelism: undefined,
      source: source as AnySource<unknown>,
      ...(strategy === undefined
        ? {}
        : { watermarks: { strategy: strategy as WatermarkStrategy<unknown>, autoWatermarkInterval: this.options.autoWatermarkInterval } }),
    })
  }

  /** A bounded stream of the given values. */
  fromElements<T>(...values: T[]): SingleOutputStream<T> {
    return this.fromSource(fromElementsSource(values), 'Elements')
  }

  /** A bounded stream of the values of an iterable (read once, when the job is built). */
  fromIterable<T>(values: Iterable<T>, name = 'Collection'): SingleOutputStream<T> {
    return this.fromSource(fromElementsSource(values), name)
  }

  /** Deterministic generated data: see {@link datagenSource}. */
  datagen<T>(options: DatagenSourceOptions<T>, name = 'Datagen'): SingleOutputStream<T> {
    return this.fromSource(datagenSource(options), name)
  }

  /** Lines of text read from a TCP socket (the seed's `socketTextStream`); at-most-once across failures. */
  socketTextStream(host: string, port: number, options?: SocketTextSourceOptions): SingleOutputStream<string> {
    return this.fromSource(socketTextSource(host, port, options), `Socket Stream ${host}:${port}`).setParallelism(1)
  }

  /**
   * Builds the job graph and starts the job; returns its handle at once. Graph errors (no sink,
   * duplicate uids, unbounded source in BATCH mode) throw here.
   */
  execute(jobName = 'sluice-job'): JobHandle {
    if (this.executed) throw new JobGraphError('this environment was already executed; create a new one per job')
    if (!/^[A-Za-z0-9._-]+$/.test(jobName)) {
      throw new JobGraphError(`job name '${jobName}' must use letters, digits, '.', '_' or '-' (it names the checkpoint directory)`)
    }
    this.executed = true
    const graph = buildJobGraph(this.sinks, this.options.parallelism, this.options.chaining)
    return runJob(jobName, graph, this.options)
  }
}
