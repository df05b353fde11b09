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

  /** A stream from any {@link Source}. */
  fromSource<T>(source: AnySource<T>, name = 'Source'): SingleOutputStream<T> {
    return new SingleOutputStream<T>(this, {
      kind: 'source',
      id: this.nextId(),
      name,
      uid: undefined,
      parallelism: undefined,
      source: source as AnySource<unknown>,
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
