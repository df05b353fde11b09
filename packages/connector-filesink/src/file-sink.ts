import path from 'node:path'
import {
  type Committer,
  type CommitterContext,
  ConfigError,
  type SimpleVersionedSerializer,
  type Sink,
  type SinkWriter,
  type SupportsCommitter,
  type SupportsWriterState,
  type WriterInitContext,
} from '@sluice/core'
import type { BucketAssigner } from './bucket-assigner.js'
import type { BulkFormat } from './bulk/bulk-format.js'
import { DateTimeBucketAssigner } from './date-time-bucket-assigner.js'
import { DefaultRollingPolicy } from './default-rolling-policy.js'
import { type Encoder, SimpleStringEncoder } from './encoder.js'
import { FileCommitter } from './file-committer.js'
import { type FileSinkCommittable, fileSinkCommittableSerializer } from './file-sink-committable.js'
import type { FileSinkConfig, PartFileFormat } from './file-sink-config.js'
import { FileSinkWriter } from './file-sink-writer.js'
import { type FileSinkWriterState, fileSinkWriterStateSerializer } from './file-writer-state.js'
import { describeValue, optionsObject, positiveIntegerOption } from './option-validation.js'
import { OutputFileConfig, type OutputFileConfigOptions } from './output-file-config.js'
import { PartFileNaming } from './part-file-names.js'
import { CheckpointRollingPolicy, OnCheckpointRollingPolicy, type RollingPolicy } from './rolling-policy.js'

/** Default interval of processing-time rolling checks: 1 minute, as Flink. */
export const defaultBucketCheckInterval = 60_000

/** Options of small-file compaction (row formats only). */
export interface CompactionOptions {
  /** Pending files of one bucket and checkpoint are merged into files of at most this many bytes. */
  targetFileSize: number
}

/**
 * Writes a stream into files under a base path, exactly-once: Flink's `FileSink` (and the seed's
 * `StreamingFileSink`), on Sluice's two-phase-commit sink contracts.
 *
 * ```ts
 * const sink = FileSink.forRowFormat('/data/out', new SimpleStringEncoder<string>())
 *   .withBucketAssigner(new DateTimeBucketAssigner())
 *   .withRollingPolicy(DefaultRollingPolicy.builder().withRolloverInterval(15 * 60_000).build())
 *   .withOutputFileConfig(OutputFileConfig.builder().withPartPrefix('prefix').withPartSuffix('.txt').build())
 *   .build()
 * env.socketTextStream('localhost', 9999).sinkTo(sink)
 * ```
 *
 * Records go into buckets (sub-directories chosen by the {@link BucketAssigner}), each with one
 * in-progress part file per subtask; the {@link RollingPolicy} decides when a part file closes and
 * becomes pending; pending files are published (renamed to their finished name) once the checkpoint
 * after them is durable. In-progress and pending files are hidden (leading `.`), so readers of the
 * directory see finished files only. See the package README for names, recovery and guarantees.
 *
 * Everything is validated by `build()`, before any file is opened. The sink opens nothing by itself;
 * one instance serves all subtasks and all restarts of a job.
 */
export class FileSink<T> implements Sink<T>, SupportsWriterState<T, FileSinkWriterState>, SupportsCommitter<FileSinkCommittable> {
  private warned = false

  /**
   * @internal Use {@link FileSink.forRowFormat} or {@link FileSink.forBulkFormat}.
   * @param config The validated options (read by tests; not part of the public API).
   */
  constructor(readonly config: FileSinkConfig<T>) {}

  /** A sink writing each record through an {@link Encoder} (default: {@link SimpleStringEncoder}, one UTF-8 line per record). */
  static forRowFormat<T>(basePath: string, encoder: Encoder<T> = new SimpleStringEncoder<T>()): RowFormatBuilder<T> {
    return new RowFormatBuilder<T>(basePath, encoder)
  }

  /** A sink writing part files with a {@link BulkFormat} (e.g. Parquet); they roll at every checkpoint. */
  static forBulkFormat<T>(basePath: string, bulkFormat: BulkFormat<T>): BulkFormatBuilder<T> {
    return new BulkFormatBuilder<T>(basePath, bulkFormat)
  }

  async createWriter(context: WriterInitContext): Promise<SinkWriter<T>> {
    this.warnWithoutCheckpointing(context)
    return FileSinkWriter.open(this.config, context, undefined)
  }

  async restoreWriter(context: WriterInitContext, recoveredState: FileSinkWriterState[]): Promise<SinkWriter<T>> {
    return FileSinkWriter.open(this.config, context, recoveredState)
  }

  writerStateSerializer(): SimpleVersionedSerializer<FileSinkWriterState> {
    return fileSinkWriterStateSerializer()
  }

