import { existsSync } from 'node:fs'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AllTypes } from './__fixtures__/all-types.js'
import {
  allTypesAvroSchema,
  allTypesRow,
  canonical,
  duckdbAllTypesColumns,
  expectedDuckDBRow,
  expectedDuckDBTypes,
  expectedHyparquetRow,
} from './__fixtures__/all-types.js'
import { dataPageTypes, queryDuckDB, readMetadata, readWithDuckDB, readWithHyparquet } from './__fixtures__/parquet-readers.js'
import { parquetBulkFormat } from './parquet-bulk-format.js'
import type { ParquetBulkFormatOptions, ParquetWriterKind } from './parquet-bulk-format.js'
import type { ParquetCompression } from './parquet-format-spec.js'

let directory: string
beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'sluice-parquet-'))
})
afterAll(async () => {
  await rm(directory, { recursive: true, force: true })
})

let fileCounter = 0
const nextFile = (label: string): string => path.join(directory, `${label}-${fileCounter++}.parquet`)

/** Writes `rows` in batches of `batchSize` through a fresh writer and finishes the file. */
async function writeFile<T>(options: ParquetBulkFormatOptions, rows: readonly T[], batchSize = 1000): Promise<string> {
  const format = parquetBulkFormat<T>(options)
  format.validate()
  const file = nextFile(`${options.writer ?? 'default'}-${options.compression ?? 'default'}`)
  const writer = await format.createWriter(file)
  for (let start = 0; start < rows.length; start += batchSize) {
    await writer.addElements(rows.slice(start, start + batchSize))
  }
  await writer.finish()
  return file
}

const writerKinds: ParquetWriterKind[] = ['columnar', 'parquetjs']
const compressions: ParquetCompression[] = ['UNCOMPRESSED', 'SNAPPY', 'GZIP']

