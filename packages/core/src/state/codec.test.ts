import { describe, expect, it } from 'vitest'
import { SerializationError, UnsupportedVersionError } from '../errors.js'
import { cborSerializer, decodeValue, encodeValue } from './codec.js'

function roundTrip<T>(value: T): T {
  return decodeValue(encodeValue(value)) as T
}

describe('codec', () => {
  it('keeps a Map a Map and a plain object a plain object, at any depth', () => {
    const value = {
      counts: new Map<unknown, unknown>([
        ['a', 1],
        [2, { nested: new Map([['x', [1, 2]]]) }],
      ]),
      plain: { a: 1, b: { c: 'd' } },
    }
    const decoded = roundTrip(value)
    expect(decoded.counts).toBeInstanceOf(Map)
    expect(decoded.counts.get('a')).toBe(1)
    const nested = decoded.counts.get(2) as { nested: Map<string, number[]> }
    expect(Object.getPrototypeOf(nested)).toBe(Object.prototype)
    expect(nested.nested).toBeInstanceOf(Map)
    expect(nested.nested.get('x')).toEqual([1, 2])
    expect(decoded.plain).not.toBeInstanceOf(Map)
    expect(Object.getPrototypeOf(decoded.plain)).toBe(Object.prototype)
    expect(decoded).toEqual(value)
    expect(roundTrip(new Map())).toEqual(new Map())
    expect(roundTrip({})).toEqual({})
  })

  it('round-trips bigint of any size exactly', () => {
    const values = [
      0n,
      1n,
      -1n,
      123n,
      2n ** 63n - 1n,
      -(2n ** 63n),
      2n ** 64n - 1n,
      2n ** 64n,
      -(2n ** 64n) - 1n,
      12345678901234567890123456789012345678901234567890n,
      -(10n ** 100n) + 7n,
    ]
    for (const value of values) {
      const decoded = roundTrip(value)
      expect(typeof decoded).toBe('bigint')
      expect(decoded).toBe(value)
    }
    // bigint and number stay distinct types.
    expect(roundTrip(5)).toBe(5)
    expect(roundTrip(5n)).toBe(5n)
    expect(roundTrip({ cents: 1999n, currency: 'EUR' })).toEqual({ cents: 1999n, currency: 'EUR' })
  })

  it('round-trips numbers including -0, NaN, ±Infinity, large and fractional values', () => {
    const values = [0, 1, -1, 23, 24, 255, 65536, 2 ** 32, -(2 ** 32) - 1, 2 ** 53, -(2 ** 53), 0.1, -2.5e-300, Number.MAX_VALUE, Number.MIN_VALUE]
    for (const value of values) expect(roundTrip(value)).toBe(value)
    expect(Object.is(roundTrip(-0), -0)).toBe(true)
    expect(Object.is(roundTrip(0), 0)).toBe(true)
    expect(Number.isNaN(roundTrip(Number.NaN))).toBe(true)
    expect(roundTrip(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY)
    expect(roundTrip(Number.NEGATIVE_INFINITY)).toBe(Number.NEGATIVE_INFINITY)
    const nested = roundTrip({ list: [1, -0, 2.5, Number.NaN], map: new Map([['z', -0]]) })
    expect(Object.is(nested.list[1], -0)).toBe(true)
    expect(nested.list[0]).toBe(1)
    expect(nested.list[2]).toBe(2.5)
    expect(Number.isNaN(nested.list[3])).toBe(true)
    expect(Object.is(nested.map.get('z'), -0)).toBe(true)
  })

  it('round-trips Date to the millisecond, Uint8Array, Set, undefined and nested arrays', () => {
    for (const time of [0, 1_234_567, 1_700_000_000_123, 1_700_000_000_999, -86_400_001, Date.UTC(2999, 11, 31, 23, 59, 59, 999)]) {
      const decoded = roundTrip(new Date(time))
      expect(decoded).toBeInstanceOf(Date)
      expect(decoded.getTime()).toBe(time)
    }
    const bytes = roundTrip(new Uint8Array([0, 1, 254, 255]))
    expect(bytes.constructor).toBe(Uint8Array)
    expect([...bytes]).toEqual([0, 1, 254, 255])
    expect(roundTrip(new Set(['a', 1]))).toEqual(new Set(['a', 1]))
    expect(roundTrip(undefined)).toBeUndefined()
    expect(roundTrip(null)).toBeNull()
    const object = roundTrip({ a: undefined, b: null })
    expect(Object.hasOwn(object, 'a')).toBe(true)
    expect(object.a).toBeUndefined()
    expect(object.b).toBeNull()
    expect(roundTrip([1, [2, [3, [undefined, 'x', true, false]]], []])).toEqual([1, [2, [3, [undefined, 'x', true, false]]], []])
    expect(roundTrip('héllo wörld 🎉')).toBe('héllo wörld 🎉')
    const floats = roundTrip(new Float64Array([1.5, -0]))
    expect(floats).toBeInstanceOf(Float64Array)
    expect(Object.is(floats[1], -0)).toBe(true)
  })

  it('returns bytes that own their memory and decoded bytes that do not alias the input', () => {
    const first = encodeValue('first')
    const second = encodeValue('second')
    expect(first.byteOffset).toBe(0)
    expect(first.buffer.byteLength).toBe(first.byteLength)
    expect(first.buffer).not.toBe(second.buffer)
    const encoded = encodeValue({ payload: new Uint8Array([9, 9, 9]) })
    const decoded = decodeValue(encoded) as { payload: Uint8Array }
    decoded.payload[0] = 1
    expect(decodeValue(encoded)).toEqual({ payload: new Uint8Array([9, 9, 9]) })
  })

  it('refuses values it cannot represent with a SerializationError', () => {
    expect(() => encodeValue({ callback: () => 1 })).toThrow(SerializationError)
    expect(() => encodeValue([Symbol('s')])).toThrow(SerializationError)
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => encodeValue(cyclic)).toThrow(/cyclic/)
  })

  it('throws a SerializationError on garbage, truncated, trailing or empty input', () => {
    const garbage = [
      new Uint8Array([0xff, 0xfe, 0x12]), // break code outside an indefinite-length item
      new Uint8Array([0x1c]), // reserved additional information
      new Uint8Array([0x82, 0x01]), // array of 2 with 1 element
      new Uint8Array([0x01, 0x01]), // two items where one is expected
      new Uint8Array([0x65, 0x61]), // text of 5 bytes with 1
      new Uint8Array([]),
    ]
    for (const bytes of garbage) {
      expect(() => decodeValue(bytes), `bytes ${[...bytes]}`).toThrow(SerializationError)
    }
    const encoded = encodeValue({ a: [1, 2, 3], b: 'text' })
    expect(() => decodeValue(encoded.subarray(0, encoded.length - 2))).toThrow(SerializationError)
  })

  it('cborSerializer writes version 1, reads it back and refuses newer versions', () => {
    const serializer = cborSerializer<{ total: bigint }>()
    expect(serializer.version).toBe(1)
    const bytes = serializer.serialize({ total: 10n ** 30n })
    expect(serializer.deserialize(1, bytes)).toEqual({ total: 10n ** 30n })
    expect(() => serializer.deserialize(2, bytes)).toThrow(UnsupportedVersionError)
    let error: unknown
    try {
      serializer.deserialize(7, bytes)
    } catch (caught) {
      error = caught
    }
    expect(UnsupportedVersionError.isInstance(error) && error.version).toBe(7)
  })
})
