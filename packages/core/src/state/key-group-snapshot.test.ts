import { describe, expect, it } from 'vitest'
import { SerializationError, UnsupportedVersionError } from '../errors.js'
import { encodeValue } from './codec.js'
import { KEY_GROUP_SNAPSHOT_VERSION, type KeyGroupContents, readKeyGroupSnapshot, writeKeyGroupSnapshot } from './key-group-snapshot.js'

const owner = "operator 'sum' (1/1)"

function withHeader(version: number, body: unknown): Uint8Array {
  const encoded = encodeValue(body)
  const bytes = new Uint8Array(encoded.length + 1)
  bytes[0] = version
  bytes.set(encoded, 1)
  return bytes
}

describe('key-group snapshot layout', () => {
  const contents: KeyGroupContents = {
    states: [{ name: 'total', kind: 'value', serializerVersion: 0, ttl: false, entries: [['a', 5n]] }],
    eventTimers: ['a', 100],
    processingTimers: [],
  }

  it('starts with the layout version byte and reads back what it wrote', () => {
    const snapshot = writeKeyGroupSnapshot(7, contents)
    expect(snapshot.keyGroup).toBe(7)
    expect(snapshot.bytes[0]).toBe(KEY_GROUP_SNAPSHOT_VERSION)
    expect(KEY_GROUP_SNAPSHOT_VERSION).toBe(1)
    expect(readKeyGroupSnapshot(snapshot, owner)).toEqual(contents)
  })

  it('refuses a newer layout with UnsupportedVersionError naming the key group and owner', () => {
    const error = (() => {
      try {
        readKeyGroupSnapshot({ keyGroup: 3, bytes: withHeader(2, contents) }, owner)
      } catch (caught) {
        return caught
      }
      return undefined
    })()
    expect(UnsupportedVersionError.isInstance(error) && [error.version, error.supportedVersion]).toEqual([2, 1])
    expect((error as Error).message).toContain('key group 3')
    expect((error as Error).message).toContain(owner)
  })

  it('refuses malformed contents with a SerializationError', () => {
    const malformed: unknown[] = [
      'not a map',
      { states: 'x', eventTimers: [], processingTimers: [] },
      { states: [], eventTimers: ['odd'], processingTimers: [] },
      { states: [{ name: 'x', kind: 'tree', serializerVersion: 0, ttl: false, entries: [] }], eventTimers: [], processingTimers: [] },
      { states: [{ name: 'x', kind: 'value', serializerVersion: -1, ttl: false, entries: [] }], eventTimers: [], processingTimers: [] },
      { states: [{ name: 'x', kind: 'value', serializerVersion: 0, ttl: false, entries: [['only-key']] }], eventTimers: [], processingTimers: [] },
    ]
    for (const body of malformed) {
      expect(() => readKeyGroupSnapshot({ keyGroup: 0, bytes: withHeader(1, body) }, owner), JSON.stringify(body)).toThrow(SerializationError)
    }
    expect(() => readKeyGroupSnapshot({ keyGroup: 0, bytes: new Uint8Array([0, 0xa0]) }, owner)).toThrow(SerializationError)
    expect(() => readKeyGroupSnapshot({ keyGroup: 0, bytes: new Uint8Array([1, 0xff]) }, owner)).toThrow(SerializationError)
  })
})