  createCommitter(_context: CommitterContext): Committer<FileSinkCommittable> {
    return new FileCommitter()
  }

  committableSerializer(): SimpleVersionedSerializer<FileSinkCommittable> {
    return fileSinkCommittableSerializer()
  }

  /**
   * Part files are published only when a checkpoint completes: a job without periodic checkpointing
   * (`context.checkpointing` undefined) gets one warning, from subtask 0, unless
   * `withWarnWithoutCheckpointing(false)`.
   */
  private warnWithoutCheckpointing(context: WriterInitContext): void {
    if (!this.config.warnWithoutCheckpointing || this.warned || context.subtaskId !== 0 || context.checkpointing !== undefined) return
    this.warned = true
    this.config.onWarning(
      `file sink '${context.operatorUid}' at ${this.config.basePath}: part files become visible only when a checkpoint completes. ` +
        'Without checkpointing they are published only at the end of bounded input, and never for unbounded input ' +
        '(they stay hidden as in-progress files). Enable checkpointing, or call withWarnWithoutCheckpointing(false) to silence this.',
    )
  }
}

/** What both builders share. `build()` validates everything, with errors naming `fileSink.<option>`. */
abstract class FileSinkBuilder<T, Self> {
  protected bucketAssigner: BucketAssigner<T> | undefined
  protected rollingPolicy: RollingPolicy<T> | undefined
  protected outputFileConfig: OutputFileConfig | OutputFileConfigOptions | undefined
  protected bucketCheckInterval: number | undefined
  protected compaction: CompactionOptions | undefined
  protected warn = true
  protected onWarning: ((message: string) => void) | undefined

  constructor(protected readonly basePath: string) {}

  /** Default: `new DateTimeBucketAssigner()` (`yyyy-MM-dd--HH` in the system time zone, processing time). */
  withBucketAssigner(assigner: BucketAssigner<T>): Self {
    this.bucketAssigner = assigner
    return this as unknown as Self
  }

  withRollingPolicy(policy: RollingPolicy<T>): Self {
    this.rollingPolicy = policy
    return this as unknown as Self
  }

  /** Part file prefix and suffix: an {@link OutputFileConfig} or its options. */
  withOutputFileConfig(config: OutputFileConfig | OutputFileConfigOptions): Self {
    this.outputFileConfig = config
    return this as unknown as Self
  }

  /** ms between processing-time rolling checks (rollover and inactivity intervals). Default 60 000. */
  withBucketCheckInterval(ms: number): Self {
    this.bucketCheckInterval = ms
    return this as unknown as Self
  }

  /** Whether a fresh start warns that files are published only by checkpoints. Default true. */
  withWarnWithoutCheckpointing(warn: boolean): Self {
    this.warn = warn
    return this as unknown as Self
  }

  /** Where warnings go. Default `console.warn` with a `[sluice]` prefix. */
  withOnWarning(onWarning: (message: string) => void): Self {
    this.onWarning = onWarning
    return this as unknown as Self
  }

  protected resolveCommon(defaultPolicy: RollingPolicy<T>, defaultSuffix: string, format: PartFileFormat<T>): FileSinkConfig<T> {
    const p = 'fileSink'
    if (typeof this.basePath !== 'string' || this.basePath.length === 0) {
      throw new ConfigError(`${p}.basePath`, `expected a non-empty directory path, got ${describeValue(this.basePath)}`)
    }
    if (this.basePath.includes('\0')) throw new ConfigError(`${p}.basePath`, 'must not contain a NUL character')
    const bucketAssigner = this.bucketAssigner ?? new DateTimeBucketAssigner<T>()
    if (typeof bucketAssigner !== 'object' || bucketAssigner === null || typeof bucketAssigner.getBucketId !== 'function') {
      throw new ConfigError(`${p}.bucketAssigner`, `expected an object with getBucketId(record, context), got ${describeValue(bucketAssigner)}`)
    }
    const rollingPolicy = this.rollingPolicy ?? defaultPolicy
    checkRollingPolicy(rollingPolicy, `${p}.rollingPolicy`)
    const outputFileConfig =
      this.outputFileConfig instanceof OutputFileConfig
        ? this.outputFileConfig
        : OutputFileConfig.create(this.outputFileConfig ?? {}, `${p}.outputFileConfig`)
    if (typeof this.warn !== 'boolean') throw new ConfigError(`${p}.warnWithoutCheckpointing`, `expected true or false, got ${describeValue(this.warn)}`)
    if (this.onWarning !== undefined && typeof this.onWarning !== 'function') {
      throw new ConfigError(`${p}.onWarning`, `expected a function, got ${describeValue(this.onWarning)}`)
    }
    let compactionTargetFileSize: number | undefined
    if (this.compaction !== undefined) {
      const checked = optionsObject(this.compaction, `${p}.compaction`, ['targetFileSize'])
      if (checked.targetFileSize === undefined) throw new ConfigError(`${p}.compaction.targetFileSize`, 'is required (bytes)')
      compactionTargetFileSize = positiveIntegerOption(checked.targetFileSize, `${p}.compaction.targetFileSize`, 0, 'bytes')
    }
    return {
      basePath: path.resolve(this.basePath),
      format,
      bucketAssigner,
      rollingPolicy,
      naming: new PartFileNaming(outputFileConfig.partPrefix, outputFileConfig.partSuffix ?? defaultSuffix),
      bucketCheckInterval: positiveIntegerOption(this.bucketCheckInterval, `${p}.bucketCheckInterval`, defaultBucketCheckInterval, 'ms'),
      compactionTargetFileSize,
      warnWithoutCheckpointing: this.warn,
      onWarning: this.onWarning ?? ((message) => console.warn(`[sluice] ${message}`)),
    }
  }
}

