import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ConfigError } from '@sluice/core'
import avsc from 'avsc'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { allTypesAvroSchema, allTypesRow } from './__fixtures__/all-types.js'
import { duckdbParquetSchema, readWithDuckDB } from './__fixtures__/parquet-readers.js'
import { parquetBulkFormat } from './parquet-bulk-format.js'
import type { ParquetBulkFormatOptions } from './parquet-bulk-format.js'

let directory: string
beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'sluice-avro-mapping-'))
})
afterAll(async () => {
  await rm(directory, { recursive: true, force: true })
})

let counter = 0
async function writeOne(options: ParquetBulkFormatOptions, rows: readonly object[]): Promise<string> {
  const format = parquetBulkFormat(options)
  format.validate()
  const file = path.join(directory, `mapping-${counter++}.parquet`)
  const writer = await format.createWriter(file)
  await writer.addElements(rows)
  await writer.finish()
  return file
}

type Row = [name: string, type: string | null, convertedType: string | null, repetition: string | null]

/**
 * The Parquet schema parquet-avro's AvroSchemaConverter produces for `allTypesAvroSchema` with
 * `parquet.avro.write-old-list-structure=false` — except enums, which parquet-avro annotates ENUM and
 * this format UTF8 (readers see a string either way).
 */
const parquetAvroSchema: Row[] = [
  ['root', null, null, null],
  ['id', 'INT32', null, 'REQUIRED'],
  ['flag', 'BOOLEAN', null, 'REQUIRED'],
  ['small', 'INT32', null, 'REQUIRED'],
  ['big', 'INT64', null, 'REQUIRED'],
  ['ratio', 'FLOAT', null, 'REQUIRED'],
  ['amount', 'DOUBLE', null, 'REQUIRED'],
  ['label', 'BYTE_ARRAY', 'UTF8', 'REQUIRED'],
  ['payload', 'BYTE_ARRAY', null, 'REQUIRED'],
  ['hash', 'FIXED_LEN_BYTE_ARRAY', null, 'REQUIRED'],
  ['status', 'BYTE_ARRAY', 'UTF8', 'REQUIRED'],
  ['createdAt', 'INT64', 'TIMESTAMP_MILLIS', 'REQUIRED'],
  ['updatedAt', 'INT64', 'TIMESTAMP_MICROS', 'REQUIRED'],
  ['day', 'INT32', 'DATE', 'REQUIRED'],
  ['note', 'BYTE_ARRAY', 'UTF8', 'OPTIONAL'],
  ['score', 'DOUBLE', null, 'OPTIONAL'],
  ['address', null, null, 'REQUIRED'],
  ['city', 'BYTE_ARRAY', 'UTF8', 'REQUIRED'],
  ['zip', 'INT32', null, 'OPTIONAL'],
  ['billing', null, null, 'OPTIONAL'],
  ['city', 'BYTE_ARRAY', 'UTF8', 'REQUIRED'],
  ['zip', 'INT32', null, 'OPTIONAL'],
  ['tags', null, 'LIST', 'REQUIRED'],
  ['list', null, null, 'REPEATED'],
  ['element', 'BYTE_ARRAY', 'UTF8', 'REQUIRED'],
  ['lines', null, 'LIST', 'OPTIONAL'],
  ['list', null, null, 'REPEATED'],
  ['element', null, null, 'REQUIRED'],
  ['sku', 'BYTE_ARRAY', 'UTF8', 'REQUIRED'],
  ['qty', 'INT32', null, 'REQUIRED'],
  ['discount', 'DOUBLE', null, 'OPTIONAL'],
  ['maybeNumbers', null, 'LIST', 'REQUIRED'],
  ['list', null, null, 'REPEATED'],
  ['element', 'INT64', null, 'OPTIONAL'],
  ['attributes', null, 'MAP', 'REQUIRED'],
  ['key_value', null, null, 'REPEATED'],
  ['key', 'BYTE_ARRAY', 'UTF8', 'REQUIRED'],
  ['value', 'BYTE_ARRAY', 'UTF8', 'REQUIRED'],
  ['matrix', null, 'LIST', 'REQUIRED'],
  ['list', null, null, 'REPEATED'],
  ['element', null, 'LIST', 'REQUIRED'],
  ['list', null, null, 'REPEATED'],
  ['element', 'INT32', null, 'REQUIRED'],
]

