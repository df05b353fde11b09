import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { listOutputFiles } from '../test/__fixtures__/output-files.js'
import { JsonArrayBulkFormat } from './__fixtures__/json-array-bulk-format.js'
import { batchContext, checkpoint, commit, initContext } from './__fixtures__/writer-harness.js'
import { BasePathBucketAssigner, type BucketAssigner } from './bucket-assigner.js'
import { DateTimeBucketAssigner } from './date-time-bucket-assigner.js'
import { DefaultRollingPolicy } from './default-rolling-policy.js'
import { type Encoder, JsonLinesEncoder } from './encoder.js'
import { InvalidBucketIdError, PartFileRecoveryError, RecordEncodingError } from './errors.js'
import { FileSink, type RowFormatBuilder } from './file-sink.js'
import type { FileSinkWriter } from './file-sink-writer.js'
import type { FileSinkWriterState } from './file-writer-state.js'
import { OnCheckpointRollingPolicy } from './rolling-policy.js'

let basePath: string
/** Every writer a test opened: closed after the test, also the ones a test abandons to play a crash. */
const openedWriters: FileSinkWriter<unknown>[] = []
beforeEach(async () => {
  basePath = path.join(await mkdtemp(path.join(tmpdir(), 'sluice-filesink-writer-')), 'out')
})
afterEach(async () => {
  vi.useRealTimers()
  await Promise.allSettled(openedWriters.splice(0).map((writer) => writer.close()))
  await rm(path.dirname(basePath), { recursive: true, force: true })
})

const byFirstLetter: BucketAssigner<string> = { getBucketId: (line) => line[0] as string }
const rows = (configure: (builder: RowFormatBuilder<string>) => RowFormatBuilder<string> = (b) => b) =>
  configure(FileSink.forRowFormat<string>(basePath).withBucketAssigner(new BasePathBucketAssigner()).withWarnWithoutCheckpointing(false)).build()

async function open<T>(sink: FileSink<T>, subtaskId = 0, parallelism = 1): Promise<FileSinkWriter<T>> {
  const writer = (await sink.createWriter(initContext(subtaskId, parallelism))) as FileSinkWriter<T>
  openedWriters.push(writer as FileSinkWriter<unknown>)
  return writer
}
async function restore<T>(sink: FileSink<T>, states: FileSinkWriterState[], checkpointId: number, subtaskId = 0, parallelism = 1): Promise<FileSinkWriter<T>> {
  const writer = (await sink.restoreWriter(initContext(subtaskId, parallelism, checkpointId), states)) as FileSinkWriter<T>
  openedWriters.push(writer as FileSinkWriter<unknown>)
  return writer
}
const names = async (directory = basePath) => (await readdir(directory)).sort()
const text = (file: string) => readFile(file, 'utf8')

