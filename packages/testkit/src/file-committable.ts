import { SerializationError, type SimpleVersionedSerializer, UnsupportedVersionError } from '@sluice/core'

/**
 * One closed in-progress file of a TransactionalFileSink, handed from a writer to the committer at a
 * checkpoint. It is stored in the checkpoint, so it carries everything the committer needs to commit
 * it again after a restore, and to see that it was already committed: the rename is done when
 * `tempPath` is gone and `finalPath` exists.
 */
export interface FileCommittable {
  /** Absolute path of the closed, fsynced file in `<directory>/.in-progress`. */
  readonly tempPath: string
  /** Absolute path it is renamed to: `<directory>/committed/<same name>`. */
  readonly finalPath: string
  /** Number of records (lines) in the file. */
  readonly records: number
}

/** The format version {@link fileCommittableSerializer} writes. */
export const fileCommittableFormatVersion = 1

const what = 'transactional file sink committable'

/**
 * Serializer of {@link FileCommittable}: JSON over UTF-8, format version 1
 * (`{"tempPath":..,"finalPath":..,"records":..}`). A version newer than 1 throws an
 * `UnsupportedVersionError` naming it; a missing or mistyped field throws a `SerializationError`.
 * Stateless: one instance serves all subtasks.
 */
export function fileCommittableSerializer(): SimpleVersionedSerializer<FileCommittable> {
  return {
    version: fileCommittableFormatVersion,
    serialize(committable: FileCommittable): Uint8Array {
      const { tempPath, finalPath, records } = committable
      return new TextEncoder().encode(JSON.stringify({ tempPath, finalPath, records }))
    },
    deserialize(version: number, serialized: Uint8Array): FileCommittable {
      if (version > fileCommittableFormatVersion) throw new UnsupportedVersionError(what, version, fileCommittableFormatVersion)
      if (version < 1 || !Number.isInteger(version)) {
        throw new SerializationError(what, `unknown format version ${version} (versions start at 1)`)
      }
      let json: unknown
      try {
        json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(serialized))
      } catch (error) {
        throw new SerializationError(what, `is not valid UTF-8 JSON: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        })
      }
      if (typeof json !== 'object' || json === null || Array.isArray(json)) {
        throw new SerializationError(what, `expected a JSON object, got ${json === null ? 'null' : typeof json}`)
      }
      const object = json as Record<string, unknown>
      const tempPath = object.tempPath
      const finalPath = object.finalPath
      const records = object.records
      if (typeof tempPath !== 'string' || tempPath.length === 0) throw new SerializationError(what, "field 'tempPath' must be a non-empty string")
      if (typeof finalPath !== 'string' || finalPath.length === 0) {
        throw new SerializationError(what, "field 'finalPath' must be a non-empty string")
      }
      if (typeof records !== 'number' || !Number.isSafeInteger(records) || records < 0) {
        throw new SerializationError(what, "field 'records' must be a non-negative integer")
      }
      return { tempPath, finalPath, records }
    },
  }
}
