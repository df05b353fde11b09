import { type FileHandle, open, readFile } from 'node:fs/promises'
import { PartFileWriteError } from './errors.js'
import type { FileSinkCommittable } from './file-sink-committable.js'

/**
 * Small-file compaction of row formats (beyond the seed; newer Flink compacts too): at a checkpoint,
 * the pending part files one subtask rolled in one bucket since the last checkpoint are merged, in
 * order, into as few files as possible of at most `targetFileSize` bytes each (a file already that
 * large stays as it is).
 *
 * Exactly-once as the rest of the sink: the merged file is a new hidden part file (fsynced) whose
 * committable lists its inputs in `compactedFrom`; the committer publishes the merged file by rename
 * and only then deletes the inputs (which stay hidden, so readers never see a record twice). After a
 * restore, a re-commit of the same committable deletes whatever inputs are left; a merged file whose
 * checkpoint never completed is a leftover that recovery deletes, and its inputs are resumed or
 * deleted as any other file.
 *
 * Merging concatenates the files' bytes, which is right for formats whose files are a plain sequence
 * of encoded records (lines, JSON lines) and wrong for encoders that write a header: the sink refuses
 * compaction for bulk formats.
 */
export async function compactPendingFiles(
  pending: readonly FileSinkCommittable[],
  targetFileSize: number,
  newPartPaths: (bucketId: string) => { path: string; finalPath: string },
): Promise<FileSinkCommittable[]> {
  const byBucket = new Map<string, FileSinkCommittable[]>()
  for (const file of pending) {
    const list = byBucket.get(file.bucketId)
    if (list) list.push(file)
    else byBucket.set(file.bucketId, [file])
  }
  const result: FileSinkCommittable[] = []
  for (const [bucketId, files] of byBucket) {
    for (const group of groupBySize(files, targetFileSize)) {
      if (group.length === 1) result.push(group[0] as FileSinkCommittable)
      else result.push(await merge(bucketId, group, newPartPaths(bucketId)))
    }
  }
  return result
}

/** Consecutive runs whose sizes add up to at most `target` (a file larger than `target` is a run of its own). */
export function groupBySize<F extends { size: number }>(files: readonly F[], target: number): F[][] {
  const groups: F[][] = []
  let current: F[] = []
  let currentSize = 0
  for (const file of files) {
    if (current.length > 0 && currentSize + file.size > target) {
      groups.push(current)
      current = []
      currentSize = 0
    }
    current.push(file)
    currentSize += file.size
  }
  if (current.length > 0) groups.push(current)
  return groups
}

async function merge(bucketId: string, inputs: readonly FileSinkCommittable[], target: { path: string; finalPath: string }): Promise<FileSinkCommittable> {
  let handle: FileHandle
  try {
    handle = await open(target.path, 'wx')
  } catch (error) {
    throw new PartFileWriteError('create compacted part file', target.path, error)
  }
  let size = 0
  try {
    for (const input of inputs) {
      // Inputs are at most `targetFileSize` together: reading each whole is simpler than streaming.
      const bytes = await readFile(input.pendingPath)
      if (bytes.byteLength !== input.size) {
        throw new Error(`pending part file ${input.pendingPath} holds ${bytes.byteLength} bytes, expected ${input.size}`)
      }
      let offset = 0
      while (offset < bytes.byteLength) {
        const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset, size + offset)
        offset += bytesWritten
      }
      size += bytes.byteLength
    }
    await handle.sync()
  } catch (error) {
    await handle.close().catch(() => {})
    throw new PartFileWriteError('write compacted part file', target.path, error)
  }
  try {
    await handle.close()
  } catch (error) {
    throw new PartFileWriteError('close compacted part file', target.path, error)
  }
  return { bucketId, pendingPath: target.path, finalPath: target.finalPath, size, compactedFrom: inputs.map((i) => i.pendingPath) }
}
