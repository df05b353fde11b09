import { SerializationError, UnsupportedVersionError } from '@sluice/core'
import { describe, expect, it } from 'vitest'
import { type FileSinkCommittable, fileSinkCommittableSerializer, fileSinkCommittableVersion } from './file-sink-committable.js'

/** Bytes written by format version 1, frozen: every later version must still read them. */
const version1Bytes = Buffer.from(
  '{"bucketId":"2024-05-01--13","pendingPath":"/data/out/2024-05-01--13/.part-0-3.inprogress.7.0a1b2c3d",' +
    '"finalPath":"/data/out/2024-05-01--13/part-0-3","size":1234}',
)

describe('fileSinkCommittableSerializer', () => {
  const serializer = fileSinkCommittableSerializer()

  it('round-trips committables, with and without compaction inputs', () => {
    const plain: FileSinkCommittable = { bucketId: '', pendingPath: '/o/.part-0-0.inprogress.1.ab', finalPath: '/o/part-0-0', size: 0 }
    const compacted: FileSinkCommittable = { ...plain, size: 10, compactedFrom: ['/o/.a', '/o/.b'] }
    for (const committable of [plain, compacted]) {
      expect(serializer.deserialize(serializer.version, serializer.serialize(committable))).toEqual(committable)
    }
    expect(serializer.version).toBe(fileSinkCommittableVersion)
  })

  it('reads the bytes of format version 1', () => {
    expect(serializer.deserialize(1, version1Bytes)).toEqual({
      bucketId: '2024-05-01--13',
      pendingPath: '/data/out/2024-05-01--13/.part-0-3.inprogress.7.0a1b2c3d',
      finalPath: '/data/out/2024-05-01--13/part-0-3',
      size: 1234,
    })
  })

  it('refuses a newer format version with an error naming it', () => {
    let error: unknown
    try {
      serializer.deserialize(fileSinkCommittableVersion + 1, version1Bytes)
    } catch (e) {
      error = e
    }
    expect(UnsupportedVersionError.isInstance(error)).toBe(true)
    expect((error as UnsupportedVersionError).version).toBe(2)
    expect((error as Error).message).toMatch(/file sink committable was written with format version 2, but this code reads versions up to 1/)
  })

  it('names the field of a damaged committable', () => {
    const damaged = Buffer.from('{"bucketId":"b","pendingPath":"/p","finalPath":"/f","size":"12"}')
    expect(() => serializer.deserialize(1, damaged)).toThrow(/file sink committable: field 'size' must be an integer, got "12"/)
    expect(() => serializer.deserialize(1, Buffer.from('{oops'))).toThrow(SerializationError)
  })
})