describe('Avro schema → Parquet schema', () => {
  /**
   * Purpose: the Avro schema maps the way parquet-avro maps it (optional unions, groups, 3-level lists,
   * maps, logical types), whichever writer writes the file.
   * Method: write one row with each writer, read the footer's schema with DuckDB's parquet_schema().
   * Pass: the schema elements equal parquet-avro's, element by element.
   */
  it.each(['columnar', 'parquetjs'] as const)('maps like parquet-avro (writer %s)', async (writer) => {
    const file = await writeOne({ avroSchema: allTypesAvroSchema, writer }, [allTypesRow(1)])
    const schema = await duckdbParquetSchema(file)
    expect(schema.map((e) => [e.name, e.type, e.converted_type, e.repetition_type])).toEqual(parquetAvroSchema)
  })

  /**
   * Purpose: the schema may be given as JSON text or as an avsc Type built with the caller's logical
   * types, and logical types still map; an avsc Type built without them has already lost them (avsc
   * drops unregistered logical types), so the column is a plain long — the documented limitation.
   * Pass: DuckDB sees TIMESTAMP for the first two inputs, BIGINT for the third; values read back exactly.
   */
  it('accepts a JSON string and avsc Types', async () => {
    const schema = {
      type: 'record',
      name: 'Event',
      fields: [
        { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
        { name: 'id', type: { type: 'string', logicalType: 'uuid' } },
        { name: 'custom', type: { type: 'int', logicalType: 'my-own-type' } },
      ],
    }
    class DateType extends avsc.types.LogicalType {
      protected override _fromValue(value: number): Date {
        return new Date(value)
      }
      protected override _toValue(value: Date): number {
        return value.getTime()
      }
    }
    const inputs: [object | string, string][] = [
      [JSON.stringify(schema), 'TIMESTAMP'],
      [avsc.Type.forSchema(schema as never, { logicalTypes: { 'timestamp-millis': DateType } }), 'TIMESTAMP'],
      [avsc.Type.forSchema(schema as never), 'BIGINT'],
    ]
    const row = { at: 1_700_000_000_123, id: '0f8fad5b-d9cb-469f-a165-70867728950e', custom: 7 }
    for (const [avroSchema, atType] of inputs) {
      const file = await writeOne({ avroSchema }, [row])
      const { types, rows } = await readWithDuckDB(file)
      expect(types).toEqual({ at: atType, id: 'VARCHAR', custom: 'INTEGER' })
      expect(rows).toEqual([{ at: atType === 'TIMESTAMP' ? new Date(row.at) : BigInt(row.at), id: row.id, custom: 7 }])
    }
  })

  const record = (fields: object[], name = 'Order') => ({ type: 'record', name, fields })

  /**
   * Purpose: what cannot be written faithfully, or has no Parquet form, is refused at build time with
   * the path of the field inside the schema.
   * Pass: validate() throws a ConfigError whose path is `parquetBulkFormat.avroSchema.<field path>` and
   * whose message says what is wrong and what to do.
   */
  it.each([
    [
      record([{ name: 'lines', type: { type: 'array', items: record([{ name: 'price', type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 } }], 'Line') } }]),
      'parquetBulkFormat.avroSchema.lines[].price',
      "logical type 'decimal' cannot be written faithfully",
    ],
    [
      record([{ name: 'v', type: ['null', 'int', 'string'] }]),
      'parquetBulkFormat.avroSchema.v',
      'unions of several non-null types (int | string) are not supported',
    ],
    [
      {
        type: 'record',
        name: 'Node',
        fields: [{ name: 'children', type: { type: 'array', items: 'Node' } }],
      },
      'parquetBulkFormat.avroSchema.children[]',
      "record 'Node' contains itself",
    ],
    [record([{ name: 'nothing', type: 'null' }]), 'parquetBulkFormat.avroSchema.nothing', "a field of type 'null' has no Parquet type"],
    [record([{ name: 'nothing', type: ['null'] }]), 'parquetBulkFormat.avroSchema.nothing', 'a union of only null'],
    [{ type: 'array', items: 'int' }, 'parquetBulkFormat.avroSchema', "the top-level Avro schema must be a record, got 'array'"],
    [
      record([{ name: 'at', type: { type: 'int', logicalType: 'time-millis' } }]),
      'parquetBulkFormat.avroSchema.at',
      "logical type 'time-millis' is not supported",
    ],
    [
      record([{ name: 'at', type: { type: 'int', logicalType: 'timestamp-millis' } }]),
      'parquetBulkFormat.avroSchema.at',
      "logical type 'timestamp-millis' must annotate 'long', got 'int'",
    ],
    [
      record([{ name: 'm', type: { type: 'map', values: { type: 'long', logicalType: 'local-timestamp-millis' } } }]),
      'parquetBulkFormat.avroSchema.m{}',
      "logical type 'local-timestamp-millis' is not supported",
    ],
    [record([{ name: 'x', type: 'Nope' }]), 'parquetBulkFormat.avroSchema', 'not a valid Avro schema: undefined type name: Nope'],
    ['{"type": "record"', 'parquetBulkFormat.avroSchema', 'not a valid Avro schema'],
  ])('refuses %j at build time with the field path', (avroSchema, path, message) => {
    let error: unknown
    try {
      parquetBulkFormat({ avroSchema: avroSchema as object }).validate()
    } catch (caught) {
      error = caught
    }
    expect(ConfigError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({ path })
    expect((error as Error).message).toContain(message)
  })
})
