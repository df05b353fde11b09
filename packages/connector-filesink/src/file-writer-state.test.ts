import { UnsupportedVersionError } from '@sluice/core'
import { describe, expect, it } from 'vitest'
import { type FileSinkWriterState, fileSinkWriterStateSerializer, fileSinkWriterStateVersion } from './file-writer-state.js'

/** Bytes written by format version 1, frozen: every later version must still read them. */
const version1Bytes = Buffer.from(
  '{"subtaskId":1,"nextCounter":8,"inProgress":[{"bucketId":"b0","path":"/o/b0/.part-1-7.inprogress.12.00ff00ff",' +
    '"finalPath":"/o/b0/part-1-7","validLength":4096,"creationTime":1714560000000,"lastUpdateTime":1714560001000}]}',
)

describe('fileSinkWriterStateSerializer', () => {
  const serializer = fileSinkWriterStateSerializer()

  it('round-trips a writer state', () => {
    const state: FileSinkWriterState = {
      subtaskId: 0,
      nextCounter: 3,
      inProgress: [{ bucketId: 'a/b', path: '/o/a/b/.x', finalPath: '/o/a/b/part-0-2', validLength: 10, creationTime: 1, lastUpdateTime: 2 }],
    }
    expect(serializer.deserialize(fileSinkWriterStateVersion, serializer.serialize(state))).toEqual(state)
  })

  it('reads the bytes of format version 1', () => {
    const state = serializer.deserialize(1, version1Bytes)
    expect(state).toEqual({
      subtaskId: 1,
      nextCounter: 8,
      inProgress: [
        { bucketId: 'b0', path: '/o/b0/.part-1-7.inprogress.12.00ff00ff', finalPath: '/o/b0/part-1-7', validLength: 4096, creationTime: 1714560000000, lastUpdateTime: 1714560001000 },
      ],
    })
  })

  it('refuses a newer format version with an error naming it', () => {
    expect(() => serializer.deserialize(7, version1Bytes)).toThrow(UnsupportedVersionError)
    expect(() => serializer.deserialize(7, version1Bytes)).toThrow(/file sink writer state was written with format version 7/)
  })

  it('names the field of a damaged state', () => {
    const damaged = Buffer.from('{"subtaskId":0,"nextCounter":1,"inProgress":[{"bucketId":"b"}]}')
    expect(() => serializer.deserialize(1, damaged)).toThrow(/file sink writer state inProgress\[0\]: field 'path' must be a string/)
  })
})
