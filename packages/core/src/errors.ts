/**
 * The error hierarchy of Sluice. Every error the runtime or a connector raises is a {@link SluiceError}
 * carrying a stable `code`, whether retrying may help (`retriable`) and the underlying `cause`.
 *
 * Errors are recognised with `XxxError.isInstance(e)` rather than `instanceof`: two copies of
 * `@sluice/core` in one process (a connector bundling its own) would make `instanceof` lie.
 */

const rootMarker = Symbol.for('sluice.error')

function markerOf(name: string): symbol {
  return Symbol.for(`sluice.error.${name}`)
}

export interface SluiceErrorOptions {
  cause?: unknown
  retriable?: boolean
}

/** Root of all Sluice errors. */
export class SluiceError extends Error {
  private readonly [rootMarker] = true
  override readonly name: string = 'SluiceError'
  /** Stable machine-readable code, e.g. `CHECKPOINT_CORRUPTED`. */
  readonly code: string
  /** Whether retrying the failed operation may succeed. */
  readonly retriable: boolean

  constructor(code: string, message: string, options: SluiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.retriable = options.retriable ?? false
    // Mark every class in the chain so `Base.isInstance(subclassInstance)` holds across package copies.
    for (let c: abstract new (...args: never[]) => unknown = new.target; c !== Error && c !== Object; c = Object.getPrototypeOf(c)) {
      ;(this as unknown as Record<symbol, boolean>)[markerOf(c.name)] = true
    }
  }

  static isInstance(error: unknown): error is SluiceError {
    return typeof error === 'object' && error !== null && rootMarker in error
  }
}

function isMarked(error: unknown, name: string): boolean {
  return typeof error === 'object' && error !== null && markerOf(name) in error
}

/** A configuration value is invalid; `path` is the option path, e.g. `checkpointing.interval`. */
export class ConfigError extends SluiceError {
  override readonly name = 'ConfigError' as const
  readonly path: string
  constructor(path: string, message: string, options?: SluiceErrorOptions) {
    super('INVALID_CONFIG', `${path}: ${message}`, options)
    this.path = path
  }
  static override isInstance(error: unknown): error is ConfigError {
    return isMarked(error, 'ConfigError')
  }
}

/** The job graph is invalid (e.g. a keyed operation on a non-keyed stream, an unbounded source in BATCH mode). */
export class JobGraphError extends SluiceError {
  override readonly name = 'JobGraphError' as const
  constructor(message: string, options?: SluiceErrorOptions) {
    super('INVALID_JOB_GRAPH', message, options)
  }
  static override isInstance(error: unknown): error is JobGraphError {
    return isMarked(error, 'JobGraphError')
  }
}

/** A stored checkpoint or savepoint cannot be read: truncated, checksum mismatch, unknown format. */
export class CheckpointCorruptedError extends SluiceError {
  override readonly name = 'CheckpointCorruptedError' as const
  readonly checkpointId: number | undefined
  readonly path: string
  constructor(path: string, reason: string, checkpointId?: number, options?: SluiceErrorOptions) {
    super(
      'CHECKPOINT_CORRUPTED',
      `${checkpointId === undefined ? 'checkpoint' : `checkpoint ${checkpointId}`} at ${path}: ${reason}`,
      options,
    )
    this.path = path
    this.checkpointId = checkpointId
  }
  static override isInstance(error: unknown): error is CheckpointCorruptedError {
    return isMarked(error, 'CheckpointCorruptedError')
  }
}

/** A persisted object was written by a newer serializer version than this code knows. */
export class UnsupportedVersionError extends SluiceError {
  override readonly name = 'UnsupportedVersionError' as const
  readonly version: number
  readonly supportedVersion: number
  readonly what: string
  constructor(what: string, version: number, supportedVersion: number, where?: string) {
    super(
      'UNSUPPORTED_VERSION',
      `${what}${where ? ` in ${where}` : ''} was written with format version ${version}, ` +
        `but this code reads versions up to ${supportedVersion}; upgrade Sluice or the connector`,
    )
    this.what = what
    this.version = version
    this.supportedVersion = supportedVersion
  }
  static override isInstance(error: unknown): error is UnsupportedVersionError {
    return isMarked(error, 'UnsupportedVersionError')
  }
}

