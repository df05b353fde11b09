import { ConfigError } from '../errors.js'
import { describeValue } from '../option-checks.js'
import { type RestartStrategy, validateRestartStrategy } from '../checkpoint/restart-strategy.js'

/** How checkpoints align barriers: Flink's CheckpointingMode. */
export type CheckpointingMode = 'EXACTLY_ONCE' | 'AT_LEAST_ONCE'

/** STREAMING runs forever with checkpoints; BATCH requires bounded sources and commits once at the end. */
export type RuntimeMode = 'STREAMING' | 'BATCH'

/** Periodic checkpointing. Without it, two-phase-commit sinks only commit at the end of bounded input. */
export interface CheckpointingOptions {
  /** Interval between checkpoint triggers, in ms (> 0). */
  interval: number
  /** Default `EXACTLY_ONCE`. */
  mode?: CheckpointingMode
  /** Directory for checkpoints and savepoints. Default `.sluice/checkpoints/<jobName>`. */
  directory?: string
  /** Minimum pause between the end of one checkpoint and the start of the next, in ms. Default 0. */
  minPauseBetweenCheckpoints?: number
  /** A checkpoint not complete after this many ms is aborted. Default 600 000 (Flink's 10 min). */
  timeout?: number
  /** How many checkpoints may fail in a row before the job fails. Default 0. */
  tolerableFailedCheckpoints?: number
  /** Completed checkpoints kept on disk. Default 1 (Flink's `state.checkpoints.num-retained`). */
  retainedCheckpoints?: number
  /** On cancel: keep checkpoints (`RETAIN_ON_CANCELLATION`, default) or delete them. */
  externalizedCleanup?: 'RETAIN_ON_CANCELLATION' | 'DELETE_ON_CANCELLATION'
}

/** Options of a {@link StreamExecutionEnvironment}. */
export interface EnvironmentOptions {
  /** Default parallelism of operators. Default 1. */
  parallelism?: number
  /** Number of key groups: upper bound of the parallelism of keyed operators across restores. Default 128. */
  maxParallelism?: number
  runtimeMode?: RuntimeMode
  checkpointing?: CheckpointingOptions
  /** Default: fixed-delay with unlimited attempts if checkpointing is on, else none (as in Flink). */
  restartStrategy?: RestartStrategy
  /** Restore from this savepoint or checkpoint directory instead of the latest checkpoint. */
  fromSavepoint?: string
  /**
   * Resume from the newest valid checkpoint in the checkpoint directory when the job starts
   * (e.g. after the process was killed). Default true.
   */
  resumeFromLatestCheckpoint?: boolean
  /** Records per batch between tasks. Default 1024. */
  batchSize?: number
  /** Batches buffered per channel before the producer waits (backpressure). Default 8. */
  channelCapacity?: number
  /** Chain operators with forward edges into one task. Default true. */
  chaining?: boolean
  /** Where warnings go (corrupted checkpoints skipped, failed commits). Default `console.warn`. */
  onWarning?: (message: string) => void
  /**
   * How often (ms of processing time) watermark generators get `onPeriodicEmit`: Flink's
   * `pipeline.auto-watermark-interval`. Default 200; 0 turns periodic watermarks off.
   */
  autoWatermarkInterval?: number
}

/** Options after validation, with every default filled in. */
export interface ResolvedEnvironmentOptions {
  parallelism: number
  maxParallelism: number
  runtimeMode: RuntimeMode
  checkpointing:
    | (Required<Omit<CheckpointingOptions, 'directory'>> & { directory: string | undefined })
    | undefined
  restartStrategy: RestartStrategy | undefined
  fromSavepoint: string | undefined
  resumeFromLatestCheckpoint: boolean
  batchSize: number
  channelCapacity: number
  chaining: boolean
  onWarning: (message: string) => void
  autoWatermarkInterval: number
}

const environmentKeys = new Set([
  'parallelism', 'maxParallelism', 'runtimeMode', 'checkpointing', 'restartStrategy', 'fromSavepoint',
  'resumeFromLatestCheckpoint', 'batchSize', 'channelCapacity', 'chaining', 'onWarning', 'autoWatermarkInterval',
])
const checkpointingKeys = new Set([
  'interval', 'mode', 'directory', 'minPauseBetweenCheckpoints', 'timeout', 'tolerableFailedCheckpoints',
  'retainedCheckpoints', 'externalizedCleanup',
])

