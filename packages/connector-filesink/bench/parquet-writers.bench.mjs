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
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import parquet from 'parquetjs-lite'
import { parquetBulkFormat, parquetBulkFormatDefaults } from '../dist/index.js'
import { generateOrderRows, jsonLinesBytes, measure, median, orderRowAvroSchema, orderRowParquetjsSchema, printFigure } from './order-rows.mjs'

/** 100 000 rows (500 000 before; fewer so that the package bench, all three files, fits in about 3 minutes). */
const ROWS = Number(process.env.SLUICE_BENCH_ROWS ?? 100_000)
const REPETITIONS = Number(process.env.SLUICE_BENCH_REPETITIONS ?? 3)
const COMPRESSION = process.env.SLUICE_BENCH_COMPRESSION ?? parquetBulkFormatDefaults.compression
const ROW_GROUP_SIZE = Number(process.env.SLUICE_BENCH_ROW_GROUP_SIZE ?? 65_536)
const BATCH = 1000
const BENCH = 'parquet-writers'

async function rawParquetjs(rows, file) {
  return measure(async () => {
    const schema = new parquet.ParquetSchema(orderRowParquetjsSchema(COMPRESSION))
    const writer = await parquet.ParquetWriter.openFile(schema, file, { useDataPageV2: false, rowGroupSize: ROW_GROUP_SIZE })
    for (const row of rows) await writer.appendRow(row)
    await writer.close()
  })
}

function bulk(writerKind) {
  const format = parquetBulkFormat({ avroSchema: orderRowAvroSchema, compression: COMPRESSION, writer: writerKind, rowGroupSize: ROW_GROUP_SIZE })
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

function print(metric, value, unit, baseline = null) {
  printFigure(BENCH, metric, value, unit, baseline)
}

const directory = await mkdtemp(path.join(tmpdir(), 'sluice-parquet-bench-'))
try {
  const rows = generateOrderRows(ROWS)
  const inputBytes = jsonLinesBytes(rows)
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