/** Serializing or deserializing a piece of state failed; `what` names it, e.g. `operator 'sum' keyed state 'total'`. */
export class SerializationError extends SluiceError {
  override readonly name = 'SerializationError' as const
  readonly what: string
  constructor(what: string, message: string, options?: SluiceErrorOptions) {
    super('SERIALIZATION_FAILED', `${what}: ${message}`, options)
    this.what = what
  }
  static override isInstance(error: unknown): error is SerializationError {
    return isMarked(error, 'SerializationError')
  }
}

/** A checkpoint could not be completed (timeout, a task failed to snapshot, storage failed). */
export class CheckpointFailedError extends SluiceError {
  override readonly name = 'CheckpointFailedError' as const
  readonly checkpointId: number
  constructor(checkpointId: number, reason: string, options?: SluiceErrorOptions) {
    super('CHECKPOINT_FAILED', `checkpoint ${checkpointId} failed: ${reason}`, options)
    this.checkpointId = checkpointId
  }
  static override isInstance(error: unknown): error is CheckpointFailedError {
    return isMarked(error, 'CheckpointFailedError')
  }
}

/** A task (one parallel subtask of an operator chain) failed; `task` is e.g. `map -> sum (2/4)`. */
export class TaskFailedError extends SluiceError {
  override readonly name = 'TaskFailedError' as const
  readonly task: string
  constructor(task: string, options?: SluiceErrorOptions) {
    const causeMessage = options?.cause instanceof Error ? options.cause.message : String(options?.cause)
    super('TASK_FAILED', `task ${task} failed: ${causeMessage}`, { retriable: true, ...options })
    this.task = task
  }
  static override isInstance(error: unknown): error is TaskFailedError {
    return isMarked(error, 'TaskFailedError')
  }
}

/** The restart strategy gave up; `cause` is the last failure. */
export class JobFailedError extends SluiceError {
  override readonly name = 'JobFailedError' as const
  readonly attempts: number
  constructor(message: string, attempts: number, options?: SluiceErrorOptions) {
    super('JOB_FAILED', message, options)
    this.attempts = attempts
  }
  static override isInstance(error: unknown): error is JobFailedError {
    return isMarked(error, 'JobFailedError')
  }
}

/** A committable could not be committed and retrying will not help. */
export class CommitFailedError extends SluiceError {
  override readonly name = 'CommitFailedError' as const
  readonly checkpointId: number
  constructor(checkpointId: number, message: string, options?: SluiceErrorOptions) {
    super('COMMIT_FAILED', `commit of checkpoint ${checkpointId} failed: ${message}`, options)
    this.checkpointId = checkpointId
  }
  static override isInstance(error: unknown): error is CommitFailedError {
    return isMarked(error, 'CommitFailedError')
  }
}

/** A retried operation kept failing; `cause` is the last failure. */
export class RetriesExhaustedError extends SluiceError {
  override readonly name = 'RetriesExhaustedError' as const
  readonly attempts: number
  constructor(what: string, attempts: number, options?: SluiceErrorOptions) {
    super('RETRIES_EXHAUSTED', `${what}: gave up after ${attempts} attempts`, options)
    this.attempts = attempts
  }
  static override isInstance(error: unknown): error is RetriesExhaustedError {
    return isMarked(error, 'RetriesExhaustedError')
  }
}

/** The job was cancelled by its handle; not a failure and never restarted. */
export class JobCancelledError extends SluiceError {
  override readonly name = 'JobCancelledError' as const
  constructor(message = 'job was cancelled') {
    super('JOB_CANCELLED', message)
  }
  static override isInstance(error: unknown): error is JobCancelledError {
    return isMarked(error, 'JobCancelledError')
  }
}

/** Writing to broadcast state from the non-broadcast side, and similar misuse of a runtime API. */
export class IllegalStateError extends SluiceError {
  override readonly name = 'IllegalStateError' as const
  constructor(message: string, options?: SluiceErrorOptions) {
    super('ILLEGAL_STATE', message, options)
  }
  static override isInstance(error: unknown): error is IllegalStateError {
    return isMarked(error, 'IllegalStateError')
  }
}
