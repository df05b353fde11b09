import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ConfigError } from '@sluice/core'
// @ts-expect-error parquetjs-lite ships no type declarations
import parquetjs from 'parquetjs-lite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canonical } from './__fixtures__/all-types.js'
import { duckdbParquetSchema, readWithDuckDB } from './__fixtures__/parquet-readers.js'
import { parquetBulkFormat } from './parquet-bulk-format.js'
import type { ParquetSchemaDefinition } from './parquet-schema-definition.js'

let directory: string
beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'sluice-parquet-schema-'))
})
afterAll(async () => {
  await rm(directory, { recursive: true, force: true })
})

/** The seed's FactOrderItem, as a Parquet schema written by hand, with a list, a map and a nested group. */
const factOrderItem: ParquetSchemaDefinition = {
  goodsId: { type: 'UTF8' },
  goodsName: { type: 'UTF8' },
  count: { type: 'INT32' },
  totalMoney: { type: 'DOUBLE' },
  status: { type: 'ENUM', optional: true },
  orderedAt: { type: 'TIMESTAMP_MILLIS' },
  shippedAt: { type: 'TIMESTAMP_MICROS', optional: true },
  deliveryDay: { type: 'DATE', optional: true },
  sequence: { type: 'INT64' },
  paid: { type: 'BOOLEAN' },
  weight: { type: 'FLOAT' },
  checksum: { type: 'FIXED_LEN_BYTE_ARRAY', typeLength: 2 },
  blob: { type: 'BYTE_ARRAY', optional: true },
  buyer: { fields: { name: { type: 'UTF8' }, vip: { type: 'BOOLEAN', optional: true } } },
  tags: { type: 'LIST', optional: true, fields: { list: { repeated: true, fields: { element: { type: 'UTF8' } } } } },
  extra: {
    type: 'MAP',
    fields: { key_value: { repeated: true, fields: { key: { type: 'UTF8' }, value: { type: 'INT64', optional: true } } } },
  },
}

const rows = Array.from({ length: 12 }, (_, i) => ({
  goodsId: String((i % 6) + 1),
  goodsName: ['小米12', 'iphone12', 'MacBookPro', 'Thinkpad X1', 'MeiZu One', 'Mate 40'][i % 6] as string,
  count: (i % 10) + 1,
  totalMoney: 4890 * ((i % 10) + 1),
  status: i % 3 === 0 ? null : 'PAID',
  orderedAt: new Date(1_600_000_000_000 + i * 1000),
  shippedAt: i % 2 === 0 ? null : 1_600_000_000_000_123n + BigInt(i),
  deliveryDay: i % 4 === 0 ? undefined : 18_500 + i,
  sequence: i % 2 === 0 ? BigInt(i) * 1_000_000_007n : -i,
  paid: i % 2 === 0,
  weight: i + 0.25,
  checksum: Uint8Array.of(i, 255 - i),
  blob: i % 3 === 0 ? null : Uint8Array.of(1, 2, i),
  buyer: { name: `buyer ${i}`, vip: i % 5 === 0 ? null : i % 2 === 0 },
  tags: i % 3 === 0 ? null : i % 3 === 1 ? [] : ['gift', `t${i}`],
  extra: i % 2 === 0 ? { points: 10, coupon: null } : new Map<string, number | bigint | null>([['points', 2n ** 40n]]),
}))
type Row = (typeof rows)[number]

function expectedRow(row: Row): unknown {
  const extra = row.extra instanceof Map ? [...row.extra.entries()] : Object.entries(row.extra)
  return canonical({
    ...row,
    weight: Math.fround(row.weight),
    orderedAt: BigInt(row.orderedAt.getTime()),
    shippedAt: row.shippedAt,
    deliveryDay: row.deliveryDay === undefined ? null : new Date(row.deliveryDay * 86_400_000),
    sequence: BigInt(row.sequence),
    extra: extra.map(([key, value]) => ({ key, value: value === null ? null : BigInt(value) })),
  })
}