describe('part file lifecycle: in-progress → pending → finished', () => {
  /**
   * Purpose: readers of the directory never see a file before its checkpoint is committed.
   * Method: OnCheckpointRollingPolicy; write, checkpoint, commit, listing the directory after each step.
   * Pass: only a hidden `.part-0-0.inprogress.<epoch>.<random>` file until the commit, then `part-0-0` with the lines.
   */
  it('keeps in-progress and pending files hidden until the commit publishes them', async () => {
    const sink = rows((b) => b.withRollingPolicy(new OnCheckpointRollingPolicy()))
    const writer = await open(sink)
    await writer.write(['a', 'b'], batchContext())
    await writer.flush(false)
    expect(await names()).toEqual([expect.stringMatching(/^\.part-0-0\.inprogress\.1\.[0-9a-f]{8}$/)])
    const { committables } = await checkpoint(sink, writer, 1)
    expect(committables).toEqual([{ bucketId: '', pendingPath: expect.any(String), finalPath: path.join(basePath, 'part-0-0'), size: 4 }])
    expect((await names()).every((n) => n.startsWith('.'))).toBe(true)
    expect(await commit(sink, committables, 1)).toEqual(['committed'])
    expect(await names()).toEqual(['part-0-0'])
    expect(await text(path.join(basePath, 'part-0-0'))).toBe('a\nb\n')
    await writer.close()
  })

  /**
   * Purpose: a row part file keeps growing across checkpoints; each checkpoint records its fsynced length.
   * Method: DefaultRollingPolicy (nothing due); two checkpoints, then the end of input.
   * Pass: no committable until the end; the states carry the growing valid length; one file with all lines.
   */
  it('keeps a row part file open across checkpoints and rolls everything at the end of input', async () => {
    const sink = rows()
    const writer = await open(sink)
    await writer.write(['one', 'two'], batchContext())
    const first = await checkpoint(sink, writer, 1)
    expect(first.committables).toEqual([])
    expect(first.states).toEqual([{ subtaskId: 0, nextCounter: 1, inProgress: [expect.objectContaining({ bucketId: '', validLength: 8, finalPath: path.join(basePath, 'part-0-0') })] }])
    expect((await stat(first.states[0]?.inProgress[0]?.path as string)).size).toBe(8)
    await writer.write(['three'], batchContext())
    const second = await checkpoint(sink, writer, 2)
    expect(second.states[0]?.inProgress[0]?.validLength).toBe(14)
    const last = await checkpoint(sink, writer, 3, true)
    expect(last.states[0]?.inProgress).toEqual([])
    await commit(sink, last.committables, 3)
    expect(await names()).toEqual(['part-0-0'])
    expect(await text(path.join(basePath, 'part-0-0'))).toBe('one\ntwo\nthree\n')
    expect(writer.activeBucketIds()).toEqual([])
  })

  it('writes each bucket into its own directory, one part file per bucket, creating nested directories', async () => {
    const sink = rows((b) => b.withBucketAssigner({ getBucketId: (line: string) => `k=${line[0]}/v` }))
    const writer = await open(sink)
    await writer.write(['a1', 'b1', 'a2'], batchContext())
    const { committables } = await checkpoint(sink, writer, 1, true)
    await commit(sink, committables, 1)
    expect(await text(path.join(basePath, 'k=a', 'v', 'part-0-0'))).toBe('a1\na2\n')
    expect(await text(path.join(basePath, 'k=b', 'v', 'part-0-1'))).toBe('b1\n')
  })
})

