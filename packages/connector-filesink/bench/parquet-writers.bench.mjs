// Parquet writer benchmark (issue 4, "Benchmark"). Prints one JSON line per figure:
// {"bench","metric","value","unit","baseline","ratio"}. Run after `pnpm build`:
//   node packages/connector-filesink/bench/parquet-writers.bench.mjs
//
// The same rows — the seed's order record (OrderItem joined with its Goods, as FactOrderItem) plus an
// event time, 7 columns — are written to one Parquet file by:
//   raw_parquetjs   parquetjs-lite used directly, no Sluice code (the baseline): appendRow per row, data
//                   page V1, the same codec and row group size
//   bulk_parquetjs  the Sluice BulkWriter with writer 'parquetjs' (goal ≥ 0.9× the baseline)
//   bulk_columnar   the Sluice BulkWriter with writer 'columnar', hyparquet-writer (goal ≥ 2× the baseline)
// BulkWriters receive batches of 1000 records, as the file sink hands them over; their finish() fsyncs,
// the raw writer's close() does not. Each variant runs SLUICE_BENCH_REPETITIONS times, interleaved; the
// median run is reported. mb_per_s is the rows' size as JSON lines divided by the time, the same
// numerator for every variant. rows_per_s is wall-clock; rows_per_cpu_s divides by the process's CPU
// time (user + system, all threads), which a loaded machine disturbs less.
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import parquet from 'parquetjs-lite'
import { parquetBulkFormat } from '../dist/index.js'

const ROWS = Number(process.env.SLUICE_BENCH_ROWS ?? 500_000)
const REPETITIONS = Number(process.env.SLUICE_BENCH_REPETITIONS ?? 3)
const COMPRESSION = process.env.SLUICE_BENCH_COMPRESSION ?? 'SNAPPY'
const ROW_GROUP_SIZE = Number(process.env.SLUICE_BENCH_ROW_GROUP_SIZE ?? 65_536)
const BATCH = 1000
const BENCH = 'parquet-writers'

// The seed's GOODS_LIST (goodsId, goodsName, goodsPrice).
const goods = [
  ['1', '小米12', 4890],
  ['2', 'iphone12', 12000],
  ['3', 'MacBookPro', 15000],
  ['4', 'Thinkpad X1', 9800],
  ['5', 'MeiZu One', 3200],
  ['6', 'Mate 40', 6500],
]

const avroSchema = {
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

const rawSchemaDefinition = () => ({
  itemId: { type: 'UTF8', compression: COMPRESSION },
  goodsId: { type: 'UTF8', compression: COMPRESSION },
  goodsName: { type: 'UTF8', compression: COMPRESSION },
  count: { type: 'INT32', compression: COMPRESSION },
  goodsPrice: { type: 'DOUBLE', compression: COMPRESSION },
  totalMoney: { type: 'DOUBLE', compression: COMPRESSION },
  eventTime: { type: 'TIMESTAMP_MILLIS', compression: COMPRESSION },
})

function generate(count) {
  const rows = new Array(count)
  let seed = 42
  const next = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
    return seed
  }
  const start = 1_700_000_000_000
  for (let i = 0; i < count; i++) {
    const [goodsId, goodsName, goodsPrice] = goods[next() % goods.length]
    const itemCount = (next() % 10) + 1
    rows[i] = {
      itemId: randomUUID(),
      goodsId,
      goodsName,
      count: itemCount,
      goodsPrice,
      totalMoney: goodsPrice * itemCount,
      eventTime: start + i * 7 + (next() % 5),
    }
  }
  return rows
}

/** Runs `work` and returns its wall-clock and CPU milliseconds. */
async function measure(work) {
  const cpu = process.cpuUsage()
  const started = performance.now()
  await work()
  const used = process.cpuUsage(cpu)
  return { wall: performance.now() - started, cpu: (used.user + used.system) / 1000 }
}

async function rawParquetjs(rows, file) {
  return measure(async () => {
    const schema = new parquet.ParquetSchema(rawSchemaDefinition())
    const writer = await parquet.ParquetWriter.openFile(schema, file, { useDataPageV2: false, rowGroupSize: ROW_GROUP_SIZE })
    for (const row of rows) await writer.appendRow(row)
    await writer.close()
  })
}

function bulk(writerKind) {
  const format = parquetBulkFormat({ avroSchema, compression: COMPRESSION, writer: writerKind, rowGroupSize: ROW_GROUP_SIZE })
  format.validate()
  return (rows, file) =>
    measure(async () => {
      const writer = await format.createWriter(file)
      for (let start = 0; start < rows.length; start += BATCH) {
        await writer.addElements(rows.slice(start, start + BATCH))
      }
      await writer.finish()
    })
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const round = (n, digits = 1) => (n === null || n === undefined ? n : Number(n.toFixed(digits)))
function print(metric, value, unit, baseline = null) {
  const ratio = baseline === null ? null : value / baseline
  console.log(JSON.stringify({ bench: BENCH, metric, value: round(value), unit, baseline: round(baseline), ratio: round(ratio, 3) }))
}

const directory = await mkdtemp(path.join(tmpdir(), 'sluice-parquet-bench-'))
try {
  const rows = generate(ROWS)
  const inputBytes = rows.reduce((sum, row) => sum + Buffer.byteLength(JSON.stringify(row)) + 1, 0)
  const variants = { raw_parquetjs: rawParquetjs, bulk_parquetjs: bulk('parquetjs'), bulk_columnar: bulk('columnar') }
  const times = Object.fromEntries(Object.keys(variants).map((name) => [name, []]))
  const sizes = {}
  // One warm-up round on a slice, then interleaved measured rounds.
  for (const [name, run] of Object.entries(variants)) await run(rows.slice(0, 20_000), path.join(directory, `warmup-${name}.parquet`))
  for (let repetition = 0; repetition < REPETITIONS; repetition++) {
    for (const [name, run] of Object.entries(variants)) {
      const file = path.join(directory, `${name}-${repetition}.parquet`)
      globalThis.gc?.()
      times[name].push(await run(rows, file))
      sizes[name] = (await stat(file)).size
      await rm(file)
    }
  }
  const wall = (name) => median(times[name].map((time) => time.wall)) / 1000
  const cpu = (name) => median(times[name].map((time) => time.cpu)) / 1000
  const rowsPerSecond = (name) => ROWS / wall(name)
  const rowsPerCpuSecond = (name) => ROWS / cpu(name)
  const megabytesPerSecond = (name) => inputBytes / 1e6 / wall(name)
  print('rows', ROWS, 'rows')
  print('input_json_size', inputBytes / 1e6, 'MB')
  print('config', null, `compression=${COMPRESSION} rowGroupSize=${ROW_GROUP_SIZE} batch=${BATCH} repetitions=${REPETITIONS}`)
  for (const name of Object.keys(variants)) {
    const baseline = name === 'raw_parquetjs' ? null : 'raw_parquetjs'
    print(`${name}.rows_per_s`, rowsPerSecond(name), 'rows/s', baseline && rowsPerSecond(baseline))
    print(`${name}.rows_per_cpu_s`, rowsPerCpuSecond(name), 'rows/cpu-s', baseline && rowsPerCpuSecond(baseline))
    print(`${name}.mb_per_s`, megabytesPerSecond(name), 'MB/s', baseline && megabytesPerSecond(baseline))
    print(`${name}.file_size`, sizes[name] / 1e6, 'MB', baseline && sizes[baseline] / 1e6)
  }
} finally {
  await rm(directory, { recursive: true, force: true })
}
