import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import {
  type CommitRequest,
  type CommittingSinkWriter,
  type Committer,
  SerializationError,
  StreamExecutionEnvironment,
  UnsupportedVersionError,
  type WriterInitContext,
} from '@sluice/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { listCommittedFiles, listInProgressFiles, readCommittedRecords } from './committed-files.js'
import { CommitFileMissingError, CommittedFileCorruptedError } from './errors.js'
import { type FileCommittable, fileCommittableSerializer } from './file-committable.js'
import { TransactionalFileSink } from './transactional-file-sink.js'

const writerContext = (overrides: Partial<WriterInitContext> = {}): WriterInitContext => ({
  subtaskId: 0,
  parallelism: 1,
  attemptNumber: 0,
  restoredCheckpointId: undefined,
  jobName: 'unit-job',
  operatorUid: 'file-sink',
  checkpointing: { interval: 1000, mode: 'EXACTLY_ONCE' },
  warn: () => {},
  ...overrides,
})

const committerContext = { subtaskId: 0, parallelism: 1, jobName: 'unit-job', operatorUid: 'file-sink' }

type Outcome = 'committed' | 'already-committed' | 'retry-later' | 'failed-known' | 'failed-unknown'

/** A CommitRequest that records which verb the committer used, as the runtime would see it. */
function request(committable: FileCommittable, checkpointId = 1): CommitRequest<FileCommittable> & { outcome: Outcome; error: unknown } {
  const state = {
    committable,
    checkpointId,
    numberOfRetries: 0,
    outcome: 'committed' as Outcome,
    error: undefined as unknown,
    retryLater: () => {
      state.outcome = 'retry-later'
    },
    updateAndRetryLater: () => {
      state.outcome = 'retry-later'
    },
    signalAlreadyCommitted: () => {
      state.outcome = 'already-committed'
    },
    signalFailedWithKnownReason: (error: unknown) => {
      state.outcome = 'failed-known'
      state.error = error
    },
    signalFailedWithUnknownReason: (error: unknown) => {
      state.outcome = 'failed-unknown'
      state.error = error
    },
  }
  return state
}

/** The error `fn` throws; fails the test if it throws nothing. */
function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

const noContext = { timestampOf: () => undefined, currentWatermark: Number.NEGATIVE_INFINITY }

let directory: string
let sink: TransactionalFileSink<{ n: number }>
let writer: CommittingSinkWriter<{ n: number }, FileCommittable>
let committer: Committer<FileCommittable>

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'sluice-file-sink-'))
  sink = new TransactionalFileSink<{ n: number }>({ directory })
  writer = await sink.createWriter(writerContext())
  committer = await sink.createCommitter(committerContext)
})
afterEach(async () => {
  await writer.close()
  await rm(directory, { recursive: true, force: true })
})