describe('rolling', () => {
  it('rolls on size before the record that finds the file at maxPartSize', async () => {
    const sink = rows((b) => b.withRollingPolicy(DefaultRollingPolicy.create({ maxPartSize: 10 })))
    const writer = await open(sink)
    await writer.write(['aaa', 'bbb', 'ccc', 'ddd', 'eee'], batchContext())
    const { committables } = await checkpoint(sink, writer, 1, true)
    expect(committables.map((c) => [path.basename(c.finalPath), c.size])).toEqual([
      ['part-0-0', 12],
      ['part-0-1', 8],
    ])
  })

  /**
   * Purpose: rollover and inactivity intervals, checked at most every bucketCheckInterval, and the release
   * of buckets whose part file rolled.
   * Method: a fake clock (Date only); bucket `a` written at t=0 and left idle, bucket `b` written every 3 s.
   * Pass: `a` rolls at the first check after 5 s idle and its bucket is released; `b` rolls once it is 12 s old.
   */
  it('rolls on processing time (rollover, inactivity) every bucketCheckInterval and releases idle buckets', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(0)
    const sink = rows((b) =>
      b
        .withBucketAssigner(byFirstLetter)
        .withRollingPolicy(DefaultRollingPolicy.create({ rolloverInterval: 12_000, inactivityInterval: 5_000 }))
        .withBucketCheckInterval(4_000),
    )
    const writer = await open(sink)
    await writer.write(['a0', 'b0'], batchContext())
    vi.setSystemTime(3_000)
    await writer.write(['b3'], batchContext()) // no check yet (< 4 s since the last)
    vi.setSystemTime(6_000)
    await writer.write(['b6'], batchContext()) // check: a idle 6 s → rolls; b idle 3 s
    expect(writer.activeBucketIds()).toEqual(['b'])
    vi.setSystemTime(9_000)
    await writer.write(['b9'], batchContext()) // no check (3 s since the last)
    vi.setSystemTime(12_000)
    await writer.write(['b12'], batchContext()) // check: b open 12 s → rolls before b12 is written
    const { committables } = await checkpoint(sink, writer, 1)
    await commit(sink, committables, 1)
    expect(committables.map((c) => path.relative(basePath, c.finalPath))).toEqual(['a/part-0-0', 'b/part-0-1'])
    expect(await text(path.join(basePath, 'b', 'part-0-1'))).toBe('b0\nb3\nb6\nb9\n')
    expect(writer.activeBucketIds()).toEqual(['b'])
  })

  it('also checks processing time when a checkpoint is prepared, without records', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(0)
    const sink = rows((b) => b.withRollingPolicy(DefaultRollingPolicy.create({ inactivityInterval: 1_000 })).withBucketCheckInterval(500))
    const writer = await open(sink)
    await writer.write(['x'], batchContext())
    vi.setSystemTime(1_000)
    const { committables, states } = await checkpoint(sink, writer, 1)
    expect(committables).toHaveLength(1)
    expect(states[0]?.inProgress).toEqual([])
    expect(writer.activeBucketIds()).toEqual([])
  })

  it('rolls every part file at each checkpoint with OnCheckpointRollingPolicy', async () => {
    const sink = rows((b) => b.withBucketAssigner(byFirstLetter).withRollingPolicy(new OnCheckpointRollingPolicy()))
    const writer = await open(sink)
    await writer.write(['a1', 'b1'], batchContext())
    expect((await checkpoint(sink, writer, 1)).committables).toHaveLength(2)
    await writer.write(['a2'], batchContext())
    const second = await checkpoint(sink, writer, 2)
    expect(second.committables.map((c) => path.basename(c.finalPath))).toEqual(['part-0-2'])
    expect(second.states[0]?.inProgress).toEqual([])
  })
})