function rejectUnknownKeys(value: object, known: Set<string>, path: string): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) {
      throw new ConfigError(path ? `${path}.${key}` : key, `unknown option (known: ${[...known].join(', ')})`)
    }
  }
}

/** An integer in [min, max], or the default when undefined. */
export function integerOption(value: unknown, path: string, min: number, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`
    throw new ConfigError(path, `expected an integer ${range}, got ${describeValue(value)}`)
  }
  return value
}

function oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new ConfigError(path, `expected ${allowed.map((a) => `'${a}'`).join(' | ')}, got ${describeValue(value)}`)
  }
  return value as T
}

/** Validates environment options once, before anything runs; errors name the option path. */
export function resolveEnvironmentOptions(options: EnvironmentOptions = {}): ResolvedEnvironmentOptions {
  if (typeof options !== 'object' || options === null) throw new ConfigError('options', `expected an object, got ${describeValue(options)}`)
  rejectUnknownKeys(options, environmentKeys, '')
  const maxParallelism = integerOption(options.maxParallelism, 'maxParallelism', 1, 128, 32768)
  const parallelism = integerOption(options.parallelism, 'parallelism', 1, 1, maxParallelism)
  const runtimeMode = oneOf(options.runtimeMode, 'runtimeMode', ['STREAMING', 'BATCH'] as const, 'STREAMING')
  let checkpointing: ResolvedEnvironmentOptions['checkpointing']
  if (options.checkpointing !== undefined) {
    const c = options.checkpointing
    if (typeof c !== 'object' || c === null) throw new ConfigError('checkpointing', `expected an object, got ${describeValue(c)}`)
    rejectUnknownKeys(c, checkpointingKeys, 'checkpointing')
    if (c.interval === undefined) throw new ConfigError('checkpointing.interval', 'is required (ms between checkpoints)')
    checkpointing = {
      interval: integerOption(c.interval, 'checkpointing.interval', 1, 0),
      mode: oneOf(c.mode, 'checkpointing.mode', ['EXACTLY_ONCE', 'AT_LEAST_ONCE'] as const, 'EXACTLY_ONCE'),
      directory: c.directory === undefined ? undefined : stringOption(c.directory, 'checkpointing.directory'),
      minPauseBetweenCheckpoints: integerOption(c.minPauseBetweenCheckpoints, 'checkpointing.minPauseBetweenCheckpoints', 0, 0),
      timeout: integerOption(c.timeout, 'checkpointing.timeout', 1, 600_000),
      tolerableFailedCheckpoints: integerOption(c.tolerableFailedCheckpoints, 'checkpointing.tolerableFailedCheckpoints', 0, 0),
      retainedCheckpoints: integerOption(c.retainedCheckpoints, 'checkpointing.retainedCheckpoints', 1, 1),
      externalizedCleanup: oneOf(
        c.externalizedCleanup,
        'checkpointing.externalizedCleanup',
        ['RETAIN_ON_CANCELLATION', 'DELETE_ON_CANCELLATION'] as const,
        'RETAIN_ON_CANCELLATION',
      ),
    }
  }
  const restartStrategy =
    options.restartStrategy === undefined ? undefined : validateRestartStrategy(options.restartStrategy, 'restartStrategy')
  return {
    parallelism,
    maxParallelism,
    runtimeMode,
    checkpointing,
    restartStrategy,
    fromSavepoint: options.fromSavepoint === undefined ? undefined : stringOption(options.fromSavepoint, 'fromSavepoint'),
    resumeFromLatestCheckpoint: booleanOption(options.resumeFromLatestCheckpoint, 'resumeFromLatestCheckpoint', true),
    batchSize: integerOption(options.batchSize, 'batchSize', 1, 1024),
    channelCapacity: integerOption(options.channelCapacity, 'channelCapacity', 1, 8),
    chaining: booleanOption(options.chaining, 'chaining', true),
    onWarning: options.onWarning ?? ((message) => console.warn(`[sluice] ${message}`)),
    autoWatermarkInterval: integerOption(options.autoWatermarkInterval, 'autoWatermarkInterval', 0, 200),
  }
}

function stringOption(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(path, `expected a non-empty string, got ${describeValue(value)}`)
  return value
}

function booleanOption(value: unknown, path: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new ConfigError(path, `expected true or false, got ${describeValue(value)}`)
  return value
}
