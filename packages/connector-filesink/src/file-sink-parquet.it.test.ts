import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { JobFailedError, RestartStrategies, StreamExecutionEnvironment } from '@sluice/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { listOutputFiles } from '../test/__fixtures__/output-files.js'
import { type OrderItem, orderItemAvroSchema, orderItemOf } from '../test/__fixtures__/seed-orders.js'
import { readMetadata, readWithDuckDB } from './bulk/__fixtures__/parquet-readers.js'
import { parquetBulkFormat } from './bulk/parquet-bulk-format.js'
import { ParquetRecordError } from './bulk/parquet-record-error.js'
import { DateTimeBucketAssigner } from './date-time-bucket-assigner.js'
import { FileSink } from './file-sink.js'

let directory: string
beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'sluice-filesink-parquet-job-'))
})
afterEach(async () => {
  await rm(directory, { recursive: true, force: true })
})

/**
 * The finished part files of one subtask, in the order it wrote them (by part counter, whatever the
 * bucket), each read with DuckDB, and their rows concatenated.
 */
async function finishedRows(basePath: string): Promise<{ files: string[]; rows: Record<string, unknown>[]; types: Record<string, string> | undefined }> {
  const { finished } = await listOutputFiles(basePath)
  const counterOf = (file: string) => Number(/-(\d+)\.parquet$/.exec(path.basename(file))?.[1])
  const files = [...finished].sort((a, b) => counterOf(a) - counterOf(b))
  const rows: Record<string, unknown>[] = []
  let types: Record<string, string> | undefined
  for (const file of files) {
    const read = await readWithDuckDB(file)
    types ??= read.types
    expect(read.rows.length, `${file} has no rows`).toBeGreaterThan(0)
    rows.push(...read.rows)
  }
  return { files, rows, types }
}

/** All messages of an error and its causes, joined: what a person reading the failure sees. */
function messages(error: unknown): string {
  const parts: string[] = []
  for (let e = error; e instanceof Error; e = e.cause) parts.push(e.message)
  return parts.join(' <- ')
}

function causeMatching<E>(error: unknown, isInstance: (e: unknown) => e is E): E | undefined {
  for (let e = error; e instanceof Error; e = e.cause) if (isInstance(e)) return e
  return undefined
}

describe("the seed's example: order records → Parquet bulk FileSink", () => {
  /**
   * Purpose: the seed's bulk example end to end — `StreamingFileSink.forBulkFormat(path,
   * ParquetAvroWriters.forReflectRecord(OrderItem.class)).withBucketAssigner(...).withBucketCheckInterval(...)`
   * — as a Sluice job: datagen of the seed's OrderItemSource records (an item for a random good, then the
   * same item with goodsId "111") → `FileSink.forBulkFormat(path, parquetBulkFormat({ avroSchema }))` with
   * the schema forReflectRecord derives, rolling on every checkpoint (the bulk default). The seed's
   * `PaulBucketAssigner` is not shown in the seed; the default `DateTimeBucketAssigner` stands in.
   * Method: 4000 records at 8000/s with checkpoints every 50 ms, sink parallelism 1; every finished
   * file read with DuckDB, in part-counter order.
   * Pass: the rows read, file after file, are exactly the records generated, in order, value by value,
   * with DuckDB types VARCHAR, VARCHAR, INTEGER, compressed with the default codec (GZIP); files are `part-0-<n>.parquet` in `yyyy-MM-dd--HH`
   * buckets; several files rolled (one per checkpoint interval); no hidden file remains.
   */
  it.each(['columnar', 'parquetjs'] as const)('writes exactly the records generated, one file per checkpoint (writer %s)', async (writer) => {
    const count = 4000
    const basePath = path.join(directory, 'FlinkStreamFileSink', 'parquet')
    const env = StreamExecutionEnvironment.create({ parallelism: 1, checkpointing: { interval: 50, directory: path.join(directory, 'ckp') } })
    const sink = FileSink.forBulkFormat(basePath, parquetBulkFormat<OrderItem>({ avroSchema: orderItemAvroSchema, writer }))
      .withBucketAssigner(new DateTimeBucketAssigner())
      .withBucketCheckInterval(1_000)
      .withWarnWithoutCheckpointing(false)
      .build()
    env.datagen({ generator: orderItemOf, count, recordsPerSecond: 8_000 }).sinkTo(sink)
    const result = await env.execute('parquet-order-items').result
    expect(result.state).toBe('FINISHED')

    const { files, rows, types } = await finishedRows(basePath)
    expect(types).toEqual({ itemId: 'VARCHAR', goodsId: 'VARCHAR', count: 'INTEGER' })
    expect(rows).toEqual(Array.from({ length: count }, (_, seq) => orderItemOf(seq)))
    const codecs = (await readMetadata(files[0] as string)).row_groups.flatMap((group) => group.columns.map((column) => column.meta_data?.codec))
    expect(new Set(codecs)).toEqual(new Set(['GZIP']))
    expect(files.length).toBeGreaterThan(3)
    for (const file of files) {
      expect(path.basename(file)).toMatch(/^part-0-\d+\.parquet$/)
      expect(path.basename(path.dirname(file))).toMatch(/^\d{4}-\d{2}-\d{2}--\d{2}$/)
    }
    expect((await listOutputFiles(basePath)).hidden).toEqual([])
  })
})

