import { SluiceError, type SluiceErrorOptions } from '@sluice/core'

/**
 * Errors of the file sink. Each is a {@link SluiceError} (so `retriable`, `code` and `cause` work as
 * everywhere in Sluice) and carries the facts a person needs to act: the record index and bucket of a
 * record that could not be written, the path of a file that could not be written or committed.
 *
 * Recognise them with `XxxError.isInstance(e)`: core marks every class of the chain with
 * `Symbol.for('sluice.error.<ClassName>')`, so the check holds across two copies of the package.
 */

function isMarked(error: unknown, name: string): boolean {
  return typeof error === 'object' && error !== null && Symbol.for(`sluice.error.${name}`) in error
}

/** Root of the file sink's errors. */
export class FileSinkError extends SluiceError {
  override readonly name: string = 'FileSinkError'
  static override isInstance(error: unknown): error is FileSinkError {
    return isMarked(error, 'FileSinkError')
  }
}

/** The encoder (row format) or bulk writer threw on, or returned something unwritable for, one record. */
export class RecordEncodingError extends FileSinkError {
  override readonly name = 'RecordEncodingError' as const
  /** Index of the record in the batch handed to `write`. */
  readonly recordIndex: number
  readonly bucketId: string
  constructor(recordIndex: number, bucketId: string, record: unknown, reason: string, options?: SluiceErrorOptions) {
    super(
      'RECORD_ENCODING_FAILED',
      `file sink: record ${recordIndex} of the batch (bucket '${bucketId}', value ${preview(record)}) cannot be encoded: ${reason}`,
      options,
    )
    this.recordIndex = recordIndex
    this.bucketId = bucketId
  }
  static override isInstance(error: unknown): error is RecordEncodingError {
    return isMarked(error, 'RecordEncodingError')
  }
}

/** A bucket assigner returned an id that is not a safe relative path under the base path. */
export class InvalidBucketIdError extends FileSinkError {
  override readonly name = 'InvalidBucketIdError' as const
  readonly bucketId: string
  constructor(bucketId: unknown, reason: string, recordIndex?: number) {
    super(
      'INVALID_BUCKET_ID',
      `file sink: bucket id ${JSON.stringify(bucketId) ?? String(bucketId)}` +
        `${recordIndex === undefined ? '' : ` (record ${recordIndex} of the batch)`} is invalid: ${reason}`,
    )
    this.bucketId = String(bucketId)
  }
  static override isInstance(error: unknown): error is InvalidBucketIdError {
    return isMarked(error, 'InvalidBucketIdError')
  }
}

/** A bucket assigner threw on a record (e.g. an event-time assigner on a record without a timestamp). */
export class BucketAssignmentError extends FileSinkError {
  override readonly name = 'BucketAssignmentError' as const
  readonly recordIndex: number
  constructor(recordIndex: number, assigner: string, record: unknown, reason: string, options?: SluiceErrorOptions) {
    super('BUCKET_ASSIGNMENT_FAILED', `file sink: ${assigner} failed on record ${recordIndex} of the batch (value ${preview(record)}): ${reason}`, options)
    this.recordIndex = recordIndex
  }
  static override isInstance(error: unknown): error is BucketAssignmentError {
    return isMarked(error, 'BucketAssignmentError')
  }
}

/**
 * A file system operation on a part file or bucket directory failed (full disk, no permission, a file
 * where a directory should be). Never publishes anything: the part file stays hidden and the job
 * restarts from its last checkpoint (or fails, per its restart strategy). Retriable: a disk that was
 * full may have room after a restart.
 */
export class PartFileWriteError extends FileSinkError {
  override readonly name = 'PartFileWriteError' as const
  readonly path: string
  readonly operation: string
  /** The errno code of the failure (`ENOSPC`, `EACCES`, ...), if any. */
  readonly errno: string | undefined
  constructor(operation: string, path: string, cause: unknown) {
    const errno = (cause as NodeJS.ErrnoException | undefined)?.code
    super('PART_FILE_WRITE_FAILED', `file sink: cannot ${operation} ${path}: ${messageOf(cause)}`, { cause, retriable: true })
    this.path = path
    this.operation = operation
    this.errno = errno
  }
  static override isInstance(error: unknown): error is PartFileWriteError {
    return isMarked(error, 'PartFileWriteError')
  }
}

/**
 * On restore, an in-progress part file recorded in the checkpoint is gone or shorter than recorded.
 * Happens when the output directory was changed by hand, or when restoring a checkpoint older than
 * files already published from it (an old savepoint): resuming would lose or duplicate data.
 */
export class PartFileRecoveryError extends FileSinkError {
  override readonly name = 'PartFileRecoveryError' as const
  readonly path: string
  readonly bucketId: string
  constructor(path: string, bucketId: string, checkpointId: number | undefined, reason: string, options?: SluiceErrorOptions) {
    super(
      'PART_FILE_RECOVERY_FAILED',
      `file sink: in-progress part file ${path} of bucket '${bucketId}'` +
        `${checkpointId === undefined ? '' : ` (restored from checkpoint ${checkpointId})`}: ${reason}`,
      options,
    )
    this.path = path
    this.bucketId = bucketId
  }
  static override isInstance(error: unknown): error is PartFileRecoveryError {
    return isMarked(error, 'PartFileRecoveryError')
  }
}

/** The committer found neither the pending file nor the finished file of a committable. */
export class PendingFileMissingError extends FileSinkError {
  override readonly name = 'PendingFileMissingError' as const
  readonly pendingPath: string
  readonly finalPath: string
  constructor(pendingPath: string, finalPath: string, checkpointId: number) {
    super(
      'PENDING_FILE_MISSING',
      `file sink: cannot commit checkpoint ${checkpointId}: neither the pending file ${pendingPath} nor the finished file ` +
        `${finalPath} exists (was the output directory changed while the job ran?)`,
    )
    this.pendingPath = pendingPath
    this.finalPath = finalPath
  }
  static override isInstance(error: unknown): error is PendingFileMissingError {
    return isMarked(error, 'PendingFileMissingError')
  }
}

/** The committer found a pending file that is not what the writer handed over (size differs, or the target is taken). */
export class PendingFileMismatchError extends FileSinkError {
  override readonly name = 'PendingFileMismatchError' as const
  readonly pendingPath: string
  readonly finalPath: string
  constructor(pendingPath: string, finalPath: string, reason: string) {
    super('PENDING_FILE_MISMATCH', `file sink: refusing to publish ${pendingPath} as ${finalPath}: ${reason}`)
    this.pendingPath = pendingPath
    this.finalPath = finalPath
  }
  static override isInstance(error: unknown): error is PendingFileMismatchError {
    return isMarked(error, 'PendingFileMismatchError')
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** A short, printable rendering of a record for error messages (never the whole of a huge value). */
export function preview(value: unknown, max = 120): string {
  let text: string
  if (typeof value === 'string') text = JSON.stringify(value)
  else if (typeof value === 'bigint') text = `${value}n`
  else if (typeof value === 'function') text = `[function ${value.name || 'anonymous'}]`
  else if (typeof value === 'symbol') text = value.toString()
  else {
    try {
      text = JSON.stringify(value) ?? String(value)
    } catch {
      text = Object.prototype.toString.call(value)
    }
  }
  return text.length > max ? `${text.slice(0, max)}…` : text
}
