import { describe, expect, it } from 'vitest'
import type { ReaderOutput } from '../api/source-reader.js'
import { ConfigError, IllegalStateError, SerializationError, UnsupportedVersionError } from '../errors.js'
import { SourceDriver, driveToEnd } from './__fixtures__/drive-source.js'
import { fromElementsSource } from './from-elements-source.js'
import type { IndexRangeSplit } from './index-range-split.js'

const range = (count: number): number[] => Array.from({ length: count }, (_, index) => index)

function collectingOutput<T>(): ReaderOutput<T> & { values: T[] } {
  const values: T[] = []
  return { values, collect: (value) => void values.push(value), emitWatermark: () => {} }
}

describe('fromElementsSource', () => {
  it('is bounded and emits every element exactly once, each subtask a contiguous range in order', async () => {
    const driver = await driveToEnd(fromElementsSource(range(10)), 3)
    expect(driver.ended).toBe(true)
    expect(driver.valuesBySubtask()).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ])
  })

  it('assigns each reader its range when it registers, then signals no more splits', async () => {
    const driver = await SourceDriver.start(fromElementsSource(['a', 'b', 'c', 'd']), { parallelism: 2 })
    expect(driver.enumeratorCalls).toEqual([
      { kind: 'assignSplits', subtaskId: 0, splits: [{ splitId: '0', start: 0, end: 2, next: 0 }] },
      { kind: 'signalNoMoreSplits', subtaskId: 0 },
      { kind: 'assignSplits', subtaskId: 1, splits: [{ splitId: '1', start: 2, end: 4, next: 2 }] },
      { kind: 'signalNoMoreSplits', subtaskId: 1 },
    ])
    await driver.close()
  })

  it('creates no empty splits: readers beyond the element count end at once', async () => {
    const driver = await driveToEnd(fromElementsSource(['x', 'y']), 4)
    expect(driver.valuesBySubtask()).toEqual([['x'], ['y'], [], []])
    expect(driver.enumeratorCalls.filter((call) => call.kind === 'assignSplits')).toHaveLength(2)
    expect(driver.statistics.map((statistics) => statistics.ended)).toEqual([true, true, true, true])
  })

  it('ends at once for no elements', async () => {
    const driver = await driveToEnd(fromElementsSource([]), 2)
    expect(driver.records).toEqual([])
    expect(driver.ended).toBe(true)
  })

  it('reads the iterable once and reuses the elements across restarts', async () => {
    let iterations = 0
    function* generate(): Generator<string> {
      iterations++
      yield 'one'
      yield 'two'
    }
    const source = fromElementsSource(generate())
    const first = await driveToEnd(source, 1)
    const second = await driveToEnd(source, 1)
    expect(iterations).toBe(1)
    expect(first.valuesBySubtask()).toEqual([['one', 'two']])
    expect(second.valuesBySubtask()).toEqual([['one', 'two']])
  })

  it('attaches the timestamps computed from value and index', async () => {
    const driver = await driveToEnd(fromElementsSource([5, 6, 7], { timestamps: (value, index) => value * 1000 + index }), 1)
    expect(driver.records.map((record) => record.timestamp)).toEqual([5000, 6001, 7002])
  })

  it('emits at most batchSize records per poll and ends only after it was told no more splits', () => {
    const source = fromElementsSource(range(5), { batchSize: 2 })
    const reader = source.createReader({ subtaskId: 0, parallelism: 1, sendSplitRequest: () => {} })
    const output = collectingOutput<number>()
    expect(reader.pollNext(output)).toBe('NOTHING_AVAILABLE')
    reader.addSplits([{ splitId: '0', start: 0, end: 5, next: 0 }])
    expect(reader.pollNext(output)).toBe('MORE_AVAILABLE')
    expect(output.values).toEqual([0, 1])
    expect(reader.pollNext(output)).toBe('MORE_AVAILABLE')
    expect(reader.pollNext(output)).toBe('MORE_AVAILABLE')
    expect(output.values).toEqual([0, 1, 2, 3, 4])
    expect(reader.pollNext(output)).toBe('NOTHING_AVAILABLE')
    reader.notifyNoMoreSplits()
    expect(reader.pollNext(output)).toBe('END_OF_INPUT')
  })

  it('resolves isAvailable when splits arrive', async () => {
    const reader = fromElementsSource(range(3)).createReader({ subtaskId: 0, parallelism: 1, sendSplitRequest: () => {} })
    let resolved = false
    const available = reader.isAvailable().then(() => {
      resolved = true
    })
    await Promise.resolve()
    expect(resolved).toBe(false)
    reader.addSplits([{ splitId: '0', start: 0, end: 3, next: 0 }])
    await available
    expect(resolved).toBe(true)
  })

  it('snapshots each split with its next index', () => {
    const reader = fromElementsSource(range(10), { batchSize: 3 }).createReader({
      subtaskId: 0,
      parallelism: 1,
      sendSplitRequest: () => {},
    })
    reader.addSplits([{ splitId: '0', start: 0, end: 10, next: 0 }])
    reader.pollNext(collectingOutput())
    expect(reader.snapshotState(1)).toEqual([{ splitId: '0', start: 0, end: 10, next: 3 }])
  })

  it.each([
    { name: 'the same parallelism', before: 3, after: 3 },
    { name: 'a higher parallelism', before: 2, after: 5 },
    { name: 'a lower parallelism', before: 4, after: 1 },
  ])('loses and repeats no element across a restore with $name', async ({ before, after }) => {
    const elements = range(1000)
    const source = fromElementsSource(elements, { batchSize: 7 })
    const first = await SourceDriver.start(source, { parallelism: before })
    await first.run(() => first.records.length >= 300)
    const checkpoint = first.snapshot(1)
    const beforeCheckpoint = first.records.map((record) => record.value)
    // Records emitted after the checkpoint are lost with the failure: the restored job replays them.
    await first.run(() => first.records.length >= 500)
    await first.close()

    const restored = await SourceDriver.start(source, { parallelism: after, restoreFrom: checkpoint })
    await restored.run()
    await restored.close()
    const afterRestore = restored.records.map((record) => record.value)

    expect(restored.ended).toBe(true)
    expect([...beforeCheckpoint, ...afterRestore].sort((a, b) => a - b)).toEqual(elements)
  })

  it('keeps splits of readers that had not registered at the checkpoint in the enumerator state', async () => {
    const source = fromElementsSource(range(6))
    const serializer = source.enumeratorCheckpointSerializer()
    const assigned: number[] = []
    const enumerator = source.createEnumerator({
      parallelism: 3,
      registeredReaders: () => [0],
      assignSplits: (subtaskId) => void assigned.push(subtaskId),
      signalNoMoreSplits: () => {},
      callAsync: () => {},
    })
    enumerator.start()
    enumerator.addReader(0)
    const state = serializer.deserialize(serializer.version, serializer.serialize(enumerator.snapshotState(1)))
    expect(assigned).toEqual([0])
    expect(state).toEqual([
      { splitId: '1', start: 2, end: 4, next: 2 },
      { splitId: '2', start: 4, end: 6, next: 4 },
    ])
  })

  it('refuses a restored split that does not fit the elements', () => {
    const reader = fromElementsSource(range(3)).createReader({ subtaskId: 0, parallelism: 1, sendSplitRequest: () => {} })
    expect(() => reader.addSplits([{ splitId: '0', start: 0, end: 10, next: 5 }])).toThrowError(/source has 3 elements/)
    expect(IllegalStateError.isInstance(catchError(() => reader.addSplits([{ splitId: '0', start: 0, end: 9, next: 0 }])))).toBe(true)
  })

  describe('serializers', () => {
    const source = fromElementsSource(range(3))
    const split: IndexRangeSplit = { splitId: '0', start: 0, end: 3, next: 1 }

    it('round-trip splits and enumerator state as version 1 JSON', () => {
      const serializer = source.splitSerializer()
      expect(serializer.version).toBe(1)
      const bytes = serializer.serialize(split)
      expect(JSON.parse(new TextDecoder().decode(bytes))).toEqual(split)
      expect(serializer.deserialize(1, bytes)).toEqual(split)
      const stateSerializer = source.enumeratorCheckpointSerializer()
      expect(stateSerializer.deserialize(1, stateSerializer.serialize([split]))).toEqual([split])
    })

    it('refuse a newer version', () => {
      const error = catchError(() => source.splitSerializer().deserialize(2, source.splitSerializer().serialize(split)))
      expect(UnsupportedVersionError.isInstance(error)).toBe(true)
      expect((error as Error).message).toMatch(/version 2/)
    })

    it('refuse malformed or impossible splits', () => {
      const serializer = source.splitSerializer()
      const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))
      expect(SerializationError.isInstance(catchError(() => serializer.deserialize(1, encode({ splitId: '0', start: 0 }))))).toBe(true)
      expect(SerializationError.isInstance(catchError(() => serializer.deserialize(1, new Uint8Array([0x7b]))))).toBe(true)
      expect(() => serializer.deserialize(1, encode({ splitId: '0', start: 0, end: 3, next: 4 }))).toThrowError(/impossible position/)
    })
  })

  describe('options', () => {
    it('are validated when the source is built, naming the option', () => {
      expect(() => fromElementsSource(range(3), { batchSize: 0 })).toThrowError(
        'fromElements.batchSize: expected a positive integer, got 0',
      )
      expect(() => fromElementsSource(range(3), { timestamps: 5 as never })).toThrowError(/fromElements.timestamps: expected a function/)
      expect(() => fromElementsSource(range(3), { batchsize: 3 } as never)).toThrowError(/fromElements.batchsize: unknown option/)
      expect(ConfigError.isInstance(catchError(() => fromElementsSource(42 as never)))).toBe(true)
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