describe('recovery', () => {
  /**
   * Purpose: the row format resumes its in-progress file after a crash with exactly the checkpointed bytes.
   * Method: write, checkpoint 1, write more (on disk), "crash" (close without a checkpoint), restore from 1.
   * Pass: the file is cut back to the checkpointed length; the replayed and new lines follow; one file.
   */
  it('truncates a restored in-progress file to its checkpointed length and keeps appending', async () => {
    const sink = rows()
    const before = await open(sink)
    await before.write(['kept-1', 'kept-2'], batchContext())
    const { states } = await checkpoint(sink, before, 1)
    await before.write(['lost-after-checkpoint'], batchContext())
    await before.flush(false)
    const inProgress = states[0]?.inProgress[0]?.path as string
    expect((await stat(inProgress)).size).toBeGreaterThan(14)
    await before.close()

    const after = await restore(sink, states, 1)
    expect((await stat(inProgress)).size).toBe(14)
    await after.write(['replayed'], batchContext())
    const last = await checkpoint(sink, after, 2, true)
    await commit(sink, last.committables, 2)
    expect(await names()).toEqual(['part-0-0'])
    expect(await text(path.join(basePath, 'part-0-0'))).toBe('kept-1\nkept-2\nreplayed\n')
  })

  /**
   * Purpose: files opened after the restored checkpoint are deleted, everything the checkpoint refers
   * to is kept, and part counters never reuse a name.
   * Method: a finished `part-0-9` of an older run lies in `c`, with a leftover of subtask 1. Checkpoint 1
   * holds an open file in `a` (part-0-10) and a pending one in `b` (part-0-11, rolled on size at the
   * checkpoint); then `a` rolls into part-0-12 and `b` opens part-0-13, both after checkpoint 1, and the writer crashes.
   * Pass: after the restore only the files of checkpoint 1 and subtask 1's file are hidden; the committable
   * of checkpoint 1 commits; new part files continue above the highest counter seen (13), never reusing one.
   */
  it('deletes leftovers opened after the checkpoint and continues counters past the highest on disk', async () => {
    const sink = rows((b) => b.withBucketAssigner(byFirstLetter).withRollingPolicy(DefaultRollingPolicy.create({ maxPartSize: 4 })))
    await mkdir(path.join(basePath, 'c'), { recursive: true })
    await writeFile(path.join(basePath, 'c', 'part-0-9'), 'old\n')
    const otherSubtaskLeftover = path.join(basePath, 'c', '.part-1-0.inprogress.5.0badcafe')
    await writeFile(otherSubtaskLeftover, 'x\n')
    const before = await open(sink, 0, 2)
    expect(await names(path.join(basePath, 'c'))).toEqual([path.basename(otherSubtaskLeftover), 'part-0-9']) // not this subtask's
    await before.write(['a1', 'b1', 'b2'], batchContext()) // b holds 6 bytes: it rolls at the checkpoint
    const first = await checkpoint(sink, before, 1)
    expect(first.committables.map((c) => path.basename(c.finalPath))).toEqual(['part-0-11'])
    await before.write(['a2', 'a3', 'b3'], batchContext()) // a rolls before a3, b opens: files of epoch 2
    await before.flush(false)
    const hiddenBefore = (await listOutputFiles(basePath)).hidden
    await before.close()

    const after = await restore(sink, first.states, 1, 0, 2)
    const hiddenAfter = (await listOutputFiles(basePath)).hidden
    const referenced = [...first.states[0]!.inProgress.map((f) => f.path), ...first.committables.map((c) => c.pendingPath)]
    expect(hiddenBefore.length).toBeGreaterThan(hiddenAfter.length)
    expect(hiddenAfter.sort()).toEqual([...referenced, otherSubtaskLeftover].sort())
    expect(await commit(sink, first.committables, 1)).toEqual(['committed'])
    await after.write(['d1'], batchContext())
    const last = await checkpoint(sink, after, 2, true)
    expect(last.committables.map((c) => path.relative(basePath, c.finalPath)).sort()).toEqual(['a/part-0-10', 'd/part-0-14'])
    await commit(sink, last.committables, 2)
    expect(await text(path.join(basePath, 'a', 'part-0-10'))).toBe('a1\n')
    expect(await text(path.join(basePath, 'b', 'part-0-11'))).toBe('b1\nb2\n')
  })

  it('deletes every leftover of its subtask on a fresh start, and starts counting above them', async () => {
    await mkdir(basePath, { recursive: true })
    await writeFile(path.join(basePath, '.part-0-3.inprogress.5.00000001'), 'garbage')
    await writeFile(path.join(basePath, '.part-2-1.inprogress.1.00000002'), 'garbage of subtask 2 = 0 mod 2')
    await writeFile(path.join(basePath, '.part-1-4.inprogress.1.00000003'), 'subtask 1 cleans this one')
    const sink = rows((b) => b.withRollingPolicy(new OnCheckpointRollingPolicy()))
    const writer = await open(sink, 0, 2)
    expect(await names()).toEqual(['.part-1-4.inprogress.1.00000003'])
    await writer.write(['x'], batchContext())
    const { committables } = await checkpoint(sink, writer, 1)
    expect(path.basename(committables[0]?.finalPath as string)).toBe('part-0-4')
  })

  it('refuses to resume an in-progress file that is gone, naming it and the published file', async () => {
    const sink = rows()
    const writer = await open(sink)
    await writer.write(['a'], batchContext())
    const { states } = await checkpoint(sink, writer, 1)
    const last = await checkpoint(sink, writer, 2, true)
    await commit(sink, last.committables, 2)
    let error: unknown
    try {
      await restore(sink, states, 1) // older than what was published since
    } catch (e) {
      error = e
    }
    expect(PartFileRecoveryError.isInstance(error)).toBe(true)
    expect((error as Error).message).toContain(states[0]?.inProgress[0]?.path)
    expect((error as Error).message).toMatch(/part-0-0 exists: it was published after this checkpoint/)
  })

  /**
   * Purpose: after a rescale (2 → 1), the in-progress files of the other subtask are not lost.
   * Method: two writers write into the same bucket and checkpoint; restore one writer with both states.
   * Pass: its own file is resumed; the adopted one is truncated and published at the next checkpoint; all lines survive.
   */
  it('adopts the in-progress files of other subtasks after a rescale and publishes them', async () => {
    const sink = rows()
    const zero = await open(sink, 0, 2)
    const one = await open(sink, 1, 2)
    await zero.write(['from-0'], batchContext())
    await one.write(['from-1'], batchContext())
    const states = [...(await checkpoint(sink, zero, 1)).states, ...(await checkpoint(sink, one, 1)).states]
    await one.write(['after-checkpoint'], batchContext())
    await one.flush(false)
    await Promise.all([zero.close(), one.close()])

    const merged = await restore(sink, states, 1, 0, 1)
    await merged.write(['new'], batchContext())
    const next = await checkpoint(sink, merged, 2)
    expect(next.committables.map((c) => path.basename(c.finalPath))).toEqual(['part-1-0'])
    const last = await checkpoint(sink, merged, 3, true)
    await commit(sink, [...next.committables, ...last.committables], 3)
    expect(await names()).toEqual(['part-0-0', 'part-1-0'])
    expect(await text(path.join(basePath, 'part-0-0'))).toBe('from-0\nnew\n')
    expect(await text(path.join(basePath, 'part-1-0'))).toBe('from-1\n')
  })
})

