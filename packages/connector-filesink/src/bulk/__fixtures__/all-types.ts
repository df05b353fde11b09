/**
 * A record type using every Avro type the Parquet bulk format maps, rows with edge values, and the
 * values an independent reader must return for them — derived from the input, never from a file.
 */

export const allTypesAvroSchema = {
  type: 'record',
  name: 'AllTypes',
  namespace: 'sluice.test',
  fields: [
    { name: 'id', type: 'int' },
    { name: 'flag', type: 'boolean' },
    { name: 'small', type: 'int' },
    { name: 'big', type: 'long' },
    { name: 'ratio', type: 'float' },
    { name: 'amount', type: 'double' },
    { name: 'label', type: 'string' },
    { name: 'payload', type: 'bytes' },
    { name: 'hash', type: { type: 'fixed', name: 'Hash4', size: 4 } },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID', 'SHIPPED'] } },
    { name: 'createdAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'updatedAt', type: { type: 'long', logicalType: 'timestamp-micros' } },
    { name: 'day', type: { type: 'int', logicalType: 'date' } },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'score', type: ['double', 'null'] },
    {
      name: 'address',
      type: {
        type: 'record',
        name: 'Address',
        fields: [
          { name: 'city', type: 'string' },
          { name: 'zip', type: ['null', 'int'] },
        ],
      },
    },
    { name: 'billing', type: ['null', 'Address'] },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    {
      name: 'lines',
      type: [
        'null',
        {
          type: 'array',
          items: {
            type: 'record',
            name: 'Line',
            fields: [
              { name: 'sku', type: 'string' },
              { name: 'qty', type: 'int' },
              { name: 'discount', type: ['null', 'double'] },
            ],
          },
        },
      ],
    },
    { name: 'maybeNumbers', type: { type: 'array', items: ['null', 'long'] } },
    { name: 'attributes', type: { type: 'map', values: 'string' } },
    { name: 'matrix', type: { type: 'array', items: { type: 'array', items: 'int' } } },
  ],
} as const

export interface AllTypes {
  id: number
  flag: boolean
  small: number
  big: number | bigint
  ratio: number
  amount: number
  label: string
  payload: Uint8Array
  hash: Uint8Array
  status: 'NEW' | 'PAID' | 'SHIPPED'
  createdAt: number | bigint | Date
  updatedAt: number | bigint | Date
  day: number | Date
  note?: string | null
  score: number | null
  address: { city: string; zip: number | null }
  billing: { city: string; zip: number | null } | null
  tags: string[]
  lines: { sku: string; qty: number; discount: number | null }[] | null
  maybeNumbers: (number | bigint | null)[]
  attributes: Record<string, string> | Map<string, string>
  matrix: number[][]
}

const pick = <V>(values: readonly V[], i: number): V => values[i % values.length] as V
const dayMillis = 86_400_000

const smalls = [0, 1, -1, 2_147_483_647, -2_147_483_648]
const bigs: (number | bigint)[] = [0, -1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1_700_000_000_123n, -(2n ** 40n)]
const ratios = [1.5, -0.25, 0.1, 3.4e38, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-40]
const amounts = [0.1, -1e-300, Number.MAX_VALUE, Number.NEGATIVE_INFINITY, 12_345.678, 5e-324]
const labels = ['', 'plain', '订单明细', 'emoji 😀 and 𝄞', 'quote "\' \\ newline\n', 'U+FFFF \uffff end']
const payloads = [new Uint8Array(0), Uint8Array.of(0, 255, 1), new TextEncoder().encode('abc')]
const statuses = ['NEW', 'PAID', 'SHIPPED'] as const
const createdAts: (number | bigint | Date)[] = [0, -1, 1_700_000_000_123, new Date(-1_000_000_000_999), 1_600_000_000_000n, -62_135_596_800_000]
const updatedAts: (number | bigint | Date)[] = [0, 1_700_000_000_123_456, -1_000_000, 1_700_000_000_123_457n, new Date(1234), 9_007_199_254_740_991]
const days: (number | Date)[] = [0, -1, 19_000, new Date(Date.UTC(2024, 1, 29)), -719_162, 2_932_896]

/** Row `i`; every value is one both writers write faithfully. */
export function allTypesRow(i: number): AllTypes {
  const row: AllTypes = {
    id: i,
    flag: i % 3 === 0,
    small: i < smalls.length ? pick(smalls, i) : i * 7919 - 1_000_000,
    big: pick(bigs, i),
    ratio: pick(ratios, i),
    amount: i < amounts.length ? pick(amounts, i) : i / 7,
    label: i < labels.length ? pick(labels, i) : `row-${i}`,
    payload: pick(payloads, i),
    hash: Uint8Array.of(i & 255, 1, 2, 3),
    status: pick(statuses, i),
    createdAt: pick(createdAts, i),
    updatedAt: pick(updatedAts, i),
    day: pick(days, i),
    score: i % 3 === 1 ? null : i * 0.5,
    address: { city: i % 2 === 0 ? 'Berlin' : '北京', zip: i % 2 === 0 ? 10_115 : null },
    billing: i % 2 === 1 ? null : { city: 'Paris', zip: i },
    tags: pick([[], ['a'], ['a', 'b', `t${i}`]], i),
    lines:
      i % 4 === 0
        ? null
        : Array.from({ length: (i % 4) - 1 }, (_, k) => ({ sku: `sku-${k}`, qty: k + 1, discount: k % 2 === 0 ? null : 0.5 })),
    maybeNumbers: pick<(number | bigint | null)[]>([[null, 1, null], [], [5n, -7]], i),
    attributes: pick<Record<string, string> | Map<string, string>>([{ color: 'red', size: 'L' }, new Map([['k', 'v']]), {}], i),
    matrix: pick([[[1, 2], [], [3]], [], [[-4]]], i),
  }
  // Optional fields may be null or left out.
  if (i % 4 !== 3) row.note = i % 2 === 0 ? `note ${i}` : null
  return row
}

