import { SluiceError } from '@sluice/core'

/**
 * The errors the testkit raises. They extend `@sluice/core`'s {@link SluiceError}, so `code`,
 * `retriable` and `cause` work as everywhere else in Sluice, and each has a `Symbol.for` marker
 * (set by the `SluiceError` constructor from the class name) checked by its static `isInstance`:
 * `instanceof` would lie when a connector's tests load a second copy of the testkit.
 */

function isMarked(error: unknown, name: string): boolean {
  return typeof error === 'object' && error !== null && Symbol.for(`sluice.error.${name}`) in error
}

/**
 * A committable of the TransactionalFileSink can be found neither in progress nor committed: the file
 * was deleted outside Sluice, or the committable was restored into a job writing another directory.
 */
export class CommitFileMissingError extends SluiceError {
  override readonly name = 'CommitFileMissingError' as const
  readonly tempPath: string
  readonly finalPath: string
  constructor(tempPath: string, finalPath: string) {
    super(
      'COMMIT_FILE_MISSING',
      `cannot commit ${tempPath}: neither the in-progress file ${tempPath} nor the committed file ${finalPath} exists; ` +
        'it was deleted outside Sluice, or the checkpoint belongs to a sink writing another directory',
    )
    this.tempPath = tempPath
    this.finalPath = finalPath
  }
  static override isInstance(error: unknown): error is CommitFileMissingError {
    return isMarked(error, 'CommitFileMissingError')
  }
}

/** A committed file of the TransactionalFileSink holds a line that is not a whole record. */
export class CommittedFileCorruptedError extends SluiceError {
  override readonly name = 'CommittedFileCorruptedError' as const
  readonly path: string
  /** 1-based line number. */
  readonly line: number
  constructor(path: string, line: number, reason: string, options?: { cause?: unknown }) {
    super('COMMITTED_FILE_CORRUPTED', `${path}:${line}: ${reason}`, options)
    this.path = path
    this.line = line
  }
  static override isInstance(error: unknown): error is CommittedFileCorruptedError {
    return isMarked(error, 'CommittedFileCorruptedError')
  }
}

/** Why a crash loop stopped without its job finishing cleanly. */
export type CrashLoopFailureReason =
  /** The job script exited with a non-zero code (or a signal the harness did not send) by itself. */
  | 'script-failed'
  /** The script finished its input before the required number of kills landed. */
  | 'finished-too-early'
  /** The whole loop took longer than `timeoutMs`. */
  | 'timeout'
  /** The child process could not be started. */
  | 'spawn-failed'

/**
 * A crash loop failed. The message names the seed (rerun with it to reproduce the same kill delays),
 * the run and, for a failed script, the tail of its stderr.
 */
export class CrashLoopError extends SluiceError {
  override readonly name = 'CrashLoopError' as const
  readonly reason: CrashLoopFailureReason
  readonly seed: number
  /** 1-based number of the run (child process) that failed. */
  readonly run: number
  /** Kills done before the failure. */
  readonly kills: number
  /** The last lines the failing child wrote to stderr ('' if none). */
  readonly stderrTail: string
  constructor(
    reason: CrashLoopFailureReason,
    facts: { seed: number; run: number; kills: number; stderrTail: string },
    message: string,
    options?: { cause?: unknown },
  ) {
    const tail = facts.stderrTail.trim()
    super(
      'CRASH_LOOP_FAILED',
      `crash loop (seed ${facts.seed}) run ${facts.run} after ${facts.kills} kill(s): ${message}` +
        (tail ? `\n--- stderr tail ---\n${tail}` : ''),
      options,
    )
    this.reason = reason
    this.seed = facts.seed
    this.run = facts.run
    this.kills = facts.kills
    this.stderrTail = facts.stderrTail
  }
  static override isInstance(error: unknown): error is CrashLoopError {
    return isMarked(error, 'CrashLoopError')
  }
}
