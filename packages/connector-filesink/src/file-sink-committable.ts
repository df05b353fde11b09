import type { SimpleVersionedSerializer } from '@sluice/core'
import { JsonReader, jsonSerializer } from './json-serializer.js'

/**
 * One pending part file a writer handed over at a checkpoint: the {@link FileCommitter} publishes it
 * by renaming `pendingPath` (hidden, complete, fsynced) to `finalPath` once the checkpoint is durable.
 *
 * Carries everything the committer needs to see that it is already done: after a restore, the
 * committables of the restored checkpoint are committed again, and a missing `pendingPath` with an
 * existing `finalPath` means it was published before the crash.
 */
export interface FileSinkCommittable {
  readonly bucketId: string
  /** Absolute path of the hidden, complete part file. */
  readonly pendingPath: string
  /** Absolute path it is published as. */
  readonly finalPath: string
  /** Its size in bytes: the committer refuses to publish a file of another size. */
  readonly size: number
  /**
   * Compaction only: hidden part files whose bytes `pendingPath` holds, deleted once it is published.
   * Absent when the file was not compacted.
   */
  readonly compactedFrom?: readonly string[]
}

/** The format version {@link fileSinkCommittableSerializer} writes. */
export const fileSinkCommittableVersion = 1

/**
 * Serializer of {@link FileSinkCommittable}s: JSON, format version 1. Reads every version it ever
 * wrote; a newer version throws an `UnsupportedVersionError` naming it. Stateless.
 */
export function fileSinkCommittableSerializer(): SimpleVersionedSerializer<FileSinkCommittable> {
  const what = 'file sink committable'
  return jsonSerializer(what, fileSinkCommittableVersion, (json) => {
    const reader = JsonReader.of(json, what)
    const compactedFrom = reader.optionalStringArray('compactedFrom')
    const committable: FileSinkCommittable = {
      bucketId: reader.string('bucketId'),
      pendingPath: reader.string('pendingPath'),
      finalPath: reader.string('finalPath'),
      size: reader.integer('size'),
    }
    return compactedFrom === undefined ? committable : { ...committable, compactedFrom }
  })
}
