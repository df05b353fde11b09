import type { SimpleVersionedSerializer } from '../api/serializer.js'
import { SerializationError, UnsupportedVersionError } from '../errors.js'

/** The only format version the JSON serializers of the built-in connectors have written so far. */
export const jsonFormatVersion = 1

/**
 * A {@link SimpleVersionedSerializer} writing JSON over UTF-8, format version 1, for the small
 * persisted objects of the built-in connectors (splits, enumerator states, committables).
 *
 * `decode` checks the parsed JSON and returns it typed; it throws a {@link SerializationError} (use
 * the `expect*` helpers) when a field is missing or of the wrong kind, so a corrupted or foreign
 * checkpoint fails with the name of the object instead of a `TypeError` deep in a reader.
 * Reading a version newer than 1 throws {@link UnsupportedVersionError}.
 * The serializer is stateless: one instance serves all subtasks.
 */
export function jsonSerializer<T>(what: string, decode: (json: unknown) => T): SimpleVersionedSerializer<T> {
  return {
    version: jsonFormatVersion,
    serialize(value: T): Uint8Array {
      let text: string | undefined
      try {
        text = JSON.stringify(value)
      } catch (error) {
        throw new SerializationError(what, `cannot be written as JSON: ${messageOf(error)}`, { cause: error })
      }
      if (text === undefined) throw new SerializationError(what, `cannot be written as JSON: got ${typeof value}`)
      return new TextEncoder().encode(text)
    },
    deserialize(version: number, serialized: Uint8Array): T {
      if (version > jsonFormatVersion) throw new UnsupportedVersionError(what, version, jsonFormatVersion)
      if (version < 1 || !Number.isInteger(version)) {
        throw new SerializationError(what, `unknown format version ${version} (versions start at 1)`)
      }
      let json: unknown
      try {
        json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(serialized))
      } catch (error) {
        throw new SerializationError(what, `is not valid UTF-8 JSON: ${messageOf(error)}`, { cause: error })
      }
      return decode(json)
    },
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** The parsed value as an object whose fields can be read, or a SerializationError naming `what`. */
export function expectObject(json: unknown, what: string): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SerializationError(what, `expected a JSON object, got ${json === null ? 'null' : typeof json}`)
  }
  return json as Record<string, unknown>
}

export function expectArray(json: unknown, what: string): unknown[] {
  if (!Array.isArray(json)) throw new SerializationError(what, `expected a JSON array, got ${typeof json}`)
  return json
}

export function expectInteger(object: Record<string, unknown>, field: string, what: string): number {
  const value = object[field]
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new SerializationError(what, `field '${field}' must be an integer, got ${JSON.stringify(value) ?? 'nothing'}`)
  }
  return value
}

export function expectString(object: Record<string, unknown>, field: string, what: string): string {
  const value = object[field]
  if (typeof value !== 'string') {
    throw new SerializationError(what, `field '${field}' must be a string, got ${JSON.stringify(value) ?? 'nothing'}`)
  }
  return value
}
