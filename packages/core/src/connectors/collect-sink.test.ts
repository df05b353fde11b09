import { describe, expect, it } from 'vitest'
import { SerializationError, UnsupportedVersionError } from '../errors.js'
import { SinkDriver } from './__fixtures__/drive-sink.js'
import { type CollectCommittable, CollectSink } from './collect-sink.js'

describe('CollectSink', () => {
  it('shows records only once their checkpoint is committed', async () => {
    const sink = new CollectSink<number>()
    const driver = await SinkDriver.start(sink, { parallelism: 2 })
    await driver.write(0, [1, 2])
    await driver.write(1, [3])
    await driver.checkpoint(1)
    expect(sink.results).toEqual([])
    const settled = await driver.commit(1)
    expect(settled.map((request) => request.outcome)).toEqual(['committed', 'committed'])
    expect([...sink.results].sort()).toEqual([1, 2, 3])
    await driver.close()
  })

  it('prepares one committable per subtask per checkpoint, none for a subtask that wrote nothing', async () => {
    const sink = new CollectSink<string>()
    const driver = await SinkDriver.start(sink, { parallelism: 3, attemptNumber: 2 })
    await driver.write(0, ['a'])
    await driver.write(0, ['b'])
    await driver.write(2, ['c'])
    await driver.checkpoint(1)
    await driver.write(2, ['d'])
    await driver.checkpoint(2)
    const serializer = sink.committableSerializer()
    const decode = (checkpointId: number): CollectCommittable<string>[] =>
      (driver.checkpoints.get(checkpointId)?.committables ?? []).map(({ serialized }) =>
        serializer.deserialize(serialized.version, serialized.bytes),
      )
    expect(decode(1)).toEqual([
      { id: '2-0-w0-0', subtaskId: 0, attemptNumber: 2, sequence: 0, records: ['a', 'b'] },
      { id: '2-2-w2-0', subtaskId: 2, attemptNumber: 2, sequence: 0, records: ['c'] },
    ])
    expect(decode(2)).toEqual([{ id: '2-2-w2-1', subtaskId: 2, attemptNumber: 2, sequence: 1, records: ['d'] }])
    await driver.close()
  })

  it('applies a committable committed twice only once', async () => {
    const sink = new CollectSink<number>()
    const driver = await SinkDriver.start(sink, { parallelism: 1 })
    await driver.write(0, [1, 2, 3])
    await driver.checkpoint(1)
    await driver.commit(1)
    const again = await driver.commit(1)
    expect(again.map((request) => request.outcome)).toEqual(['alreadyCommitted'])
    expect(sink.results).toEqual([1, 2, 3])
  })

  it('is exactly-once across a restore: replayed committables are no-ops, uncommitted records never appear', async () => {
    const sink = new CollectSink<string>()
    const first = await SinkDriver.start(sink, { parallelism: 2 })
    await first.write(0, ['a1'])
    await first.write(1, ['b1'])
    await first.checkpoint(1)
    await first.commit(1)
    await first.write(0, ['a2'])
    await first.checkpoint(2)
    // The job fails after checkpoint 2 is durable but before it is committed, with records written after it.
    await first.write(0, ['a3 never checkpointed'])
    await first.write(1, ['b3 never checkpointed'])
    const restoredCheckpoint = first.checkpoints.get(2)
    await first.close()

    const second = await SinkDriver.start(sink, { parallelism: 2, attemptNumber: 1, restoredCheckpointId: 2 })
    const replayed = await second.commit(2, restoredCheckpoint)
    expect(replayed.map((request) => request.outcome)).toEqual(['committed'])
    // The source replays what came after checkpoint 2; the new attempt's committables have new ids.
    await second.write(0, ['a3'])
    await second.write(1, ['b3'])
    await second.checkpoint(3, true)
    await second.commit(3)
    // A second failure right after the restore commit: checkpoint 2 is committed again, as a no-op.
    const replayedAgain = await second.commit(2, restoredCheckpoint)
    expect(replayedAgain.map((request) => request.outcome)).toEqual(['alreadyCommitted'])
    await second.close()

    expect([...sink.results].sort()).toEqual(['a1', 'a2', 'a3', 'b1', 'b3'])
  })

  it('keeps results across attempts and forgets them on clear()', async () => {
    const sink = new CollectSink<number>()
    for (const attemptNumber of [0, 1]) {
      const driver = await SinkDriver.start(sink, { parallelism: 1, attemptNumber })
      await driver.write(0, [attemptNumber])
      await driver.checkpoint(1, true)
      await driver.commit(1)
      await driver.close()
    }
    expect(sink.results).toEqual([0, 1])
    sink.clear()
    expect(sink.results).toEqual([])
  })

  it('gives two writers of the same subtask and attempt distinct committables', async () => {
    const sink = new CollectSink<number>()
    for (const value of [1, 2]) {
      const driver = await SinkDriver.start(sink, { parallelism: 1 })
      await driver.write(0, [value])
      await driver.checkpoint(1, true)
      await driver.commit(1)
    }
    expect(sink.results).toEqual([1, 2])
  })

  it('commits a large batch without overflowing the stack', async () => {
    const sink = new CollectSink<number>()
    const driver = await SinkDriver.start(sink, { parallelism: 1 })
    await driver.write(0, Array.from({ length: 300_000 }, (_, index) => index))
    await driver.checkpoint(1, true)
    await driver.commit(1)
    expect(sink.results).toHaveLength(300_000)
  })

  describe('committable serializer', () => {
    const sink = new CollectSink<{ id: number }>()
    const serializer = sink.committableSerializer()
    const committable: CollectCommittable<{ id: number }> = {
      id: '0-0-w0-0',
      subtaskId: 0,
      attemptNumber: 0,
      sequence: 0,
      records: [{ id: 1 }, { id: 2 }],
    }

    it('round-trips as version 1 JSON', () => {
      expect(serializer.version).toBe(1)
      expect(serializer.deserialize(1, serializer.serialize(committable))).toEqual(committable)
    })

    it('refuses a newer version and malformed input', () => {
      expect(UnsupportedVersionError.isInstance(catchError(() => serializer.deserialize(2, serializer.serialize(committable))))).toBe(true)
      const malformed = new TextEncoder().encode(JSON.stringify({ ...committable, records: 'nope' }))
      expect(SerializationError.isInstance(catchError(() => serializer.deserialize(1, malformed)))).toBe(true)
    })

    it('fails with a SerializationError for records JSON cannot hold', () => {
      const bigints = new CollectSink<bigint>().committableSerializer()
      const error = catchError(() => bigints.serialize({ ...committable, records: [1n] }))
      expect(SerializationError.isInstance(error)).toBe(true)
      expect((error as Error).message).toMatch(/collect sink committable: cannot be written as JSON/)
    })
  })
})

function catchError(run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    return error
  }
  throw new Error('expected an error')
}
