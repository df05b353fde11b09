import type { SimpleVersionedSerializer } from '../api/serializer.js'
import { SerializationError, UnsupportedVersionError } from '../errors.js'
import type { VersionedItem } from './stream-operator.js'

/** Serializes persisted objects with their serializer's version; a throwing serializer is named in the error. */
export function serializeItem<T>(serializer: SimpleVersionedSerializer<T>, value: T, what: string, checkpointId?: number): VersionedItem {
  let bytes: Uint8Array
  try {
    bytes = serializer.serialize(value)
  } catch (error) {
    throw new SerializationError(what, `serializer (version ${serializer.version}) failed: ${messageOf(error)}`, { cause: error })
  }
  if (!(bytes instanceof Uint8Array)) {
    throw new SerializationError(what, `serializer (version ${serializer.version}) returned ${typeof bytes}, expected a Uint8Array`)
  }
  return checkpointId === undefined ? { version: serializer.version, bytes } : { version: serializer.version, bytes, checkpointId }
}

/** Reads back a persisted object; a newer version than the serializer knows is an UnsupportedVersionError. */
export function deserializeItem<T>(serializer: SimpleVersionedSerializer<T>, item: VersionedItem, what: string, where: string): T {
  if (item.version > serializer.version) throw new UnsupportedVersionError(what, item.version, serializer.version, where)
  try {
    return serializer.deserialize(item.version, item.bytes)
  } catch (error) {
    throw new SerializationError(`${what} in ${where}`, `cannot be read with format version ${item.version}: ${messageOf(error)}`, { cause: error })
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
