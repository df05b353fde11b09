import type { Dirent } from 'node:fs'
import { readdir, unlink } from 'node:fs/promises'
import path from 'node:path'
import { PartFileWriteError } from './errors.js'
import type { PartFileNaming } from './part-file-names.js'

/** What {@link scanPartFiles} found and did. */
export interface PartFileScan {
  /** Highest part counter of any file (finished or hidden) named with this subtask, or -1. */
  readonly maxCounter: number
  /** Hidden files it deleted as leftovers. */
  readonly deleted: readonly string[]
}

/**
 * Runs when a sink writer opens (fresh or restored): walks the base path once and
 *
 * 1. finds the highest part counter used by this subtask in any bucket (finished or hidden files),
 *    so the writer's next part file gets a counter above it and never reuses a name, even when the
 *    checkpoint it restored is older than files already published, or after a start without one;
 * 2. deletes the leftover hidden files this subtask is responsible for: those of a subtask `s` with
 *    `s % parallelism === subtaskId` whose epoch is above `restoredCheckpointId` (0 on a fresh start).
 *    They were opened after the restored checkpoint was taken (so it refers to neither their
 *    in-progress bytes nor their pending state) by an attempt that then failed; their records are
 *    replayed. Files the restored checkpoint refers to have an epoch at most its id and are kept.
 *
 * Responsibility by `s % parallelism` gives every leftover exactly one deleter, also after a rescale,
 * and never touches a file a sibling subtask opens while this scan runs (those carry the sibling's own
 * subtask). Directories starting with `.` and symbolic links are not entered. The walk costs one
 * `readdir` per directory under the base path; with many buckets this shows in restart time.
 */
export async function scanPartFiles(options: {
  basePath: string
  naming: PartFileNaming
  subtaskId: number
  parallelism: number
  restoredCheckpointId: number | undefined
  /** Paths never to delete (the in-progress files of the restored state), as a last safety net. */
  keep: ReadonlySet<string>
}): Promise<PartFileScan> {
  const { naming, subtaskId, parallelism, keep } = options
  const garbageAbove = options.restoredCheckpointId ?? 0
  let maxCounter = -1
  const deleted: string[] = []
  const walk = async (directory: string): Promise<void> => {
    let entries: Dirent[]
    try {
      entries = await readdir(directory, { withFileTypes: true })
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR') return
      throw new PartFileWriteError('list bucket directory', directory, error)
    }
    for (const entry of entries) {
      const full = path.join(directory, entry.name)
      if (entry.isDirectory()) {
        if (!entry.name.startsWith('.')) await walk(full)
        continue
      }
      if (!entry.isFile()) continue
      const parsed = naming.parse(entry.name)
      if (parsed === undefined) continue
      if (parsed.subtask === subtaskId && parsed.counter > maxCounter) maxCounter = parsed.counter
      if (parsed.kind !== 'hidden' || parsed.subtask % parallelism !== subtaskId) continue
      if ((parsed.epoch as number) <= garbageAbove || keep.has(full)) continue
      try {
        await unlink(full)
        deleted.push(full)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new PartFileWriteError('delete leftover part file', full, error)
      }
    }
  }
  await walk(options.basePath)
  return { maxCounter, deleted }
}
