// Parquet file sink benchmark, end to end (issue 4, "Benchmark"). Prints one JSON line per figure:
// {"bench","metric","value","unit","baseline","ratio"}. Run with `pnpm bench` in this package after
// `pnpm build` (the script imports the built package).
//
// The same rows (bench/order-rows.mjs: the seed's order record joined with its goods, plus an event time,
// 7 columns) are written by:
//   raw_parquetjs   parquetjs-lite used directly, no Sluice code (the baseline): one file, appendRow per
//                   row, data page V1, the same codec and row group size, fsync at the end
//   sink_parquetjs  a Sluice job: datagen → FileSink.forBulkFormat(parquetBulkFormat({ writer: 'parquetjs' })),
//                   one subtask, one bucket, checkpoints every 1 s, part files rolling at each checkpoint
//                   (goal ≥ 0.9× the baseline)
//   sink_columnar   the same job with the default writer, 'columnar' (goal ≥ 2× the baseline)
// The rows are generated once, before any measurement; the job's datagen hands out row i of that array,
// so no side pays for generating them. Each side runs SLUICE_BENCH_REPETITIONS times, interleaved, after
// one warm-up run of each on 20 000 rows; the median run is reported. mb_per_s is the rows' size as JSON
// lines divided by the time (the same numerator for every side); rows_per_s is wall-clock; rows_per_cpu_s
// divides by the process's CPU time (user + system), which a loaded machine disturbs less. Every side's
// output is counted back (Parquet footers, read with hyparquet) before its figures are printed.
import { open, mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { StreamExecutionEnvironment } from '@sluice/core'
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet'
import parquet from 'parquetjs-lite'
import { BasePathBucketAssigner, FileSink, parquetBulkFormat, parquetBulkFormatDefaults } from '../dist/index.js'
import { generateOrderRows, jsonLinesBytes, measure, median, orderRowAvroSchema, orderRowParquetjsSchema, printFigure } from './order-rows.mjs'

/**
 * 250 000 rows: the columnar job runs 1.5–2 s, so it goes through a checkpoint before its final one;
 * the parquetjs sides run about 10 s each. The package bench (all three files) stays under 3 minutes.
 */
const ROWS = Number(process.env.SLUICE_BENCH_ROWS ?? 250_000)
const REPETITIONS = Number(process.env.SLUICE_BENCH_REPETITIONS ?? 3)
const COMPRESSION = process.env.SLUICE_BENCH_COMPRESSION ?? parquetBulkFormatDefaults.compression
const ROW_GROUP_SIZE = parquetBulkFormatDefaults.rowGroupSize
const CHECKPOINT_INTERVAL = 1000
const BENCH = 'filesink-parquet'

/** Raw parquetjs-lite: the rows into one file, then fsync (the sink fsyncs every part file). */
function rawParquetjs(rows, directory) {
  const file = path.join(directory, 'raw.parquet')
  return measure(async () => {
    const schema = new parquet.ParquetSchema(orderRowParquetjsSchema(COMPRESSION))
    const writer = await parquet.ParquetWriter.openFile(schema, file, { useDataPageV2: false, rowGroupSize: ROW_GROUP_SIZE })
    for (const row of rows) await writer.appendRow(row)
    await writer.close()
    const handle = await open(file, 'r+')
    await handle.sync()
    await handle.close()
    return { checkpoints: null }
  })
}

/** The sink in a job: datagen (row i of `rows`) → Parquet FileSink, checkpoints every second. */
function sink(writer) {
  return (rows, directory) => {
    const env = StreamExecutionEnvironment.create({
      parallelism: 1,
      checkpointing: { interval: CHECKPOINT_INTERVAL, directory: path.join(directory, 'checkpoints') },
    })
    const format = parquetBulkFormat({ avroSchema: orderRowAvroSchema, writer, compression: COMPRESSION, rowGroupSize: ROW_GROUP_SIZE })
    env
      .datagen({ generator: (i) => rows[i], count: rows.length })
      .sinkTo(FileSink.forBulkFormat(path.join(directory, 'out'), format).withBucketAssigner(new BasePathBucketAssigner()).withWarnWithoutCheckpointing(false).build())
    return measure(async () => {
      const result = await env.execute('parquet-sink-bench').result
      return { checkpoints: result.metrics.checkpointsCompleted }
    })
  }
}

/** The Parquet files under `directory` (hidden ones and checkpoints excluded): count, bytes, rows. */
async function output(directory) {
  let files = 0
  let bytes = 0
  let rows = 0
  for (const name of await readdir(directory, { recursive: true })) {
    if (!name.endsWith('.parquet') || path.basename(name).startsWith('.')) continue
    const file = path.join(directory, name)
    files++
    bytes += (await stat(file)).size
    rows += Number((await parquetMetadataAsync(await asyncBufferFromFile(file))).num_rows)
  }
  return { files, bytes, rows }
}

const sides = { raw_parquetjs: rawParquetjs, sink_parquetjs: sink('parquetjs'), sink_columnar: sink('columnar') }
const runs = Object.fromEntries(Object.keys(sides).map((name) => [name, []]))
const rows = generateOrderRows(ROWS)
const inputBytes = jsonLinesBytes(rows)

async function run(name, someRows) {
  const directory = await mkdtemp(path.join(tmpdir(), 'sluice-parquet-sink-bench-'))
  try {
    globalThis.gc?.()
    const measured = await sides[name](someRows, directory)
    const written = await output(directory)
    if (written.rows !== someRows.length) throw new Error(`${name} wrote ${written.rows} rows in ${written.files} files, expected ${someRows.length}`)
    return { wall: measured.wall, cpu: measured.cpu, checkpoints: measured.result.checkpoints, ...written }
  } finally {
    await rm(directory, { recursive: true, force: true })
  }
}

for (const name of Object.keys(sides)) await run(name, rows.slice(0, 20_000))
for (let repetition = 0; repetition < REPETITIONS; repetition++) {
  for (const name of Object.keys(sides)) runs[name].push(await run(name, rows))
}

const wall = (name) => median(runs[name].map((r) => r.wall)) / 1000
const cpu = (name) => median(runs[name].map((r) => r.cpu)) / 1000
const print = (metric, value, unit, baseline = null) => printFigure(BENCH, metric, value, unit, baseline)
print('rows', ROWS, 'rows')
print('input_json_size', inputBytes / 1e6, 'MB')
print('config', null, `compression=${COMPRESSION} rowGroupSize=${ROW_GROUP_SIZE} checkpointInterval=${CHECKPOINT_INTERVAL}ms repetitions=${REPETITIONS}`)
for (const name of Object.keys(sides)) {
  const baseline = name === 'raw_parquetjs' ? null : 'raw_parquetjs'
  print(`${name}.rows_per_s`, ROWS / wall(name), 'rows/s', baseline && ROWS / wall(baseline))
  print(`${name}.mb_per_s`, inputBytes / 1e6 / wall(name), 'MB/s', baseline && inputBytes / 1e6 / wall(baseline))
  print(`${name}.rows_per_cpu_s`, ROWS / cpu(name), 'rows/cpu-s', baseline && ROWS / cpu(baseline))
  print(`${name}.output_size`, median(runs[name].map((r) => r.bytes)) / 1e6, 'MB', baseline && median(runs[baseline].map((r) => r.bytes)) / 1e6)
  print(`${name}.files`, median(runs[name].map((r) => r.files)), 'count')
  if (name !== 'raw_parquetjs') print(`${name}.checkpoints_completed`, median(runs[name].map((r) => r.checkpoints)), 'count')
}
