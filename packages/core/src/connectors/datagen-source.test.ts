import { describe, expect, it } from 'vitest'
import type { ReaderOutput } from '../api/source-reader.js'
import { ConfigError, SerializationError, UnsupportedVersionError } from '../errors.js'
import { SourceDriver, driveToEnd } from './__fixtures__/drive-source.js'
import { datagenSource, seededInt, seededRandom } from './datagen-source.js'
import type { DatagenSplit } from './datagen-split.js'

const identity = (index: number): number => index

function collectingOutput<T>(): ReaderOutput<T> & { values: T[] } {
  const values: T[] = []
  return { values, collect: (value) => void values.push(value), emitWatermark: () => {} }
}

/** An output that takes batches, and remembers each one (its records and timestamps) as it came. */
function batchingOutput<T>(): ReaderOutput<T> & { batches: { records: T[]; timestamps: (number | undefined)[] | undefined }[] } {
  const batches: { records: T[]; timestamps: (number | undefined)[] | undefined }[] = []
  return {
    batches,
    collect: () => {
      throw new Error('collect called on an output that takes batches')
    },
    collectBatch: (records, timestamps) => void batches.push({ records, timestamps }),
    emitWatermark: () => {},
  }
}

describe('datagenSource', () => {
  it('hands an output that takes batches one batch per poll: the records and timestamps of collect, fresh arrays each time', () => {
    const read = (output: ReaderOutput<number>, stride: number) => {
      const source = datagenSource({ generator: identity, count: 23, batchSize: 5, timestamp: (value) => value * 10 })
      const reader = source.createReader({ subtaskId: 0, parallelism: 1, sendSplitRequest: () => {} })
      // Two bounded splits of different lengths and an unbounded one with a stride: batches end at split ends.
      reader.addSplits([
        { splitId: 'a', next: 0, end: 7, stride: 1 },
        { splitId: 'b', next: 7, end: 9, stride: 1 },
        { splitId: 'c', next: 100, end: null, stride },
      ])
      const statuses: string[] = []
      for (let poll = 0; poll < 6; poll++) statuses.push(reader.pollNext(output))
      return statuses
    }
    const perRecord: { value: number; timestamp: number | undefined }[] = []
    const collectStatuses = read({ collect: (value, timestamp) => void perRecord.push({ value, timestamp }), emitWatermark: () => {} }, 3)
    const batching = batchingOutput<number>()
    const batchStatuses = read(batching, 3)
    expect(batchStatuses).toEqual(collectStatuses)
    expect(batching.batches.map(({ records }) => records)).toEqual([
      [0, 1, 2, 3, 4],
      [7, 8],
      [100, 103, 106, 109, 112],
      [5, 6],
      [115, 118, 121, 124, 127],
      [130, 133, 136, 139, 142],
    ])
    const flattened = batching.batches.flatMap(({ records, timestamps }) => records.map((value, index) => ({ value, timestamp: timestamps?.[index] })))
    expect(flattened).toEqual(perRecord)
    expect(new Set(batching.batches.map(({ records }) => records)).size).toBe(batching.batches.length)
  })

  describe('bounded (count given)', () => {
    it('generates every index in [0, count) exactly once, in contiguous ranges per subtask', async () => {
      const source = datagenSource({ generator: (index) => `record-${index}`, count: 10 })
      expect(source.boundedness).toBe('BOUNDED')
      const driver = await driveToEnd(source, 3)
      expect(driver.valuesBySubtask()).toEqual([
        ['record-0', 'record-1', 'record-2', 'record-3'],
        ['record-4', 'record-5', 'record-6'],
        ['record-7', 'record-8', 'record-9'],
      ])
    })

    it('is deterministic: two runs emit the same records', async () => {
      const source = datagenSource({ generator: (index) => seededInt(42, index, 0, 1000), count: 500, batchSize: 17 })
      const first = await driveToEnd(source, 4)
      const second = await driveToEnd(source, 4)
      expect(second.valuesBySubtask()).toEqual(first.valuesBySubtask())
    })

    it('cuts the index space into the number of splits asked for, spread round-robin over readers', async () => {
      const driver = await SourceDriver.start(datagenSource({ generator: identity, count: 8, splits: 4 }), { parallelism: 2 })
      const assigned = driver.enumeratorCalls.flatMap((call) =>
        call.kind === 'assignSplits' ? [{ subtaskId: call.subtaskId, splits: call.splits.map((split) => split.splitId) }] : [],
      )
      expect(assigned).toEqual([
        { subtaskId: 0, splits: ['0', '2'] },
        { subtaskId: 1, splits: ['1', '3'] },
      ])
      await driver.run()
      await driver.close()
      expect(driver.valuesBySubtask().map((values) => [...values].sort((a, b) => a - b))).toEqual([
        [0, 1, 4, 5],
        [2, 3, 6, 7],
      ])
    })

    it('ends at once with count 0', async () => {
      const driver = await driveToEnd(datagenSource({ generator: identity, count: 0 }), 2)
      expect(driver.records).toEqual([])
      expect(driver.ended).toBe(true)
    })

    it('attaches timestamps', async () => {
      const driver = await driveToEnd(datagenSource({ generator: identity, count: 3, timestamp: (_, index) => 1000 + index }), 1)
      expect(driver.records.map((record) => record.timestamp)).toEqual([1000, 1001, 1002])
    })

    it('loses and repeats no index across a restore, also at another parallelism', async () => {
      const source = datagenSource({ generator: identity, count: 5000, splits: 6, batchSize: 64 })
      const first = await SourceDriver.start(source, { parallelism: 3 })
      await first.run(() => first.records.length >= 1700)
      const checkpoint = first.snapshot(7)
      const beforeCheckpoint = first.records.map((record) => record.value)
      await first.run(() => first.records.length >= 3000)
      await first.close()

      const restored = await SourceDriver.start(source, { parallelism: 2, restoreFrom: checkpoint })
      await restored.run()
      await restored.close()
      const all = [...beforeCheckpoint, ...restored.records.map((record) => record.value)]
      expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: 5000 }, (_, index) => index))
    })
  })

  describe('unbounded (no count)', () => {
    it('gives split k of S the indexes k, k + S, k + 2S, ...', async () => {
      const source = datagenSource({ generator: identity, splits: 3, batchSize: 4 })
      expect(source.boundedness).toBe('CONTINUOUS_UNBOUNDED')
      const driver = await SourceDriver.start(source, { parallelism: 3 })
      for (let round = 0; round < 2; round++) for (let subtaskId = 0; subtaskId < 3; subtaskId++) driver.pollOnce(subtaskId)
      await driver.close()
      expect(driver.valuesBySubtask()).toEqual([
        [0, 3, 6, 9, 12, 15, 18, 21],
        [1, 4, 7, 10, 13, 16, 19, 22],
        [2, 5, 8, 11, 14, 17, 20, 23],
      ])
    })

    /** A reader of two unbounded splits, the even and the odd indexes, two records per poll. */
    const evenAndOddReader = () => {
      const reader = datagenSource({ generator: identity, splits: 2, batchSize: 2 }).createReader({ subtaskId: 0, parallelism: 1, sendSplitRequest: () => {} })
      reader.addSplits([
        { splitId: '0', next: 0, end: null, stride: 2 },
        { splitId: '1', next: 1, end: null, stride: 2 },
      ])
      return reader
    }

    it('takes turns between the splits of one reader so none starves', () => {
      const reader = evenAndOddReader()
      const output = collectingOutput<number>()
      for (let poll = 0; poll < 4; poll++) expect(reader.pollNext(output)).toBe('MORE_AVAILABLE')
      expect(output.values).toEqual([0, 2, 1, 3, 4, 6, 5, 7])
    })

    it('skips paused splits (watermark alignment per split), waits when all are paused, resumes where they stopped', async () => {
      const reader = evenAndOddReader()
      const output = collectingOutput<number>()
      reader.pauseOrResumeSplits?.(['1'], [])
      for (let poll = 0; poll < 3; poll++) expect(reader.pollNext(output)).toBe('MORE_AVAILABLE')
      expect(output.values).toEqual([0, 2, 4, 6, 8, 10])
      reader.pauseOrResumeSplits?.(['0'], [])
      expect(reader.pollNext(output)).toBe('NOTHING_AVAILABLE')
      let available = false
      const waiting = reader.isAvailable().then(() => {
        available = true
      })
      await Promise.resolve()
      expect(available).toBe(false)
      reader.pauseOrResumeSplits?.([], ['1'])
      await waiting
      expect(available).toBe(true)
      // Split 1 starts where it was; split 0 stays paused; the checkpoint still holds both positions.
      for (let poll = 0; poll < 2; poll++) expect(reader.pollNext(output)).toBe('MORE_AVAILABLE')
      expect(output.values.slice(6)).toEqual([1, 3, 5, 7])
      expect(reader.snapshotState(1)).toEqual([
        { splitId: '0', next: 12, end: null, stride: 2 },
        { splitId: '1', next: 9, end: null, stride: 2 },
      ])
      reader.pauseOrResumeSplits?.([], ['0'])
      expect(reader.pollNext(output)).toBe('MORE_AVAILABLE')
      expect(reader.pollNext(output)).toBe('MORE_AVAILABLE')
      expect(output.values.slice(10)).toEqual([12, 14, 9, 11])
    })

    it('continues exactly where the checkpoint was: no index twice, none skipped', async () => {
      const splits = 4
      const source = datagenSource({ generator: identity, splits, batchSize: 50 })
      const first = await SourceDriver.start(source, { parallelism: 2 })
      await first.run(() => first.records.length >= 2000)
      const checkpoint = first.snapshot(3)
      const beforeCheckpoint = first.records.map((record) => record.value)
      await first.run(() => first.records.length >= 4000)
      await first.close()

      const restored = await SourceDriver.start(source, { parallelism: 2, restoreFrom: checkpoint })
      await restored.run(() => restored.records.length >= 2000)
      await restored.close()
      const all = [...beforeCheckpoint, ...restored.records.map((record) => record.value)]

      expect(new Set(all).size).toBe(all.length)
      for (let split = 0; split < splits; split++) {
        const ofSplit = all.filter((index) => index % splits === split).sort((a, b) => a - b)
        expect(ofSplit.length).toBeGreaterThan(0)
        expect(ofSplit).toEqual(ofSplit.map((_, position) => split + position * splits))
      }
    })
  })

  describe('rate limiting', () => {
    it('spreads recordsPerSecond over the readers and sleeps instead of spinning', async () => {
      // Wall-clock bounds only from below: a loaded machine (CI runs every test on 2 cores) can make a
      // rate limiter slower, never faster. Nothing here may depend on how promptly timers fire.
      const startedAt = performance.now()
      const source = datagenSource({ generator: identity, count: 40, recordsPerSecond: 200 })
      const driver = await driveToEnd(source, 2)
      const elapsed = performance.now() - startedAt

      expect(driver.records).toHaveLength(40)
      // 100 records/s per reader, 20 records each, the first one free: a reader's 20th token accrues
      // 190 ms after its bucket was made (tokens follow performance.now(), not the timers), however late
      // the timers fire. 1 ms of slack for floating point.
      expect(elapsed).toBeGreaterThanOrEqual(189)
      // Not a timing bound worth the name (a loaded machine can stall for seconds): it only catches a
      // limiter that sleeps seconds where it should sleep milliseconds (that would take >= 19 s).
      expect(elapsed).toBeLessThan(15_000)
      const polls = driver.statistics.reduce((sum, statistics) => sum + statistics.polls, 0)
      const waits = driver.statistics.reduce((sum, statistics) => sum + statistics.waits, 0)
      // It ran out of tokens and slept. Unloaded a reader sleeps about once per token (~19 times each);
      // under load a late wake-up finds several tokens (or the loop's own stalls accrue them), so the
      // count of sleeps is no measure of the rate: the elapsed time above is. (This once asserted >= 10.)
      expect(waits).toBeGreaterThanOrEqual(1)
      // A busy loop would poll thousands of times in 190 ms. Sleeping, a reader polls about twice per
      // token (~80 in all unloaded); load only lowers the count (a poll after a stall takes several tokens).
      expect(polls).toBeLessThan(200)
    })

    it('makes isAvailable resolve by a timer when the bucket is empty, and at once on close', async () => {
      // Measured from before the bucket exists: the second token is due 100 ms after it was made. (Measured
      // from after the first polls, as this test once did, a machine that stalls the test for 50 ms
      // between the polls and the clock read leaves less than 50 ms to wait: a flake under load.)
      const createdAt = performance.now()
      const source = datagenSource({ generator: identity, recordsPerSecond: 10 })
      const reader = source.createReader({ subtaskId: 0, parallelism: 1, sendSplitRequest: () => {} })
      reader.addSplits([{ splitId: '0', next: 0, end: null, stride: 1 }])
      const output = collectingOutput<number>()
      expect(reader.pollNext(output)).toBe('MORE_AVAILABLE')
      expect(output.values).toEqual([0])
      expect(reader.pollNext(output)).toBe('NOTHING_AVAILABLE')
      // isAvailable() resolves when pollNext *may* have records (SourceReader contract): the runtime polls
      // again and waits again on NOTHING_AVAILABLE. A Node timer can fire up to a few ms before
      // performance.now() says its delay is over (its start is the event loop's cached time), so the
      // first wake-up may come before the token is due; the reader then sleeps the rest. Seen under load
      // (1 in ~100 tries with 6 busy processes on 2 cores): woken with the token not yet due, the next
      // poll said NOTHING_AVAILABLE, and the old single-wake-up assertion failed.
      let wakeUps = 0
      let status: ReturnType<typeof reader.pollNext>
      do {
        await reader.isAvailable()
        wakeUps++
        status = reader.pollNext(output)
      } while (status === 'NOTHING_AVAILABLE' && wakeUps < 20)
      expect(status).toBe('MORE_AVAILABLE')
      // A timer, not a spin (a reader whose isAvailable resolved at once would use up the 20 wake-ups in
      // a millisecond): a few wake-ups at most, and the token not handed out before it was due.
      expect(wakeUps).toBeLessThanOrEqual(5)
      expect(performance.now() - createdAt).toBeGreaterThanOrEqual(99)
      expect(output.values).toEqual([0, 1])
      const pending = reader.isAvailable()
      reader.close()
      await pending
    })
  })

  describe('serializers', () => {
    const source = datagenSource({ generator: identity })
    const split: DatagenSplit = { splitId: '1', next: 9, end: null, stride: 4 }

    it('round-trip unbounded and bounded splits as version 1 JSON', () => {
      const serializer = source.splitSerializer()
      expect(serializer.version).toBe(1)
      expect(serializer.deserialize(1, serializer.serialize(split))).toEqual(split)
      const bounded: DatagenSplit = { splitId: '0', next: 3, end: 10, stride: 1 }
      expect(serializer.deserialize(1, serializer.serialize(bounded))).toEqual(bounded)
      const stateSerializer = source.enumeratorCheckpointSerializer()
      expect(stateSerializer.deserialize(1, stateSerializer.serialize([split, bounded]))).toEqual([split, bounded])
    })

    it('refuse a newer version and malformed splits', () => {
      const serializer = source.splitSerializer()
      expect(() => serializer.deserialize(2, serializer.serialize(split))).toThrowError(/datagen split was written with format version 2/)
      expect(UnsupportedVersionError.isInstance(catchError(() => serializer.deserialize(3, new Uint8Array())))).toBe(true)
      const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))
      expect(SerializationError.isInstance(catchError(() => serializer.deserialize(1, encode({ ...split, stride: 0 }))))).toBe(true)
      expect(SerializationError.isInstance(catchError(() => serializer.deserialize(1, encode({ ...split, end: 'x' }))))).toBe(true)
    })
  })

  describe('options', () => {
    it('are validated when the source is built, with the option path', () => {
      expect(() => datagenSource({ generator: identity, count: -1 })).toThrowError('datagen.count: expected a non-negative integer, got -1')
      expect(() => datagenSource({ generator: identity, count: 1.5 })).toThrowError('datagen.count: expected a non-negative integer, got 1.5')
      expect(() => datagenSource({ generator: identity, recordsPerSecond: 0 })).toThrowError(
        'datagen.recordsPerSecond: expected a positive finite number, got 0',
      )
      expect(() => datagenSource({ generator: identity, splits: 0 })).toThrowError('datagen.splits: expected a positive integer, got 0')
      expect(() => datagenSource({ generator: identity, batchSize: -3 })).toThrowError('datagen.batchSize: expected a positive integer, got -3')
      expect(() => datagenSource({} as never)).toThrowError(/datagen.generator: is required/)
      expect(() => datagenSource({ generator: identity, rate: 5 } as never)).toThrowError(/datagen.rate: unknown option/)
      expect(ConfigError.isInstance(catchError(() => datagenSource(undefined as never)))).toBe(true)
    })
  })
})