describe('Parquet schema given directly', () => {
  /**
   * Purpose: a Parquet schema in parquetjs-lite's format (plain object or a ParquetSchema instance) is
   * written as given, by both writers.
   * Method: write the seed's FactOrderItem extended with every leaf type, a group, a LIST and a MAP;
   * read with DuckDB.
   * Pass: DuckDB's schema has the declared types and repetitions, and every value reads back.
   */
  it.each([
    ['columnar', 'definition'],
    ['parquetjs', 'definition'],
    ['columnar', 'ParquetSchema'],
    ['parquetjs', 'ParquetSchema'],
  ] as const)('writes with writer %s from a %s', async (writer, kind) => {
    const parquetSchema = kind === 'definition' ? factOrderItem : new parquetjs.ParquetSchema(structuredClone(factOrderItem))
    const format = parquetBulkFormat<Row>({ parquetSchema, writer, compression: 'GZIP' })
    format.validate()
    const file = path.join(directory, `${writer}-${kind}.parquet`)
    const bulkWriter = await format.createWriter(file)
    await bulkWriter.addElements(rows)
    await bulkWriter.finish()

    const schema = await duckdbParquetSchema(file)
    expect(schema.filter((e) => ['orderedAt', 'shippedAt', 'deliveryDay', 'status', 'checksum'].includes(e.name))).toEqual([
      { name: 'status', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'orderedAt', type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type: 'REQUIRED' },
      { name: 'shippedAt', type: 'INT64', converted_type: 'TIMESTAMP_MICROS', repetition_type: 'OPTIONAL' },
      { name: 'deliveryDay', type: 'INT32', converted_type: 'DATE', repetition_type: 'OPTIONAL' },
      { name: 'checksum', type: 'FIXED_LEN_BYTE_ARRAY', converted_type: null, repetition_type: 'REQUIRED' },
    ])
    const { rows: read } = await readWithDuckDB(
      file,
      '* exclude (orderedAt, shippedAt), epoch_ms(orderedAt) as orderedAt, epoch_us(shippedAt) as shippedAt',
      'orderedAt',
    )
    expect(read.map(canonical)).toEqual(rows.map(expectedRow))
  })

  /**
   * Purpose: a Parquet schema the writers cannot write as given is refused at build time with the column path.
   * Pass: validate() throws a ConfigError with the path and the reason.
   */
  it.each([
    [{ a: { type: 'INT96' } }, 'parquetBulkFormat.parquetSchema.a.type', "expected one of BOOLEAN, INT32, INT64"],
    [{ a: { type: 'UTF8', repeated: true } }, 'parquetBulkFormat.parquetSchema.a.repeated', "option 'repeated' is not supported here"],
    [
      { g: { repeated: true, fields: { a: { type: 'UTF8' } } } },
      'parquetBulkFormat.parquetSchema.g',
      "repeated groups are only supported as the 'list' group of a LIST",
    ],
    [{ a: { type: 'FIXED_LEN_BYTE_ARRAY' } }, 'parquetBulkFormat.parquetSchema.a.typeLength', 'needs a positive integer typeLength'],
    [{ a: { type: 'UTF8', compression: 'GZIP' } }, 'parquetBulkFormat.parquetSchema.a.compression', 'set the codec for the whole file'],
    [{ a: { type: 'UTF8', encoding: 'RLE' } }, 'parquetBulkFormat.parquetSchema.a.encoding', 'the writers choose encodings'],
    [
      { l: { type: 'LIST', fields: { item: { type: 'UTF8', repeated: true } } } },
      'parquetBulkFormat.parquetSchema.l',
      'a LIST group must have the standard 3-level structure',
    ],
    [
      { l: { type: 'LIST', fields: { list: { repeated: true, fields: { item: { type: 'UTF8' } } } } } },
      'parquetBulkFormat.parquetSchema.l.list',
      "exactly one field named 'element'",
    ],
    [
      { m: { type: 'MAP', fields: { key_value: { repeated: true, fields: { key: { type: 'INT32' }, value: { type: 'UTF8' } } } } } },
      'parquetBulkFormat.parquetSchema.m.key_value.key',
      "map keys must be { type: 'UTF8' }",
    ],
    [{ g: { fields: {} } }, 'parquetBulkFormat.parquetSchema.g', 'a group needs at least one field'],
    [{}, 'parquetBulkFormat.parquetSchema', 'needs at least one column'],
    [{ g: { fields: { deep: { type: 'DECIMAL' } } } }, 'parquetBulkFormat.parquetSchema.g.deep.type', 'got "DECIMAL"'],
  ])('refuses %j at build time', (parquetSchema, path, message) => {
    let error: unknown
    try {
      parquetBulkFormat({ parquetSchema: parquetSchema as ParquetSchemaDefinition }).validate()
    } catch (caught) {
      error = caught
    }
    expect(ConfigError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({ path })
    expect((error as Error).message).toContain(message)
  })
})
