import { access, open, rename, stat, unlink } from 'node:fs/promises'
import path from 'node:path'
import type { CommitRequest, Committer } from '@sluice/core'
import { PartFileWriteError, PendingFileMismatchError, PendingFileMissingError } from './errors.js'
import type { FileSinkCommittable } from './file-sink-committable.js'

/** errno codes after which a commit is retried later rather than failing the job (one table, no if-chains). */
const retriableCodes: ReadonlySet<string> = new Set(['EAGAIN', 'EBUSY', 'EINTR', 'EMFILE', 'ENFILE', 'ETIMEDOUT'])

/**
 * Publishes pending part files: renames each hidden, complete file to its finished name. A rename in
 * one directory is atomic, so a reader of the bucket sees the whole file or nothing; the bucket
 * directories are fsynced once per call so the renames survive a power loss.
 *
 * Called by the runtime once the checkpoint that holds the committables is durable, one call at a
 * time; after a restore, with the committables of the restored checkpoint again. Idempotent:
 *
 * | pending file | finished file | outcome |
 * |---|---|---|
 * | exists, size as handed over | missing | renamed |
 * | missing | exists | `signalAlreadyCommitted()`: published before a crash |
 * | missing | missing | `signalFailedWithUnknownReason(PendingFileMissingError)` naming both paths: the job fails |
 * | exists, other size | — | `signalFailedWithUnknownReason(PendingFileMismatchError)`: never publishes a partial file |
 * | exists | exists | `signalFailedWithUnknownReason(PendingFileMismatchError)`: never overwrites a finished file |
 *
 * A committable of a compacted file (`compactedFrom`) deletes its input files once the merged file is
 * published and its directory fsynced, also when it was already published (a crash may have come
 * between the rename and the deletes).
 */
export class FileCommitter implements Committer<FileSinkCommittable> {
  async commit(requests: CommitRequest<FileSinkCommittable>[]): Promise<void> {
    const directories = new Set<string>()
    const published: FileSinkCommittable[] = []
    for (const request of requests) {
      const committable = request.committable
      try {
        const outcome = await publish(committable, request.checkpointId)
        if (outcome === 'renamed') directories.add(path.dirname(committable.finalPath))
        else request.signalAlreadyCommitted()
        published.push(committable)
      } catch (error) {
        const code = (error as { errno?: string; code?: string }).errno ?? (error as NodeJS.ErrnoException).code
        if (code !== undefined && retriableCodes.has(code)) request.retryLater()
        else request.signalFailedWithUnknownReason(error)
      }
    }
    for (const directory of directories) await fsyncDirectory(directory)
    // Inputs of compacted files go only once the merged file's rename is durable.
    for (const committable of published) {
      for (const input of committable.compactedFrom ?? []) {
        try {
          await unlink(input)
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new PartFileWriteError('delete compacted input file', input, error)
        }
      }
    }
  }

  close(): void {}
}

async function publish(committable: FileSinkCommittable, checkpointId: number): Promise<'renamed' | 'already'> {
  const { pendingPath, finalPath } = committable
  let size: number
  try {
    size = (await stat(pendingPath)).size
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new PartFileWriteError('stat pending part file', pendingPath, error)
    if (await exists(finalPath)) return 'already'
    throw new PendingFileMissingError(pendingPath, finalPath, checkpointId)
  }
  if (size !== committable.size) {
    throw new PendingFileMismatchError(pendingPath, finalPath, `it holds ${size} bytes, but the writer handed over ${committable.size}`)
  }
  if (await exists(finalPath)) {
    throw new PendingFileMismatchError(pendingPath, finalPath, 'the finished file already exists; part counters must be unique (do two sinks share the base path and part prefix?)')
  }
  try {
    await rename(pendingPath, finalPath)
  } catch (error) {
    throw new PartFileWriteError('publish pending part file as', `${pendingPath} -> ${finalPath}`, error)
  }
  return 'renamed'
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
  let handle: Awaited<ReturnType<typeof open>> | undefined
  try {
    handle = await open(directory, 'r')
    await handle.sync()
  } catch (error) {
    throw new PartFileWriteError('fsync bucket directory', directory, error)
  } finally {
    await handle?.close().catch(() => {})
  }
}