describe('TransactionalFileSink writer', () => {
  /**
   * Purpose: records written before a barrier become exactly one committable.
   * Method: write two batches, call prepareCommit as the runtime does at a checkpoint.
   * Pass: one committable whose temp file is in `.in-progress`, holds the records as JSON lines, and
   * whose final path is the same name in `committed/`; nothing is committed yet.
   */
  it('hands the records of one checkpoint over as one closed in-progress file', async () => {
    await writer.write([{ n: 1 }, { n: 2 }], noContext)
    await writer.write([{ n: 3 }], noContext)
    await writer.flush(false)
    const [committable, ...others] = await writer.prepareCommit()
    expect(others).toEqual([])
    expect(committable?.records).toBe(3)
    expect(path.dirname(committable?.tempPath ?? '')).toBe(path.join(directory, '.in-progress'))
    expect(committable?.finalPath).toBe(path.join(directory, 'committed', path.basename(committable?.tempPath ?? '')))
    expect(path.basename(committable?.tempPath ?? '')).toMatch(/^unit-job-file-sink-0-0-[0-9a-f]{8}-0\.jsonl$/)
    expect(await readFile(committable?.tempPath ?? '', 'utf8')).toBe('{"n":1}\n{"n":2}\n{"n":3}\n')
    expect(await readCommittedRecords(directory)).toEqual([])
  })

  /**
   * Purpose: a checkpoint without records costs nothing and commits nothing.
   * Method: prepareCommit with no write before it.
   * Pass: no committable and no file.
   */
  it('returns no committable for a checkpoint without records', async () => {
    expect(await writer.prepareCommit()).toEqual([])
    expect(await listInProgressFiles(directory)).toEqual([])
  })

  /**
   * Purpose: records after a barrier go to a new file, so each checkpoint commits only its own records.
   * Method: write, prepareCommit, write, prepareCommit.
   * Pass: two committables with different files, each holding its own records.
   */
  it('starts a new file for the records after a barrier', async () => {
    await writer.write([{ n: 1 }], noContext)
    const [first] = await writer.prepareCommit()
    await writer.write([{ n: 2 }], noContext)
    const [second] = await writer.prepareCommit()
    expect(first?.tempPath).not.toBe(second?.tempPath)
    expect(await readFile(first?.tempPath ?? '', 'utf8')).toBe('{"n":1}\n')
    expect(await readFile(second?.tempPath ?? '', 'utf8')).toBe('{"n":2}\n')
  })

  /**
   * Purpose: a restarted process must never reuse a file name of a killed one (its attempt number
   * starts at 0 again).
   * Method: two writers with the same job, uid, subtask and attempt, as after a process restart.
   * Pass: their files have different names.
   */
  it('names files uniquely across process restarts', async () => {
    const restarted = await sink.createWriter(writerContext())
    await writer.write([{ n: 1 }], noContext)
    await restarted.write([{ n: 1 }], noContext)
    const [a] = await writer.prepareCommit()
    const [b] = await restarted.prepareCommit()
    await restarted.close()
    expect(a?.tempPath).not.toBe(b?.tempPath)
  })

  /**
   * Purpose: `close` after a failure releases the file but never commits it.
   * Method: write, then close without prepareCommit.
   * Pass: the file stays in `.in-progress` and is not part of the committed output.
   */
  it('leaves an uncommitted file in .in-progress on close, never as output', async () => {
    await writer.write([{ n: 1 }], noContext)
    await writer.close()
    expect(await listInProgressFiles(directory)).toHaveLength(1)
    expect(await listCommittedFiles(directory)).toEqual([])
    expect(await readCommittedRecords(directory)).toEqual([])
  })

  /**
   * Purpose: a custom `serialize` is used, and one that breaks the one-record-per-line format is refused.
   * Method: a sink with `serialize: (v) => 'n=' + v.n`, then one returning a newline.
   * Pass: lines are written as serialized; the newline fails the write with a SerializationError.
   */
  it('uses a custom serialize and refuses a record spanning lines', async () => {
    const custom = new TransactionalFileSink<{ n: number }>({ directory, serialize: (value) => `n=${value.n}` })
    const customWriter = await custom.createWriter(writerContext())
    await customWriter.write([{ n: 7 }], noContext)
    const [committable] = await customWriter.prepareCommit()
    expect(await readFile(committable?.tempPath ?? '', 'utf8')).toBe('n=7\n')
    const broken = new TransactionalFileSink<{ n: number }>({ directory, serialize: () => 'a\nb' })
    const brokenWriter = await broken.createWriter(writerContext())
    await expect(brokenWriter.write([{ n: 1 }], noContext)).rejects.toSatisfy((error) => SerializationError.isInstance(error))
    await customWriter.close()
    await brokenWriter.close()
  })
})

describe('TransactionalFileSink committer', () => {
  /**
   * Purpose: a commit makes the file visible in full.
   * Method: write, prepareCommit, commit.
   * Pass: the request is not flagged, the temp file is gone, and readCommittedRecords returns the records.
   */
  it('commits by renaming the in-progress file into committed/', async () => {
    await writer.write([{ n: 1 }, { n: 2 }], noContext)
    const [committable] = await writer.prepareCommit()
    const commit = request(committable as FileCommittable)
    await committer.commit([commit])
    expect(commit.outcome).toBe('committed')
    expect(await listInProgressFiles(directory)).toEqual([])
    expect(await readCommittedRecords(directory)).toEqual([{ n: 1 }, { n: 2 }])
  })

  /**
   * Purpose: after a restore the runtime commits the restored committables again; that must not apply them twice.
   * Method: commit the same committable twice.
   * Pass: the second request is answered with signalAlreadyCommitted and the output is unchanged.
   */
  it('reports a committable committed before as already committed', async () => {
    await writer.write([{ n: 1 }], noContext)
    const [committable] = await writer.prepareCommit()
    await committer.commit([request(committable as FileCommittable)])
    const again = request(committable as FileCommittable)
    await committer.commit([again])
    expect(again.outcome).toBe('already-committed')
    expect(await readCommittedRecords(directory)).toEqual([{ n: 1 }])
  })

  /**
   * Purpose: a committable whose file vanished is a real failure, not silently skipped (that would lose data).
   * Method: delete the temp file before committing.
   * Pass: signalFailedWithUnknownReason with a CommitFileMissingError naming both paths.
   */
  it('fails with an error naming both paths when neither file exists', async () => {
    await writer.write([{ n: 1 }], noContext)
    const [committable] = (await writer.prepareCommit()) as FileCommittable[]
    await unlink((committable as FileCommittable).tempPath)
    const commit = request(committable as FileCommittable)
    await committer.commit([commit])
    expect(commit.outcome).toBe('failed-unknown')
    expect(CommitFileMissingError.isInstance(commit.error)).toBe(true)
    expect((commit.error as Error).message).toContain(committable?.tempPath)
    expect((commit.error as Error).message).toContain(committable?.finalPath)
  })

  /**
   * Purpose: the sink works inside a real job: one run of core's runtime with checkpoints commits every record once.
   * Method: 5000 elements → TransactionalFileSink, parallelism 2, checkpoint every 10 ms.
   * Pass: the committed records are exactly 0..4999 and no file is left in `.in-progress`.
   */
  it('commits every record of a bounded job exactly once', async () => {
    const env = StreamExecutionEnvironment.create({
      parallelism: 2,
      checkpointing: { interval: 10, directory: path.join(directory, 'checkpoints') },
      onWarning: () => {},
    })
    env
      .fromIterable(Array.from({ length: 5000 }, (_, n) => ({ n })))
      .sinkTo(new TransactionalFileSink<{ n: number }>({ directory: path.join(directory, 'out') }))
      .uid('file-sink')
    const result = await env.execute('file-sink-job').result
    expect(result.state).toBe('FINISHED')
    const numbers = (await readCommittedRecords<{ n: number }>(path.join(directory, 'out'))).map((r) => r.n).sort((a, b) => a - b)
    expect(numbers).toEqual(Array.from({ length: 5000 }, (_, n) => n))
    expect(await listInProgressFiles(path.join(directory, 'out'))).toEqual([])
  })
})

