/**
 * The default byte format of state values and checkpoint payloads: CBOR (RFC 8949), through cbor-x.
 *
 * Why CBOR:
 * - It is a standard (RFC 8949, with registered tags for dates, big integers, typed arrays, sets and
 *   maps), so a checkpoint can be read by any CBOR tool, in any language, years from now.
 * - It is stable across Node versions. `v8.serialize` would be the obvious alternative, but its format
 *   version is tied to the V8 release: a checkpoint written by one Node major is not guaranteed to be
 *   readable by another, which is exactly what a savepoint taken before an upgrade must survive.
 * - It is fast (cbor-x is faster than `JSON.stringify`/`JSON.parse` on Node) and compact.
 * - It round-trips the values state holds in JavaScript, which JSON does not: `Map` (kept a `Map`, while
 *   plain objects stay plain objects), `Set`, `bigint` of any size (exactly), `Date` (to the
 *   millisecond), `Uint8Array` and the other typed arrays, `undefined`, `NaN`, `±Infinity` and `-0`.
 *
 * What does not round-trip: functions and symbols are refused (a `SerializationError`); class instances
 * come back as plain objects with their own enumerable properties (the prototype is lost); shared
 * references come back as copies and cyclic values are refused. For exact decimals (money) store a
 * string or a `bigint` scaled integer (cents), never a binary float.
 *
 * The bytes are self-describing: no record structures or other tables are shared between the writer
 * and the reader, so any single value decodes on its own.
 */
import { Encoder, type Options } from 'cbor-x'
import type { SimpleVersionedSerializer } from '../api/serializer.js'
import { SerializationError, UnsupportedVersionError } from '../errors.js'

/** The cbor-x options both encoders share; `useTag259ForMaps` is missing from cbor-x's typings. */
const baseOptions: Options & { useTag259ForMaps: boolean } = {
  // Records are a cbor-x extension whose structures the writer and reader must share; plain CBOR maps instead.
  useRecords: false,
  // Plain objects are encoded as CBOR maps and decode as objects ...
  mapsAsObjects: true,
  // ... while `Map`s carry tag 259 (explicit map) and decode as `Map`s again.
  useTag259ForMaps: true,
  // Tag 64 (RFC 8746) so a `Uint8Array` decodes as a `Uint8Array`, not as a Node `Buffer`.
  tagUint8Array: true,
  // Decoded byte arrays own their memory: a restored value must not pin, or write through to, the checkpoint bytes.
  copyBuffers: true,
}

let encoder: Encoder | undefined
/**
 * cbor-x writes every integral number as a CBOR integer, which has no negative zero; values holding a
 * `-0` go through this second encoder, which writes every number as a float64 (standard CBOR too,
 * decoded by the same decoder).
 */
let floatEncoder: Encoder | undefined

// Created on first use: no module does work at its top level.
function sharedEncoder(): Encoder {
  encoder ??= new Encoder(baseOptions)
  return encoder
}

function sharedFloatEncoder(): Encoder {
  floatEncoder ??= new Encoder({ ...baseOptions, alwaysUseFloat: true })
  return floatEncoder
}

/**
 * Encodes a value as self-describing CBOR. The result owns its memory (it is not a view into an encoder
 * buffer), so it can be kept for as long as needed.
 *
 * @throws SerializationError when the value holds a function or a symbol, or is cyclic.
 */
export function encodeValue(value: unknown): Uint8Array {
  let encoded: Uint8Array
  try {
    encoded = (containsNegativeZero(value) ? sharedFloatEncoder() : sharedEncoder()).encode(value)
  } catch (error) {
    throw new SerializationError('CBOR value', `cannot encode: ${describe(error)}`, { cause: error })
  }
  // cbor-x returns a slice of an 8 KiB slab it keeps writing into; copy so a small value does not pin the slab.
  return new Uint8Array(encoded)
}

/**
 * Decodes bytes written by {@link encodeValue} (or any standard CBOR data item).
 *
 * @throws SerializationError when the bytes are not exactly one well-formed CBOR data item.
 */
export function decodeValue(bytes: Uint8Array): unknown {
  if (!(bytes instanceof Uint8Array)) {
    throw new SerializationError('CBOR value', `cannot decode ${typeof bytes}: expected a Uint8Array`)
  }
  if (bytes.byteLength === 0) throw new SerializationError('CBOR value', 'cannot decode: no bytes')
  try {
    return sharedEncoder().decode(bytes)
  } catch (error) {
    throw new SerializationError('CBOR value', `cannot decode ${bytes.byteLength} bytes: ${describe(error)}`, {
      cause: error,
    })
  }
}

const cborSerializerInstance: SimpleVersionedSerializer<unknown> = Object.freeze({
  version: 1,
  serialize: (value: unknown) => encodeValue(value),
  deserialize(version: number, serialized: Uint8Array): unknown {
    if (version > 1) throw new UnsupportedVersionError('CBOR-serialized value', version, 1)
    if (version < 1) throw new SerializationError('CBOR-serialized value', `invalid format version ${version}`)
    return decodeValue(serialized)
  },
})

/**
 * The codec as a {@link SimpleVersionedSerializer} (format version 1), for places that take a serializer.
 * Stateless; every call returns the same instance. `deserialize` of a version above 1 throws
 * `UnsupportedVersionError`. The type parameter is not checked at run time.
 */
export function cborSerializer<T>(): SimpleVersionedSerializer<T> {
  return cborSerializerInstance as SimpleVersionedSerializer<T>
}

/**
 * Whether `value` holds a `-0` anywhere cbor-x would write it as an integer. Typed arrays are written
 * as raw bytes and keep their `-0`s; `Map` and `Set` keys are never `-0` (both normalise it to `+0`).
 */
function containsNegativeZero(value: unknown): boolean {
  if (typeof value === 'number') return value === 0 && 1 / value < 0
  if (typeof value !== 'object' || value === null) return false
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      if (containsNegativeZero(value[index])) return true
    }
    return false
  }
  if (value instanceof Map) {
    for (const [key, entry] of value) {
      if (containsNegativeZero(key) || containsNegativeZero(entry)) return true
    }
    return false
  }
  if (value instanceof Set) {
    for (const element of value) {
      if (containsNegativeZero(element)) return true
    }
    return false
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date) return false
  for (const key in value) {
    if (containsNegativeZero((value as Record<string, unknown>)[key])) return true
  }
  return false
}

function describe(error: unknown): string {
  if (error instanceof RangeError && /call stack/i.test(error.message)) return 'the value is cyclic or nested too deeply'
  return error instanceof Error ? error.message : String(error)
}