/** Builder of a row-format {@link FileSink} (Flink's `RowFormatBuilder`). */
export class RowFormatBuilder<T> extends FileSinkBuilder<T, RowFormatBuilder<T>> {
  constructor(
    basePath: string,
    private readonly encoder: Encoder<T>,
  ) {
    super(basePath)
  }

  /**
   * Merges the part files one subtask rolled in one bucket between two checkpoints into files of at
   * most `targetFileSize` bytes before publishing them (see the README). Off by default.
   */
  withCompaction(options: CompactionOptions): this {
    this.compaction = options
    return this
  }

  /** Validates every option (errors name `fileSink.<option>`) and returns the sink. Opens nothing. */
  build(): FileSink<T> {
    const encoder = this.encoder
    if (typeof encoder !== 'object' || encoder === null || typeof encoder.encode !== 'function') {
      throw new ConfigError('fileSink.encoder', `expected an Encoder (an object with encode(record)), got ${describeValue(encoder)}`)
    }
    return new FileSink<T>(this.resolveCommon(DefaultRollingPolicy.create<T>(), '', { kind: 'row', encoder }))
  }
}

/**
 * Builder of a bulk-format {@link FileSink} (Flink's `BulkFormatBuilder`). Its rolling policy must be a
 * {@link CheckpointRollingPolicy} (default {@link OnCheckpointRollingPolicy}); `build()` refuses others.
 */
export class BulkFormatBuilder<T> extends FileSinkBuilder<T, BulkFormatBuilder<T>> {
  constructor(
    basePath: string,
    private readonly bulkFormat: BulkFormat<T>,
  ) {
    super(basePath)
  }

  /** Validates every option and the bulk format (`bulkFormat.validate()`), and returns the sink. Opens nothing. */
  build(): FileSink<T> {
    const format = this.bulkFormat
    if (typeof format !== 'object' || format === null || typeof format.createWriter !== 'function' || typeof format.validate !== 'function') {
      throw new ConfigError('fileSink.bulkFormat', `expected a BulkFormat (extension, validate(), createWriter(path)), got ${describeValue(format)}`)
    }
    if (typeof format.extension !== 'string') throw new ConfigError('fileSink.bulkFormat.extension', `expected a string such as '.parquet', got ${describeValue(format.extension)}`)
    if (this.rollingPolicy !== undefined && !CheckpointRollingPolicy.isInstance(this.rollingPolicy)) {
      throw new ConfigError(
        'fileSink.rollingPolicy',
        `bulk formats roll part files on every checkpoint (a bulk file cannot be resumed after a failure), so only OnCheckpointRollingPolicy ` +
          `or another CheckpointRollingPolicy is allowed, got ${policyName(this.rollingPolicy)}`,
      )
    }
    format.validate()
    return new FileSink<T>(this.resolveCommon(new OnCheckpointRollingPolicy<T>(), format.extension, { kind: 'bulk', bulkFormat: format }))
  }
}

function checkRollingPolicy(policy: unknown, path: string): void {
  const candidate = policy as Partial<RollingPolicy<unknown>> | null
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.shouldRollOnCheckpoint !== 'function' ||
    typeof candidate.shouldRollOnEvent !== 'function' ||
    typeof candidate.shouldRollOnProcessingTime !== 'function'
  ) {
    throw new ConfigError(path, `expected a RollingPolicy (shouldRollOnCheckpoint, shouldRollOnEvent, shouldRollOnProcessingTime), got ${describeValue(policy)}`)
  }
}

function policyName(policy: unknown): string {
  if (typeof policy === 'object' && policy !== null) return (policy as object).constructor?.name ?? 'an object'
  return describeValue(policy)
}
