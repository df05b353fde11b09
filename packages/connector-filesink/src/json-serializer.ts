import { type SimpleVersionedSerializer, SerializationError, UnsupportedVersionError } from '@sluice/core'

/**
 * A {@link SimpleVersionedSerializer} writing JSON over UTF-8 for the sink's persisted objects. JSON
 * rather than CBOR: these objects are a handful of paths and numbers per checkpoint, and a person
 * debugging a stuck commit can read them.
 *
 * `decode(version, json)` checks the parsed JSON and returns it typed; it throws a SerializationError
 * naming the object and the field when a field is missing or of the wrong kind. A version newer than
 * `version` throws {@link UnsupportedVersionError} naming it.
 */
export function jsonSerializer<T>(what: string, version: number, decode: (json: unknown, version: number) => T): SimpleVersionedSerializer<T> {
  return {
    version,
    serialize(value: T): Uint8Array {
      return Buffer.from(JSON.stringify(value), 'utf8')
    },
    deserialize(serializedVersion: number, serialized: Uint8Array): T {
      if (serializedVersion > version) throw new UnsupportedVersionError(what, serializedVersion, version)
      if (!Number.isInteger(serializedVersion) || serializedVersion < 1) {
        throw new SerializationError(what, `unknown format version ${serializedVersion} (versions start at 1)`)
      }
      let json: unknown
      try {
        json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(serialized))
      } catch (error) {
        throw new SerializationError(what, `is not valid UTF-8 JSON: ${(error as Error).message}`, { cause: error })
      }
      return decode(json, serializedVersion)
    },
  }
}

/** Reads typed fields out of parsed JSON, with errors naming the object and the field. */
export class JsonReader {
  constructor(
    private readonly what: string,
    private readonly object: Record<string, unknown>,
  ) {}

  static of(json: unknown, what: string): JsonReader {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new SerializationError(what, `expected a JSON object, got ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json}`)
    }
    return new JsonReader(what, json as Record<string, unknown>)
  }

  string(field: string): string {
    const value = this.object[field]
    if (typeof value !== 'string') throw this.fail(field, 'a string', value)
    return value
  }

  integer(field: string): number {
    const value = this.object[field]
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw this.fail(field, 'an integer', value)
    return value
  }

  array(field: string): unknown[] {
    const value = this.object[field]
    if (!Array.isArray(value)) throw this.fail(field, 'an array', value)
    return value
  }

  optionalStringArray(field: string): string[] | undefined {
    const value = this.object[field]
    if (value === undefined) return undefined
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw this.fail(field, 'an array of strings', value)
    return value as string[]
  }

  private fail(field: string, expected: string, value: unknown): SerializationError {
    return new SerializationError(this.what, `field '${field}' must be ${expected}, got ${JSON.stringify(value) ?? 'nothing'}`)
  }
}