describe('bad input', () => {
  it('names the record an encoder rejects, with its index and bucket', async () => {
    const picky: Encoder<string> = {
      encode: (line) => {
        if (line === 'bad') throw new Error('no bad lines')
        return `${line}\n`
      },
    }
    const sink = FileSink.forRowFormat(basePath, picky).withBucketAssigner(byFirstLetter).withWarnWithoutCheckpointing(false).build()
    const writer = await open(sink)
    const error = await writer.write(['ok', 'bad'], batchContext()).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(RecordEncodingError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({ recordIndex: 1, bucketId: 'b' })
    expect((error as Error).message).toBe(`file sink: record 1 of the batch (bucket 'b', value "bad") cannot be encoded: no bad lines`)
  })

  it('names a record whose encoding is neither a string nor bytes, and one JSON cannot hold', async () => {
    const sink = FileSink.forRowFormat<unknown>(basePath, { encode: () => 42 as never }).withBucketAssigner(new BasePathBucketAssigner()).build()
    const writer = await open(sink)
    await expect(writer.write([{ id: 7 }], batchContext())).rejects.toThrow(/record 0 of the batch \(bucket '', value \{"id":7\}\).*returned number/)
    const json = FileSink.forRowFormat<unknown>(basePath, new JsonLinesEncoder()).withBucketAssigner(new BasePathBucketAssigner()).build()
    const jsonWriter = await open(json)
    await expect(jsonWriter.write([1, 2, { n: 3n }], batchContext())).rejects.toThrow(/record 2 of the batch.*BigInt/)
  })

  it('names an invalid bucket id and the record that produced it', async () => {
    const sink = rows((b) => b.withBucketAssigner({ getBucketId: (line: string) => `../${line}` }))
    const writer = await open(sink)
    const error = await writer.write(['escape'], batchContext()).catch((e: unknown) => e)
    expect(InvalidBucketIdError.isInstance(error)).toBe(true)
    expect((error as Error).message).toMatch(/bucket id "\.\.\/escape" \(record 0 of the batch\) is invalid/)
  })

  it('names the record an event-time assigner cannot place', async () => {
    const sink = rows((b) => b.withBucketAssigner(new DateTimeBucketAssigner({ timeZone: 'UTC', timeSource: 'event-time' })))
    const writer = await open(sink)
    await expect(writer.write(['with', 'without'], batchContext([0]))).rejects.toThrow(/DateTimeBucketAssigner.* failed on record 1 of the batch \(value "without"\): event-time bucketing needs a record timestamp/)
  })
})

describe('event time', () => {
  it('buckets by the record timestamps the runtime hands to write', async () => {
    const sink = rows((b) => b.withBucketAssigner(new DateTimeBucketAssigner({ format: 'yyyy-MM-dd', timeZone: 'UTC', timeSource: 'event-time' })))
    const writer = await open(sink)
    await writer.write(['may-1', 'may-2', 'may-1-again'], batchContext([Date.UTC(2024, 4, 1, 23), Date.UTC(2024, 4, 2, 1), Date.UTC(2024, 4, 1, 5)]))
    const { committables } = await checkpoint(sink, writer, 1, true)
    await commit(sink, committables, 1)
    expect(await text(path.join(basePath, '2024-05-01', 'part-0-0'))).toBe('may-1\nmay-1-again\n')
    expect(await text(path.join(basePath, '2024-05-02', 'part-0-1'))).toBe('may-2\n')
  })
})

describe('bulk formats', () => {
  /**
   * Purpose: bulk part files roll at every checkpoint and are never resumed.
   * Method: the JSON-array test format (a file is only valid once finished); two checkpoints, then a crash
   * with a file open, then a restore.
   * Pass: one complete file per checkpoint and bucket, named with the format's extension; the open file of
   * the crashed attempt was aborted and is deleted on restore; states never hold bulk files.
   */
  it('rolls bulk part files at every checkpoint and deletes unfinished ones on recovery', async () => {
    const format = new JsonArrayBulkFormat<{ id: number }>()
    const sink = FileSink.forBulkFormat(basePath, format).withBucketAssigner(new BasePathBucketAssigner()).withWarnWithoutCheckpointing(false).build()
    expect(format.validateCalls).toBe(1)
    const writer = await open(sink)
    await writer.write([{ id: 1 }, { id: 2 }], batchContext())
    const first = await checkpoint(sink, writer, 1)
    expect(first.states).toEqual([{ subtaskId: 0, nextCounter: 1, inProgress: [] }])
    await commit(sink, first.committables, 1)
    await writer.write([{ id: 3 }], batchContext())
    await writer.close() // crash with part-0-1 open
    expect(format.aborted).toHaveLength(1)

    const restored = await restore(sink, first.states, 1)
    expect((await listOutputFiles(basePath)).hidden).toEqual([])
    await restored.write([{ id: 3 }], batchContext())
    const last = await checkpoint(sink, restored, 2, true)
    await commit(sink, last.committables, 2)
    expect(await names()).toEqual(['part-0-0.json', 'part-0-2.json'])
    expect(JSON.parse(await text(path.join(basePath, 'part-0-0.json')))).toEqual([{ id: 1 }, { id: 2 }])
    expect(JSON.parse(await text(path.join(basePath, 'part-0-2.json')))).toEqual([{ id: 3 }])
  })
})

describe('compaction', () => {
  /**
   * Purpose: small files rolled between two checkpoints are merged before they are published, exactly once.
   * Method: maxPartSize 4 makes a file per two short lines; targetFileSize 20 merges them in runs of ≤ 20 bytes.
   * Pass: the committables are merged files listing their inputs; after the commit only merged files exist,
   * holding every line once, in order; no hidden input is left.
   */
  it('merges the small files of one checkpoint into files of at most targetFileSize', async () => {
    const sink = rows((b) => b.withRollingPolicy(DefaultRollingPolicy.create({ maxPartSize: 4 })).withCompaction({ targetFileSize: 20 }))
    const writer = await open(sink)
    const lines = Array.from({ length: 12 }, (_, i) => `${i % 10}`) // 2 bytes each: a file per 2 lines
    await writer.write(lines, batchContext())
    const { committables } = await checkpoint(sink, writer, 1, true)
    // Six files of 4 bytes: five merge into 20 bytes, the sixth stays alone (nothing to merge it with).
    expect(committables.map((c) => [c.size, c.compactedFrom?.length])).toEqual([
      [20, 5],
      [4, undefined],
    ])
    expect(await commit(sink, committables, 1)).toEqual(['committed', 'committed'])
    const { finished, hidden } = await listOutputFiles(basePath)
    expect(hidden).toEqual([])
    expect(finished).toHaveLength(2)
    const contents = await Promise.all(committables.map((c) => text(c.finalPath)))
    expect(contents.join('')).toBe(lines.map((l) => `${l}\n`).join(''))
  })
})