describe('seededRandom', () => {
  it('is a deterministic float in [0, 1) of seed and index', () => {
    const values = Array.from({ length: 10_000 }, (_, index) => seededRandom(7, index))
    expect(values).toEqual(Array.from({ length: 10_000 }, (_, index) => seededRandom(7, index)))
    expect(values.every((value) => value >= 0 && value < 1)).toBe(true)
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length
    expect(mean).toBeGreaterThan(0.48)
    expect(mean).toBeLessThan(0.52)
    expect(new Set(values).size).toBe(values.length)
  })

  it('differs between seeds and between neighbouring indexes, also past 2^32', () => {
    expect(seededRandom(1, 5)).not.toBe(seededRandom(2, 5))
    expect(seededRandom(1, 5)).not.toBe(seededRandom(1, 6))
    expect(seededRandom(1, 2 ** 32 + 5)).not.toBe(seededRandom(1, 5))
    // Neighbouring indexes land in all parts of [0, 1): a poor mix would keep them close together.
    const deciles = new Set(Array.from({ length: 100 }, (_, index) => Math.floor(seededRandom(3, index) * 10)))
    expect(deciles.size).toBe(10)
  })
})

describe('seededInt', () => {
  it('is an integer in [min, max], both ends included', () => {
    const values = Array.from({ length: 2000 }, (_, index) => seededInt(11, index, -2, 2))
    expect(new Set(values)).toEqual(new Set([-2, -1, 0, 1, 2]))
    expect(seededInt(11, 3, 5, 5)).toBe(5)
  })

  it('rejects an empty or too wide range', () => {
    expect(() => seededInt(1, 1, 3, 2)).toThrowError(/seededInt: expected safe integers with min ≤ max/)
    expect(() => seededInt(1, 1, 0, 2 ** 40)).toThrowError(ConfigError)
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
