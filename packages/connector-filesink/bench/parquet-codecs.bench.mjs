// The measurement behind parquetBulkFormat's default compression. Not part of `pnpm bench` (run it when
// a writer or codec changes): node bench/parquet-codecs.bench.mjs, after `pnpm build`.
//
// For each codec (UNCOMPRESSED, SNAPPY, GZIP) and each writer, the same rows as the other Parquet
// benchmarks (bench/order-rows.mjs) are written to one file by the BulkWriter (batches of 1000), then
// read back completely (every column, every row) by DuckDB and by hyparquet. Prints JSON lines
// {"bench","metric","value","unit","baseline","ratio"}; the baseline of every figure is the same writer
// with SNAPPY (the previous default). Median of SLUICE_BENCH_REPETITIONS interleaved runs.
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { gunzipSync } from 'node:zlib'
import { DuckDBInstance } from '@duckdb/node-api'
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet'
import { parquetBulkFormat } from '../dist/index.js'
import { generateOrderRows, measure, median, orderRowAvroSchema, printFigure } from './order-rows.mjs'

const ROWS = Number(process.env.SLUICE_BENCH_ROWS ?? 150_000)
const REPETITIONS = Number(process.env.SLUICE_BENCH_REPETITIONS ?? 3)
const WRITERS = (process.env.SLUICE_BENCH_WRITERS ?? 'columnar,parquetjs').split(',')
const CODECS = ['UNCOMPRESSED', 'SNAPPY', 'GZIP']
const BATCH = 1000
const BENCH = 'parquet-codecs'

const connection = await (await DuckDBInstance.create()).connect()

async function write(writer, compression, rows, file) {
  const format = parquetBulkFormat({ avroSchema: orderRowAvroSchema, compression, writer })
  format.validate()
  return measure(async () => {
    const bulkWriter = await format.createWriter(file)
    for (let start = 0; start < rows.length; start += BATCH) await bulkWriter.addElements(rows.slice(start, start + BATCH))
    await bulkWriter.finish()
  })
}

/** Reads take tens of milliseconds: each read measurement is the median of this many reads. */
const READS = 5

async function repeated(read) {
  const runs = []
  for (let i = 0; i < READS; i++) runs.push(await measure(read))
  return { wall: median(runs.map((run) => run.wall)), result: runs[0].result }
}

/** DuckDB reads every value (an aggregate over every column, so no column is skipped). */
function readDuckDB(file) {
  return repeated(async () => {
    const result = await connection.runAndReadAll(
      `select count(*), sum(length(itemId)), sum(length(goodsId)), sum(length(goodsName)), sum(count), sum(goodsPrice), sum(totalMoney), max(eventTime) from read_parquet('${file}')`,
    )
    return Number(result.getRowsJS()[0][0])
  })
}

function readHyparquet(file) {
  return repeated(async () => {
    const rows = await parquetReadObjects({
      file: await asyncBufferFromFile(file),
      compressors: { GZIP: (input) => new Uint8Array(gunzipSync(input)) },
    })
    return rows.length
  })
}

const directory = await mkdtemp(path.join(tmpdir(), 'sluice-parquet-codecs-'))
try {
  const rows = generateOrderRows(ROWS)
  const figures = {}
  const record = (key, value) => {
    figures[key] ??= []
    figures[key].push(value)
  }
  for (let repetition = 0; repetition < REPETITIONS; repetition++) {
    for (const writer of WRITERS) {
      for (const codec of CODECS) {
        const file = path.join(directory, `${writer}-${codec}.parquet`)
        globalThis.gc?.()
        const written = await write(writer, codec, rows, file)
        const duck = await readDuckDB(file)
        const hyp = await readHyparquet(file)
        if (duck.result !== ROWS || hyp.result !== ROWS) throw new Error(`${file}: read ${duck.result} / ${hyp.result} rows, wrote ${ROWS}`)
        record(`${writer}.${codec}.write_cpu`, written.cpu)
        record(`${writer}.${codec}.write_wall`, written.wall)
        record(`${writer}.${codec}.size`, (await stat(file)).size)
        record(`${writer}.${codec}.duckdb_read`, duck.wall)
        record(`${writer}.${codec}.hyparquet_read`, hyp.wall)
        await rm(file)
      }
    }
  }
  const m = (key) => median(figures[key])
  printFigure(BENCH, 'rows', ROWS, 'rows')
  for (const writer of WRITERS) {
    for (const codec of CODECS) {
      const base = (what) => m(`${writer}.SNAPPY.${what}`)
      const key = (what) => `${writer}.${codec}.${what}`
      // Ratios are "how many times better than SNAPPY": higher is better for every line.
      printFigure(BENCH, `${key('write_rows_per_cpu_s')}`, ROWS / (m(key('write_cpu')) / 1000), 'rows/cpu-s', ROWS / (base('write_cpu') / 1000))
      printFigure(BENCH, `${key('write_rows_per_s')}`, ROWS / (m(key('write_wall')) / 1000), 'rows/s', ROWS / (base('write_wall') / 1000))
      printFigure(BENCH, `${key('file_size')}`, m(key('size')) / 1e6, 'MB', base('size') / 1e6, base('size') / m(key('size')))
      printFigure(BENCH, `${key('duckdb_read_rows_per_s')}`, ROWS / (m(key('duckdb_read')) / 1000), 'rows/s', ROWS / (base('duckdb_read') / 1000))
      printFigure(BENCH, `${key('hyparquet_read_rows_per_s')}`, ROWS / (m(key('hyparquet_read')) / 1000), 'rows/s', ROWS / (base('hyparquet_read') / 1000))
    }
  }
} finally {
  connection.closeSync?.()
  await rm(directory, { recursive: true, force: true })
}
