import type { SimpleVersionedSerializer } from '@sluice/core'
import { JsonReader, jsonSerializer } from './json-serializer.js'

/** A row part file that was in progress at a checkpoint, and how much of it the checkpoint covers. */
export interface InProgressFileState {
  readonly bucketId: string
  /** Absolute path of the hidden in-progress file. */
  readonly path: string
  /** Absolute path it will be published as. */
  readonly finalPath: string
  /** Bytes of the file the checkpoint covers (fsynced before the checkpoint); a restore truncates to it. */
  readonly validLength: number
  readonly creationTime: number
  readonly lastUpdateTime: number
}

/**
 * What one file sink writer (one subtask) snapshots at a checkpoint: exactly one state per writer, so
 * that after a rescale the state of old subtask `s` goes whole to one new subtask.
 *
 * Pending files are not part of it: they travel as committables. Bulk part files are never in it
 * (they roll at every checkpoint).
 */
export interface FileSinkWriterState {
  /** The subtask that snapshotted it. */
  readonly subtaskId: number
  /** The part counter the subtask's next new part file gets. */
  readonly nextCounter: number
  /** Open row part files, at most one per bucket. */
  readonly inProgress: readonly InProgressFileState[]
}

/** The format version {@link fileSinkWriterStateSerializer} writes. */
export const fileSinkWriterStateVersion = 1

/**
 * Serializer of {@link FileSinkWriterState}: JSON, format version 1. Reads every version it ever
 * wrote; a newer version throws an `UnsupportedVersionError` naming it. Stateless.
 */
export function fileSinkWriterStateSerializer(): SimpleVersionedSerializer<FileSinkWriterState> {
  const what = 'file sink writer state'
  return jsonSerializer(what, fileSinkWriterStateVersion, (json) => {
    const reader = JsonReader.of(json, what)
    return {
      subtaskId: reader.integer('subtaskId'),
      nextCounter: reader.integer('nextCounter'),
      inProgress: reader.array('inProgress').map((item, index) => {
        const file = JsonReader.of(item, `${what} inProgress[${index}]`)
        return {
          bucketId: file.string('bucketId'),
          path: file.string('path'),
          finalPath: file.string('finalPath'),
          validLength: file.integer('validLength'),
          creationTime: file.integer('creationTime'),
          lastUpdateTime: file.integer('lastUpdateTime'),
        }
      }),
    }
  })
}