describe('FileCommittable serializer', () => {
  const serializer = fileCommittableSerializer()
  const committable: FileCommittable = { tempPath: '/data/.in-progress/a.jsonl', finalPath: '/data/committed/a.jsonl', records: 3 }

  /**
   * Purpose: committables survive the checkpoint round trip.
   * Method: serialize, then deserialize with the written version.
   * Pass: the same committable, version 1, as JSON.
   */
  it('round-trips a committable as JSON version 1', () => {
    const bytes = serializer.serialize(committable)
    expect(serializer.version).toBe(1)
    expect(JSON.parse(new TextDecoder().decode(bytes))).toEqual(committable)
    expect(serializer.deserialize(1, bytes)).toEqual(committable)
  })

  /**
   * Purpose: a checkpoint written by a newer testkit fails loudly instead of being misread.
   * Method: deserialize with version 2.
   * Pass: UnsupportedVersionError whose message names version 2.
   */
  it('refuses a newer format version, naming it', () => {
    const error = thrown(() => serializer.deserialize(2, serializer.serialize(committable)))
    expect(UnsupportedVersionError.isInstance(error)).toBe(true)
    expect((error as Error).message).toMatch(/format version 2/)
  })

  /**
   * Purpose: corrupted bytes fail with the name of the object rather than a TypeError later.
   * Method: deserialize invalid JSON and an object missing `finalPath`.
   * Pass: SerializationError in both cases.
   */
  it('refuses corrupted committables with a SerializationError', () => {
    const encode = (text: string) => new TextEncoder().encode(text)
    expect(SerializationError.isInstance(thrown(() => serializer.deserialize(1, encode('{not json'))))).toBe(true)
    expect(SerializationError.isInstance(thrown(() => serializer.deserialize(1, encode('{"tempPath":"/a","records":1}'))))).toBe(true)
  })
})

describe('readCommittedRecords', () => {
  /**
   * Purpose: a committed file cut mid-record is reported, never read as fewer records.
   * Method: write a committed file whose last line has no newline, and one with an invalid line.
   * Pass: CommittedFileCorruptedError naming the file and the line number.
   */
  it('names the file and line of a partial or invalid line', async () => {
    const committed = path.join(directory, 'committed')
    await writeFile(path.join(committed, 'a.jsonl'), '{"n":1}\n{"n":2')
    await expect(readCommittedRecords(directory)).rejects.toThrow(`${path.join(committed, 'a.jsonl')}:2:`)
    await writeFile(path.join(committed, 'a.jsonl'), '{"n":1}\n{"n":\n{"n":3}\n')
    const error = await readCommittedRecords(directory).catch((e: unknown) => e)
    expect(CommittedFileCorruptedError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({ path: path.join(committed, 'a.jsonl'), line: 2 })
  })

  /**
   * Purpose: in-progress files are never output, whatever they hold.
   * Method: put a file into `.in-progress` by hand.
   * Pass: readCommittedRecords ignores it; listInProgressFiles lists it.
   */
  it('never reads .in-progress files', async () => {
    await writeFile(path.join(directory, '.in-progress', 'x.jsonl'), '{"n":1}\n')
    expect(await readCommittedRecords(directory)).toEqual([])
    expect((await listInProgressFiles(directory)).map((file) => path.basename(file))).toEqual(['x.jsonl'])
    expect(await readdir(path.join(directory, 'committed'))).toEqual([])
  })
})
