// The rows the Parquet benchmarks write: the seed's order record (OrderItem joined with its Goods, as
// FactOrderItem) plus an event time, 7 columns. Shared by parquet-writers, parquet-sink and
// parquet-codecs; not a benchmark itself.

/** The seed's GOODS_LIST (goodsId, goodsName, goodsPrice). */
const goods = [
  ['1', '小米12', 4890],
  ['2', 'iphone12', 12000],
  ['3', 'MacBookPro', 15000],
  ['4', 'Thinkpad X1', 9800],
  ['5', 'MeiZu One', 3200],
  ['6', 'Mate 40', 6500],
]

/** The Avro schema of the rows (what the BulkWriters get). */
export const orderRowAvroSchema = {
  type: 'record',
  name: 'FactOrderItem',
  fields: [
    { name: 'itemId', type: 'string' },
    { name: 'goodsId', type: 'string' },
    { name: 'goodsName', type: 'string' },
    { name: 'count', type: 'int' },
    { name: 'goodsPrice', type: 'double' },
    { name: 'totalMoney', type: 'double' },
    { name: 'eventTime', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
}

/** The same schema in parquetjs-lite's format (what the raw parquetjs-lite baseline gets). */
export function orderRowParquetjsSchema(compression) {
  return {
    itemId: { type: 'UTF8', compression },
    goodsId: { type: 'UTF8', compression },
    goodsName: { type: 'UTF8', compression },
    count: { type: 'INT32', compression },
    goodsPrice: { type: 'DOUBLE', compression },
    totalMoney: { type: 'DOUBLE', compression },
    eventTime: { type: 'TIMESTAMP_MILLIS', compression },
  }
}

/**
 * `count` rows, the same for every call with the same count: itemId is a UUID-shaped string of 32
 * pseudo-random hex digits (as random as the seed's `UUID.randomUUID()`, so it compresses as poorly).
 */
export function generateOrderRows(count) {
  const rows = new Array(count)
  // mulberry32: a seeded generator whose low bits are as random as its high bits (an LCG's are not).
  let state = 7
  const random32 = () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return (t ^ (t >>> 14)) >>> 0
  }
  const hex = (digits) => {
    let text = ''
    while (text.length < digits) text += random32().toString(16).padStart(8, '0')
    return text.slice(0, digits)
  }
  const start = 1_700_000_000_000
  for (let i = 0; i < count; i++) {
    const [goodsId, goodsName, goodsPrice] = goods[random32() % goods.length]
    const itemCount = (random32() % 10) + 1
    rows[i] = {
      itemId: `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`,
      goodsId,
      goodsName,
      count: itemCount,
      goodsPrice,
      totalMoney: goodsPrice * itemCount,
      eventTime: start + i * 7 + (random32() % 5),
    }
  }
  return rows
}

/** Size of the rows as JSON lines: the common numerator of every MB/s figure. */
export function jsonLinesBytes(rows) {
  let bytes = 0
  for (const row of rows) bytes += Buffer.byteLength(JSON.stringify(row)) + 1
  return bytes
}

/** Runs `work` and returns its wall-clock and CPU (user + system, all threads) milliseconds. */
export async function measure(work) {
  const cpu = process.cpuUsage()
  const started = performance.now()
  const result = await work()
  const used = process.cpuUsage(cpu)
  return { wall: performance.now() - started, cpu: (used.user + used.system) / 1000, result }
}

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
export const round = (n, digits = 1) => (n === null || n === undefined ? n : Number(n.toFixed(digits)))

/** Prints one figure as a JSON line: {"bench","metric","value","unit","baseline","ratio"}. */
export function printFigure(bench, metric, value, unit, baseline = null, ratio = baseline === null || value === null ? null : value / baseline) {
  console.log(JSON.stringify({ bench, metric, value: round(value), unit, baseline: round(baseline), ratio: round(ratio, 3) }))
}