describe.each(writerKinds)('Parquet bulk writer %s', (writer) => {
  /**
   * Purpose: every Avro type the format maps reaches the file as the value and the type a reader expects.
   * Method: 60 rows of edge values (int/long limits, float32 rounding, ±Infinity, subnormals, unicode,
   * empty bytes, timestamps before 1970 and in microseconds, dates from year 1 to 9999, nulls, nested
   * records, lists of records, lists with null elements, maps, lists of lists), in each codec, read back
   * by DuckDB and by hyparquet.
   * Pass: DuckDB's column types are the mapped types (timestamps are TIMESTAMP, dates DATE) and both
   * readers return every value of every row.
   */
  it.each(compressions)('writes every mapped type, compression %s, read back value by value', async (compression) => {
    const rows = Array.from({ length: 60 }, (_, i) => allTypesRow(i))
    const file = await writeFile<AllTypes>({ avroSchema: allTypesAvroSchema, writer, compression, rowGroupSize: 25 }, rows, 17)

    const all = await readWithDuckDB(file)
    expect(all.types).toEqual(expectedDuckDBTypes)
    const exact = await readWithDuckDB(file, duckdbAllTypesColumns, 'id')
    expect(exact.rows.map(canonical)).toEqual(rows.map(expectedDuckDBRow))

    const viaHyparquet = await readWithHyparquet(file)
    expect(viaHyparquet.map(canonical)).toEqual(rows.map(expectedHyparquetRow))

    const metadata = await readMetadata(file)
    expect(metadata.row_groups.map((group) => Number(group.num_rows))).toEqual([25, 25, 10])
    const codecs = new Set(metadata.row_groups.flatMap((group) => group.columns.map((column) => column.meta_data?.codec)))
    expect([...codecs]).toEqual([compression])
  })

  /**
   * Purpose: a part file of 100k rows spans several row groups and stays exact.
   * Method: 100 000 rows of the seed's order record in batches of 4096 with rowGroupSize 30 000;
   * aggregate and spot-check with DuckDB.
   * Pass: 4 row groups (30k, 30k, 30k, 10k); count, sums and distinct ids match the input; a sample of
   * rows matches value by value.
   */
  it('writes 100k rows in several row groups', async () => {
    const count = 100_000
    const rows = Array.from({ length: count }, (_, i) => ({
      itemId: `item-${i}`,
      goodsId: String((i % 6) + 1),
      count: (i % 10) + 1,
      createdAt: 1_700_000_000_000 + i,
    }))
    const schema = {
      type: 'record',
      name: 'OrderItem',
      fields: [
        { name: 'itemId', type: 'string' },
        { name: 'goodsId', type: 'string' },
        { name: 'count', type: 'int' },
        { name: 'createdAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
      ],
    }
    const file = await writeFile({ avroSchema: schema, writer, rowGroupSize: 30_000 }, rows, 4096)

    const metadata = await readMetadata(file)
    expect(metadata.row_groups.map((group) => Number(group.num_rows))).toEqual([30_000, 30_000, 30_000, 10_000])
    const quoted = `'${file}'`
    const [summary] = await queryDuckDB(
      `select count(*), count(distinct itemId), sum(count), sum(epoch_ms(createdAt)), min(createdAt)
       from read_parquet(${quoted})`,
    )
    const expectedCountSum = rows.reduce((sum, row) => sum + row.count, 0)
    const expectedMillisSum = rows.reduce((sum, row) => sum + BigInt(row.createdAt), 0n)
    expect(summary).toEqual([BigInt(count), BigInt(count), BigInt(expectedCountSum), expectedMillisSum, new Date(1_700_000_000_000)])
    const sample = await readWithDuckDB(file, 'itemId, goodsId, count, epoch_ms(createdAt) as createdAt', 'createdAt')
    for (const i of [0, 1, 29_999, 30_000, 65_536, 99_999]) {
      const row = rows[i] as (typeof rows)[number]
      expect(sample.rows[i]).toEqual({ ...row, createdAt: BigInt(row.createdAt) })
    }
  })

  /**
   * Purpose: decide what an empty part file is.
   * Method: finish a writer that received no record (and one that received only empty batches).
   * Pass: the file is a valid Parquet file with the schema and zero rows (DuckDB and hyparquet read it);
   * the file sink may skip publishing it.
   */
  it('finishes an empty part file as a valid Parquet file with zero rows', async () => {
    const file = await writeFile({ avroSchema: allTypesAvroSchema, writer }, [])
    const { types, rows } = await readWithDuckDB(file)
    expect(rows).toEqual([])
    expect(types).toEqual(expectedDuckDBTypes)
    expect(await readWithHyparquet(file)).toEqual([])
    expect((await readMetadata(file)).row_groups).toEqual([])

    const format = parquetBulkFormat({ avroSchema: allTypesAvroSchema, writer })
    const emptyBatches = nextFile('empty-batches')
    const bulkWriter = await format.createWriter(emptyBatches)
    await bulkWriter.addElements([])
    await bulkWriter.finish()
    expect((await readWithDuckDB(emptyBatches)).rows).toEqual([])
  })

  /**
   * Purpose: bytesWritten reports the file's size for the sink's statistics.
   * Method: write 10k rows, finish, compare with the file size on disk.
   * Pass: bytesWritten equals the file size after finish, and is positive but below it before.
   */
  it('reports bytesWritten equal to the finished file size', async () => {
    const format = parquetBulkFormat({ avroSchema: allTypesAvroSchema, writer, rowGroupSize: 4000 })
    const file = nextFile('size')
    const bulkWriter = await format.createWriter(file)
    const rows = Array.from({ length: 10_000 }, (_, i) => allTypesRow(i))
    await bulkWriter.addElements(rows)
    const before = bulkWriter.bytesWritten
    await bulkWriter.finish()
    const size = (await stat(file)).size
    expect(before).toBeGreaterThan(0)
    expect(before).toBeLessThan(size)
    expect(bulkWriter.bytesWritten).toBe(size)
  })

  /**
   * Purpose: records checked against the schema name the field and the value, and a rejected batch
   * leaves nothing behind.
   * Method: offer batches with one bad record (wrong type deep in a list, missing required field, enum
   * symbol not declared), then a good batch, finish and read.
   * Pass: each bad batch throws a ParquetRecordError (code SERIALIZATION_FAILED) whose message and
   * properties name the field path, the value and the record index; the file holds only the good rows.
   */
  it('rejects a record that does not match, naming field and value, and drops the whole batch', async () => {
    const format = parquetBulkFormat({ avroSchema: allTypesAvroSchema, writer })
    const file = nextFile('bad-records')
    const bulkWriter = await format.createWriter(file)
    const good = [allTypesRow(0), allTypesRow(1)]
    await bulkWriter.addElements(good)

    const wrongDeep = { ...allTypesRow(2), lines: [{ sku: 'a', qty: 1, discount: null }, { sku: 'b', qty: '3', discount: null }] }
    const error = await captureError(() => bulkWriter.addElements([allTypesRow(5), wrongDeep]))
    expect(error).toMatchObject({
      name: 'SerializationError',
      code: 'SERIALIZATION_FAILED',
      field: 'lines[1].qty',
      value: '3',
      recordIndex: 3,
      partFile: file,
    })
    expect((error as Error).message).toBe(
      `Parquet part file ${file}, record 3: field 'lines[1].qty': expected int (32-bit integer), got "3" (string)`,
    )

    const { label: _missing, ...withoutLabel } = allTypesRow(6)
    expect(await captureError(() => bulkWriter.addElements([withoutLabel]))).toMatchObject({
      field: 'label',
      message: expect.stringContaining("field 'label': required string, got undefined (missing)"),
    })
    expect(await captureError(() => bulkWriter.addElements([{ ...allTypesRow(7), status: 'LOST' }]))).toMatchObject({
      field: 'status',
      message: expect.stringContaining(`field 'status': expected enum (one of "NEW", "PAID", "SHIPPED"), got "LOST" (string)`),
    })
    expect(await captureError(() => bulkWriter.addElements([{ ...allTypesRow(8), attributes: { ok: 'x', bad: 1 } }]))).toMatchObject({
      field: 'attributes["bad"]',
    })
    expect(await captureError(() => bulkWriter.addElements([42 as unknown as object]))).toMatchObject({
      field: '',
      message: expect.stringContaining('the record: expected a record with fields id, flag'),
    })

    const later = [allTypesRow(9)]
    await bulkWriter.addElements(later)
    await bulkWriter.finish()
    const { rows } = await readWithDuckDB(file, duckdbAllTypesColumns, 'id')
    expect(rows.map(canonical)).toEqual([...good, ...later].map(expectedDuckDBRow))
  })

  /**
   * Purpose: what is written is the record as it was when handed over: a source that reuses and mutates
   * its objects afterwards (the seed's OrderItemSource does) must not change buffered rows.
   * Method: add a record, then mutate its nested record, list and bytes in place and add it again.
   * Pass: the file holds the first version, then the mutated one.
   */
  it('captures records at addElements', async () => {
    const format = parquetBulkFormat<AllTypes>({ avroSchema: allTypesAvroSchema, writer })
    const file = nextFile('capture')
    const bulkWriter = await format.createWriter(file)
    const record = allTypesRow(2)
    const before = structuredClone(record)
    await bulkWriter.addElements([record])
    record.id = 3
    record.address.city = 'changed'
    record.tags.push('added')
    record.payload[0] = 0x7f
    await bulkWriter.addElements([record])
    await bulkWriter.finish()
    const { rows } = await readWithDuckDB(file, duckdbAllTypesColumns, 'id')
    expect(rows.map(canonical)).toEqual([expectedDuckDBRow(before), expectedDuckDBRow(record)])
  })

  /**
   * Purpose: a long given as a number beyond 2^53 has already lost precision; writing it would store a
   * different number than the user meant.
   * Pass: the record is refused with an error naming the field and the value.
   */
  it('rejects a long beyond 2^53 given as a number', async () => {
    const format = parquetBulkFormat({ avroSchema: allTypesAvroSchema, writer })
    const bulkWriter = await format.createWriter(nextFile('long-number'))
    const error = await captureError(() => bulkWriter.addElements([{ ...allTypesRow(0), big: 2 ** 53 + 2 }]))
    expect(error).toMatchObject({ field: 'big', value: 2 ** 53 + 2 })
    expect((error as Error).message).toMatch(/field 'big': .*±\(2\^53 − 1\).*, got 9007199254740994 \(number\)$/)
    await bulkWriter.abort()
  })

  /**
   * Purpose: lifecycle misuse fails loudly; abort is always allowed.
   * Pass: addElements/finish after finish throw IllegalStateError; abort after finish is a no-op;
   * an aborted writer refuses further records.
   */
  it('refuses use after finish or abort', async () => {
    const format = parquetBulkFormat({ avroSchema: allTypesAvroSchema, writer })
    const finished = await format.createWriter(nextFile('lifecycle'))
    await finished.finish()
    expect(await captureError(() => finished.addElements([allTypesRow(0)]))).toMatchObject({ code: 'ILLEGAL_STATE' })
    expect(await captureError(() => finished.finish())).toMatchObject({ code: 'ILLEGAL_STATE' })
    await finished.abort()

    const aborted = await format.createWriter(nextFile('aborted'))
    await aborted.addElements([allTypesRow(0)])
    await aborted.abort()
    await aborted.abort()
    expect(await captureError(() => aborted.addElements([allTypesRow(1)]))).toMatchObject({ code: 'ILLEGAL_STATE' })
  })

  /**
   * Purpose: a full disk fails the write with the path and errno, never silently and never as an
   * unhandled rejection (parquetjs-lite does not wait for all of its writes).
   * Method: write to /dev/full (every write fails with ENOSPC) with small row groups; then finish.
   * Pass: addElements or finish rejects with code PART_FILE_WRITE_FAILED naming /dev/full and ENOSPC;
   * afterwards the writer refuses more work and abort() succeeds.
   */
  it.runIf(existsSync('/dev/full'))('fails with the path and ENOSPC when the disk is full', async () => {
    const format = parquetBulkFormat({ avroSchema: allTypesAvroSchema, writer, rowGroupSize: 100 })
    const bulkWriter = await format.createWriter('/dev/full')
    const rows = Array.from({ length: 3000 }, (_, i) => allTypesRow(i))
    let error: unknown
    try {
      for (let start = 0; start < rows.length; start += 500) await bulkWriter.addElements(rows.slice(start, start + 500))
      await bulkWriter.finish()
    } catch (caught) {
      error = caught
    }
    expect(error).toMatchObject({ code: 'PART_FILE_WRITE_FAILED', retriable: true })
    expect((error as Error).message).toMatch(/Parquet part file \/dev\/full: write failed: ENOSPC/)
    expect(await captureError(() => bulkWriter.addElements([allTypesRow(0)]))).toMatchObject({ code: 'ILLEGAL_STATE' })
    await bulkWriter.abort()
  })

  /**
   * Purpose: an unwritable location fails with the path, as a SluiceError the sink can report.
   * Pass: createWriter rejects with code PART_FILE_WRITE_FAILED and a message naming the path.
   */
  it('fails createWriter with the path when the directory does not exist', async () => {
    const format = parquetBulkFormat({ avroSchema: allTypesAvroSchema, writer })
    const file = path.join(directory, 'missing-directory', 'part-0-0.parquet')
    const error = await captureError(() => format.createWriter(file))
    expect(error).toMatchObject({ code: 'PART_FILE_WRITE_FAILED', retriable: true })
    expect((error as Error).message).toContain(file)
  })
})

describe('writer differences', () => {
  /**
   * Purpose: the columnar writer closes the 64-bit gap: longs and timestamps given as bigint are written
   * exactly over the whole INT64 range, and NaN is written.
   * Pass: DuckDB reads back ±(2^63 − 1)-range values exactly, and NaN.
   */
  it('columnar writes the full 64-bit long range from bigint, and NaN', async () => {
    const rows = [
      { ...allTypesRow(0), big: 2n ** 63n - 1n, amount: Number.NaN },
      { ...allTypesRow(1), big: -(2n ** 63n), ratio: Number.NaN },
      { ...allTypesRow(2), big: 2n ** 53n + 1n },
    ]
    const file = await writeFile({ avroSchema: allTypesAvroSchema, writer: 'columnar' }, rows)
    const { rows: read } = await readWithDuckDB(file, 'big, amount, ratio', 'id')
    expect(read).toEqual([
      { big: 2n ** 63n - 1n, amount: Number.NaN, ratio: Math.fround(1.5) },
      { big: -(2n ** 63n), amount: -1e-300, ratio: Number.NaN },
      { big: 2n ** 53n + 1n, amount: Number.MAX_VALUE, ratio: Math.fround(0.1) },
    ])
  })

  /**
   * Purpose: the parquetjs writer cannot write some values faithfully; it must refuse them, not corrupt them.
   * Pass: a bigint long beyond 2^53, NaN, and a pre-1970 microsecond timestamp that is not whole
   * milliseconds are each refused with an error naming the field, the value and the way out.
   */
  it('parquetjs refuses values it would write wrong, naming field and value', async () => {
    const format = parquetBulkFormat({ avroSchema: allTypesAvroSchema, writer: 'parquetjs' })
    const bulkWriter = await format.createWriter(nextFile('parquetjs-limits'))
    const cases: [Partial<AllTypes>, string, string][] = [
      [{ big: 2n ** 53n + 1n }, 'big', '9007199254740993n (bigint)'],
      [{ amount: Number.NaN }, 'amount', 'NaN (number)'],
      [{ updatedAt: -1_500 }, 'updatedAt', '-1500 (number)'],
    ]
    for (const [patch, field, value] of cases) {
      const error = await captureError(() => bulkWriter.addElements([{ ...allTypesRow(0), ...patch }]))
      expect(error).toMatchObject({ field })
      expect((error as Error).message).toContain(`got ${value}`)
      expect((error as Error).message).toContain("use writer: 'columnar'")
    }
    await bulkWriter.abort()
  })

  /**
   * Purpose: the page type: parquetjs-lite must write V1 pages (its default V2 is what the issue warns
   * about); hyparquet-writer writes specification V2 pages, which the readers above read.
   * Pass: every column chunk of the parquetjs file starts with a DATA_PAGE; of the columnar file with a
   * DATA_PAGE_V2 (or its dictionary page is followed by one).
   */
  it('parquetjs writes data page V1', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => allTypesRow(i))
    const parquetjsFile = await writeFile({ avroSchema: allTypesAvroSchema, writer: 'parquetjs' }, rows)
    expect([...(await dataPageTypes(parquetjsFile))]).toEqual(['DATA_PAGE'])
    const columnarFile = await writeFile({ avroSchema: allTypesAvroSchema, writer: 'columnar' }, rows)
    expect([...(await dataPageTypes(columnarFile))]).toEqual(['DATA_PAGE_V2'])
  })

  /**
   * Purpose: both writers write the same Parquet schema for the same Avro schema (so a reader cannot tell
   * which one wrote a part file), with parquet-avro's key-value metadata.
   * Pass: equal schema elements in both footers; `parquet.avro.schema` holds the Avro schema.
   */
  it('both writers write the same schema and the parquet-avro metadata', async () => {
    const rows = [allTypesRow(0)]
    const a = await readMetadata(await writeFile({ avroSchema: allTypesAvroSchema, writer: 'parquetjs' }, rows))
    const b = await readMetadata(await writeFile({ avroSchema: allTypesAvroSchema, writer: 'columnar' }, rows))
    const shape = (metadata: typeof a) =>
      metadata.schema.map(({ name, type, type_length, repetition_type, converted_type, num_children }) => ({
        name,
        type,
        type_length,
        repetition_type,
        converted_type,
        num_children,
      }))
    expect(shape(a)).toEqual(shape(b))
    for (const metadata of [a, b]) {
      const avroSchema = metadata.key_value_metadata?.find((kv) => kv.key === 'parquet.avro.schema')?.value
      expect(JSON.parse(avroSchema ?? 'null')).toMatchObject({ name: 'sluice.test.AllTypes', type: 'record' })
    }
  })
})

async function captureError(action: () => unknown): Promise<unknown> {
  try {
    await action()
  } catch (error) {
    return error
  }
  throw new Error('expected an error')
}
