import { access, mkdir, open, rename } from 'node:fs/promises'
import path from 'node:path'
import type { CommitRequest, Committer } from '@sluice/core'
import { CommitFileMissingError } from './errors.js'
import type { FileCommittable } from './file-committable.js'

/**
 * The committer of a TransactionalFileSink: makes a file visible by renaming it from `.in-progress`
 * to `committed`. A rename within one file system is atomic, so a reader sees the whole file or none
 * of it, and it is idempotent by looking at both paths:
 *
 * | tempPath | finalPath | outcome |
 * |---|---|---|
 * | exists   | —         | renamed, then the directories are fsynced |
 * | missing  | exists    | `signalAlreadyCommitted()`: committed before a crash |
 * | missing  | missing   | `signalFailedWithUnknownReason(CommitFileMissingError)`: the job fails |
 *
 * Called by the runtime once the checkpoint holding the committables is durable, one call at a time.
 */
export class TransactionalFileCommitter implements Committer<FileCommittable> {
  async commit(requests: CommitRequest<FileCommittable>[]): Promise<void> {
    const touchedDirectories = new Set<string>()
    for (const request of requests) {
      const { tempPath, finalPath } = request.committable
      try {
        await rename(tempPath, finalPath)
        touchedDirectories.add(path.dirname(tempPath))
        touchedDirectories.add(path.dirname(finalPath))
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
          request.signalFailedWithUnknownReason(error)
        } else if (await exists(finalPath)) {
          request.signalAlreadyCommitted()
        } else if (await exists(tempPath)) {
          // The file is there but `committed/` is not (deleted while the job ran): recreate it once.
          try {
            await mkdir(path.dirname(finalPath), { recursive: true })
            await rename(tempPath, finalPath)
            touchedDirectories.add(path.dirname(tempPath))
            touchedDirectories.add(path.dirname(path.dirname(finalPath)))
            touchedDirectories.add(path.dirname(finalPath))
          } catch (retryError) {
            request.signalFailedWithUnknownReason(retryError)
          }
        } else {
          request.signalFailedWithUnknownReason(new CommitFileMissingError(tempPath, finalPath))
        }
      }
    }
    // A rename is durable only once both directories are fsynced; once per batch, not per file.
    for (const directory of touchedDirectories) await fsyncDirectory(directory)
  }

  close(): void {}
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file)
    return true
  } catch {
    return false
  }
}

async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