const millisOf = (value: number | bigint | Date): bigint =>
  value instanceof Date ? BigInt(value.getTime()) : BigInt(value)
const microsOf = (value: number | bigint | Date): bigint =>
  value instanceof Date ? BigInt(value.getTime()) * 1000n : BigInt(value)
const dateOf = (value: number | Date): Date => (value instanceof Date ? value : new Date(value * dayMillis))
const bytes = (value: Uint8Array): string => `bytes:${Buffer.from(value).toString('hex')}`
const entriesOf = (value: Record<string, string> | Map<string, string>): [string, string][] =>
  value instanceof Map ? [...value.entries()] : Object.entries(value)

/**
 * What DuckDB returns for `select * exclude (createdAt, updatedAt), epoch_ms(createdAt) as createdAtMillis,
 * epoch_us(updatedAt) as updatedAtMicros` (timestamps as exact integers), after {@link canonical}.
 */
export function expectedDuckDBRow(row: AllTypes): Record<string, unknown> {
  return canonical({
    id: row.id,
    flag: row.flag,
    small: row.small,
    big: BigInt(row.big),
    ratio: Math.fround(row.ratio),
    amount: row.amount,
    label: row.label,
    payload: row.payload,
    hash: row.hash,
    status: row.status,
    day: dateOf(row.day),
    note: row.note ?? null,
    score: row.score,
    address: row.address,
    billing: row.billing,
    tags: row.tags,
    lines: row.lines,
    maybeNumbers: row.maybeNumbers.map((n) => (n === null ? null : BigInt(n))),
    attributes: entriesOf(row.attributes).map(([key, value]) => ({ key, value })),
    matrix: row.matrix,
    createdAtMillis: millisOf(row.createdAt),
    updatedAtMicros: microsOf(row.updatedAt),
  }) as Record<string, unknown>
}

/** The DuckDB select list matching {@link expectedDuckDBRow}. */
export const duckdbAllTypesColumns =
  '* exclude (createdAt, updatedAt), epoch_ms(createdAt) as createdAtMillis, epoch_us(updatedAt) as updatedAtMicros'

/** The column types DuckDB must infer from the file's schema. */
export const expectedDuckDBTypes: Record<string, string> = {
  id: 'INTEGER',
  flag: 'BOOLEAN',
  small: 'INTEGER',
  big: 'BIGINT',
  ratio: 'FLOAT',
  amount: 'DOUBLE',
  label: 'VARCHAR',
  payload: 'BLOB',
  hash: 'BLOB',
  status: 'VARCHAR',
  createdAt: 'TIMESTAMP',
  updatedAt: 'TIMESTAMP',
  day: 'DATE',
  note: 'VARCHAR',
  score: 'DOUBLE',
  address: 'STRUCT("city" VARCHAR, "zip" INTEGER)',
  billing: 'STRUCT("city" VARCHAR, "zip" INTEGER)',
  tags: 'VARCHAR[]',
  lines: 'STRUCT("sku" VARCHAR, "qty" INTEGER, "discount" DOUBLE)[]',
  maybeNumbers: 'BIGINT[]',
  attributes: 'MAP(VARCHAR, VARCHAR)',
  matrix: 'INTEGER[][]',
}

/**
 * What hyparquet returns for `parquetReadObjects`, after {@link canonical}: timestamps as Dates in
 * milliseconds (it truncates microseconds toward zero), maps as objects.
 */
export function expectedHyparquetRow(row: AllTypes): Record<string, unknown> {
  const { createdAtMillis, updatedAtMicros, attributes, ...rest } = expectedDuckDBRow(row)
  return {
    ...rest,
    createdAt: canonical(new Date(Number(createdAtMillis as bigint))),
    updatedAt: canonical(new Date(Number((updatedAtMicros as bigint) / 1000n))),
    attributes: Object.fromEntries(entriesOf(row.attributes)),
  }
}

/** Makes reader output and expectations comparable with `toEqual`: Dates → `date:<ms>`, bytes → `bytes:<hex>`. */
export function canonical(value: unknown): unknown {
  if (value instanceof Date) return `date:${value.getTime()}`
  if (value instanceof Uint8Array) return bytes(value)
  if (Array.isArray(value)) return value.map(canonical)
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, canonical(inner)]))
  }
  return value
}
