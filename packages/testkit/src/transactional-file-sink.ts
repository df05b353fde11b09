import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import {
  type Committer,
  type CommitterContext,
  type CommittingSinkWriter,
  ConfigError,
  type SimpleVersionedSerializer,
  type Sink,
  type SupportsCommitter,
  type WriterInitContext,
} from '@sluice/core'
import { committedDirectoryOf, inProgressDirectoryOf } from './committed-files.js'
import { type FileCommittable, fileCommittableSerializer } from './file-committable.js'
import { TransactionalFileCommitter } from './transactional-file-committer.js'
import { TransactionalFileWriter } from './transactional-file-writer.js'

/** Options of {@link TransactionalFileSink}. */
export interface TransactionalFileSinkOptions<T> {
  /** Root directory of the sink; `.in-progress/` and `committed/` are created inside it. Resolved against the working directory once. */
  directory: string
  /** Turns a record into one line (no newline in it). Default `JSON.stringify`. */
  serialize?: (value: T) => string
}

/**
 * An exactly-once sink that needs no external service: two-phase commit over plain files, so core
 * (and a connector author comparing against it) can prove exactly-once end to end, across `kill -9`,
 * without Kafka or a database.
 *
 * - Writers append records as lines to `<directory>/.in-progress/<name>.jsonl`. At each checkpoint
 *   `prepareCommit` fsyncs and closes the file and hands `{ tempPath, finalPath, records }` over; the
 *   next record after the barrier starts a new file.
 * - Once the checkpoint is durable the committer renames the file to `<directory>/committed/<name>.jsonl`
 *   (atomic; directories fsynced). After a restore the same committables come again: a file already
 *   renamed is reported with `signalAlreadyCommitted()`, so nothing is committed twice.
 * - Files a crashed or failed writer leaves in `.in-progress` are never committed and never read as
 *   output: the source replays their records from the checkpoint. Delete them when the job is done.
 *
 * Read the output with `readCommittedRecords(directory)`. Guarantee: exactly-once with checkpointing
 * in `EXACTLY_ONCE` mode; with `AT_LEAST_ONCE` checkpoints records may be committed twice, never lost.
 * Without checkpointing, everything is committed once at the end of bounded input.
 *
 * The same instance is reused across restarts of the job and opens nothing by itself; directories
 * are created by the first writer or committer.
 */
export class TransactionalFileSink<T> implements Sink<T>, SupportsCommitter<FileCommittable> {
  /** Absolute root directory of the sink. */
  readonly directory: string
  private readonly serialize: (value: T) => string

  constructor(options: TransactionalFileSinkOptions<T>) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigError('transactionalFileSink', 'expected an options object with a directory')
    }
    if (typeof options.directory !== 'string' || options.directory.length === 0) {
      throw new ConfigError('transactionalFileSink.directory', `expected a non-empty string, got ${JSON.stringify(options.directory)}`)
    }
    if (options.serialize !== undefined && typeof options.serialize !== 'function') {
      throw new ConfigError('transactionalFileSink.serialize', `expected a function (value) => string, got ${typeof options.serialize}`)
    }
    this.directory = path.resolve(options.directory)
    this.serialize = options.serialize ?? ((value: T) => JSON.stringify(value))
  }

  async createWriter(context: WriterInitContext): Promise<CommittingSinkWriter<T, FileCommittable>> {
    await mkdir(inProgressDirectoryOf(this.directory), { recursive: true })
    await mkdir(committedDirectoryOf(this.directory), { recursive: true })
    return new TransactionalFileWriter<T>(this.directory, context, this.serialize)
  }

  async createCommitter(_context: CommitterContext): Promise<Committer<FileCommittable>> {
    await mkdir(committedDirectoryOf(this.directory), { recursive: true })
    return new TransactionalFileCommitter()
  }

  /** JSON, format version 1: see {@link fileCommittableSerializer}. */
  committableSerializer(): SimpleVersionedSerializer<FileCommittable> {
    return fileCommittableSerializer()
  }
}
