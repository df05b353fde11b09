/**
 * The seed's order records through the Parquet bulk format, as the seed writes them with
 * `StreamingFileSink.forBulkFormat(path, ParquetAvroWriters.forReflectRecord(clazz))`.
 *
 * `forReflectRecord(OrderItem.class)` derives the Avro schema by reflection (Avro's ReflectData): the
 * class becomes a record with one field per Java field, non-null (ReflectData only allows null with
 * `@Nullable`), String → string, Integer → int, BigDecimal → string (a "stringable" class, with a
 * `java-class` property). OrderItem's reflected schema is `orderItemAvroSchema` in
 * `test/__fixtures__/seed-orders.ts`; FactOrderItem's is below.
 */
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type OrderItem, orderItemAvroSchema as orderItemSchema, seedGoods as goods } from '../../test/__fixtures__/seed-orders.js'
import { duckdbParquetSchema, readWithDuckDB, readWithHyparquet } from './__fixtures__/parquet-readers.js'
import { parquetBulkFormat } from './parquet-bulk-format.js'

/** ReflectData's schema of the seed's `FactOrderItem` (the join result); BigDecimal is reflected as a string. */
const factOrderItemSchema = {
  type: 'record',
  name: 'FactOrderItem',
  namespace: 'cn.seed.flink',
  fields: [
    { name: 'goodsId', type: 'string' },
    { name: 'goodsName', type: 'string' },
    { name: 'count', type: { type: 'string', 'java-class': 'java.math.BigDecimal' } },
    { name: 'totalMoney', type: { type: 'string', 'java-class': 'java.math.BigDecimal' } },
  ],
}

/**
 * What the seed's OrderItemSource emits per tick: an order item for a random good, then the same
 * (mutable) object again with goodsId "111" — a record that joins with no good.
 */
function orderItemSource(ticks: number): OrderItem[] {
  const out: OrderItem[] = []
  for (let i = 0; i < ticks; i++) {
    const good = goods[(i * 5 + 3) % goods.length] as (typeof goods)[number]
    const item = { itemId: randomUUID(), goodsId: good.goodsId, count: (i % 10) + 1 }
    out.push({ ...item }, { ...item, goodsId: '111' })
  }
  return out
}

let directory: string
beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'sluice-seed-orders-'))
})
afterAll(async () => {
  await rm(directory, { recursive: true, force: true })
})

describe("the seed's order records", () => {
  /**
   * Purpose: the seed's Parquet sink example — OrderItem records with the reflected schema — works
   * with both writers.
   * Method: 500 ticks of the seed's OrderItemSource (1000 records) written in batches of 64; read back
   * with DuckDB and hyparquet.
   * Pass: the schema has the reflected fields, all REQUIRED (reflection does not allow null) with string
   * → VARCHAR and Integer → INTEGER; every record reads back in order.
   */
  it.each(['columnar', 'parquetjs'] as const)('writes OrderItem like forReflectRecord (writer %s)', async (writer) => {
    const records = orderItemSource(500)
    const format = parquetBulkFormat<OrderItem>({ avroSchema: orderItemSchema, writer })
    format.validate()
    const file = path.join(directory, `order-item-${writer}.parquet`)
    const bulkWriter = await format.createWriter(file)
    for (let start = 0; start < records.length; start += 64) await bulkWriter.addElements(records.slice(start, start + 64))
    await bulkWriter.finish()

    expect(await duckdbParquetSchema(file)).toEqual([
      { name: 'root', type: null, converted_type: null, repetition_type: null },
      { name: 'itemId', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      { name: 'goodsId', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      { name: 'count', type: 'INT32', converted_type: null, repetition_type: 'REQUIRED' },
    ])
    const { types, rows } = await readWithDuckDB(file)
    expect(types).toEqual({ itemId: 'VARCHAR', goodsId: 'VARCHAR', count: 'INTEGER' })
    expect(rows).toEqual(records)
    expect(await readWithHyparquet(file)).toEqual(records)
  })

  /**
   * Purpose: reflection writes a null field only if the class allows it; the Parquet format refuses a
   * record with a null where the reflected schema has none, naming the field.
   * Pass: a ParquetRecordError for field 'goodsId' with value null.
   */
  it('refuses an OrderItem with a null field, as reflection would', async () => {
    const format = parquetBulkFormat<OrderItem>({ avroSchema: orderItemSchema })
    const bulkWriter = await format.createWriter(path.join(directory, 'order-item-null.parquet'))
    const bad = { itemId: 'x', goodsId: null, count: 1 } as unknown as OrderItem
    await expect(Promise.resolve().then(() => bulkWriter.addElements([bad]))).rejects.toMatchObject({
      field: 'goodsId',
      value: null,
      message: expect.stringContaining("field 'goodsId': required string, got null"),
    })
    await bulkWriter.abort()
  })

  /**
   * Purpose: the join result FactOrderItem carries BigDecimal amounts; reflected as strings they are
   * written exactly (a decimal logical type would be refused at build time — see the mapping tests).
   * Pass: the amounts read back as the exact decimal strings.
   */
  it('writes FactOrderItem with BigDecimal amounts as exact strings', async () => {
    const facts = orderItemSource(50)
      .map((item) => {
        const good = goods.find((g) => g.goodsId === item.goodsId)
        if (!good) return undefined
        const total = (BigInt(good.goodsPrice) * BigInt(item.count)).toString()
        return { goodsId: good.goodsId, goodsName: good.goodsName, count: String(item.count), totalMoney: `${total}.00` }
      })
      .filter((fact) => fact !== undefined)
    const format = parquetBulkFormat({ avroSchema: factOrderItemSchema })
    const file = path.join(directory, 'fact-order-item.parquet')
    const bulkWriter = await format.createWriter(file)
    await bulkWriter.addElements(facts)
    await bulkWriter.finish()
    const { types, rows } = await readWithDuckDB(file)
    expect(types).toEqual({ goodsId: 'VARCHAR', goodsName: 'VARCHAR', count: 'VARCHAR', totalMoney: 'VARCHAR' })
    expect(rows).toEqual(facts)
    expect(facts).toHaveLength(50)
  })
})