describe('a record the Parquet schema rejects, in a job', () => {
  /**
   * Purpose: bad input end to end — a record whose `count` is the string "7" where the schema has an
   * Avro int — fails the job with an error naming the field and the value, and publishes nothing
   * partial and nothing of the bad record.
   * Method: 6000 records at 10 000/s, checkpoints every 50 ms (so several part files are published
   * before the bad record arrives), record 3000 is bad; a restart strategy of 2 restarts, so the job
   * also restores from its checkpoint and meets the record again.
   * Pass: the job fails; a ParquetRecordError in its causes has field 'count' and value "7", and the
   * message reads `field 'count': … got "7" (string)`; every finished file is readable by DuckDB and
   * their rows, in part-counter order, are exactly records 0 … n−1 for some 0 < n ≤ 3000 (no partial
   * file, no duplicate across the restarts, no bad record).
   */
  it.each(['columnar', 'parquetjs'] as const)('fails naming the field and value, publishing only whole files of good records (writer %s)', async (writer) => {
    const count = 6000
    const badSeq = 3000
    const basePath = path.join(directory, 'out')
    const env = StreamExecutionEnvironment.create({
      parallelism: 1,
      checkpointing: { interval: 50, directory: path.join(directory, 'ckp') },
      restartStrategy: RestartStrategies.fixedDelay(2, 10),
      onWarning: () => {},
    })
    const generator = (seq: number): OrderItem => (seq === badSeq ? ({ ...orderItemOf(seq), count: '7' } as unknown as OrderItem) : orderItemOf(seq))
    env
      .datagen({ generator, count, recordsPerSecond: 10_000 })
      .sinkTo(FileSink.forBulkFormat(basePath, parquetBulkFormat<OrderItem>({ avroSchema: orderItemAvroSchema, writer })).withBucketAssigner({ getBucketId: () => 'orders' }).withWarnWithoutCheckpointing(false).build())
    const error = await env.execute('parquet-bad-record').result.then(
      () => undefined,
      (e: unknown) => e,
    )
    // The restart strategy gave up: the record failed the job again after each restore.
    expect(error).toSatisfy(JobFailedError.isInstance)
    expect(messages(error)).toContain('after 2 restart(s)')
    const recordError = causeMatching(error, ParquetRecordError.isInstance)
    expect(recordError).toMatchObject({ field: 'count', value: '7' })
    expect(messages(error)).toContain(`field 'count': expected int (32-bit integer), got "7" (string)`)

    const { rows } = await finishedRows(basePath)
    expect(rows.length).toBeGreaterThan(0)
    expect(rows.length).toBeLessThanOrEqual(badSeq)
    expect(rows).toEqual(Array.from({ length: rows.length }, (_, seq) => orderItemOf(seq)))
  })
})
