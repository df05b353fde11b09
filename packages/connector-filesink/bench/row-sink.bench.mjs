// File sink benchmark (issue 4): the row-format FileSink in a job with checkpoints every second, against
// writing the same lines with a raw `fs` write stream in the same process. Prints one JSON line per
// figure: {"bench","metric","value","unit","baseline","ratio"}. Run with `pnpm bench` in this package
// after `pnpm build` (the script imports the built package).
//
// Both sides generate the same lines with the same function, in batches of 1024 (the runtime's batch
// size), and end with the data fsynced: the raw side fsyncs once at the end, the sink at every
// checkpoint and when it publishes. The sink side is a whole Sluice job: datagen source → sink, one
// subtask, checkpoints every 1 s, DefaultRollingPolicy (128 MiB parts), one bucket.
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { mkdtemp, open, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { BasePathBucketAssigner, FileSink } from '@sluice/connector-filesink'
import { StreamExecutionEnvironment } from '@sluice/core'

/** 5 M lines of ~60 bytes: about 3 s per side, so the sink goes through several checkpoints. */
const LINES = Number(process.env.SLUICE_BENCH_LINES ?? 5_000_000)
/** Each side runs this many times, interleaved; the median is reported. */
const REPETITIONS = Number(process.env.SLUICE_BENCH_REPETITIONS ?? 3)
const BATCH = 1024
const PAYLOAD = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'
/** 48 to 70 bytes per line (with the line break). */
const lineOf = (seq) => `${seq},${PAYLOAD.slice(0, 40 + (seq % 23))}`

function print(bench, metric, value, unit, baseline, ratio) {
  console.log(JSON.stringify({ bench, metric, value: round(value), unit, baseline: round(baseline), ratio: round(ratio, 3) }))
}
const round = (n, digits = 1) => (n === null || n === undefined ? n : Number(n.toFixed(digits)))
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

async function sizeOf(directory) {
  let bytes = 0
  for (const name of await readdir(directory, { recursive: true })) {
    const s = await stat(path.join(directory, name))
    if (s.isFile()) bytes += s.size
  }
  return bytes
}

/** Raw fs: a write stream, one write per batch of 1024 lines (joined), backpressure respected, fsync at the end. */
async function raw(directory) {
  const file = path.join(directory, 'raw.txt')
  const start = performance.now()
  const stream = createWriteStream(file)
  for (let seq = 0; seq < LINES; ) {
    const end = Math.min(LINES, seq + BATCH)
    // An array joined once per batch: measured here faster than `+=` per line (no rope to flatten).
    const lines = []
    for (; seq < end; seq++) lines.push(lineOf(seq))
    if (!stream.write(`${lines.join('\n')}\n`)) await once(stream, 'drain')
  }
  stream.end()
  await once(stream, 'finish')
  const handle = await open(file, 'r+')
  await handle.sync()
  await handle.close()
  const seconds = (performance.now() - start) / 1000
  return { seconds, bytes: (await stat(file)).size }
}

/** The sink in a job: datagen → FileSink row format, checkpoints every second. */
async function sink(directory) {
  const output = path.join(directory, 'out')
  const env = StreamExecutionEnvironment.create({
    parallelism: 1,
    checkpointing: { interval: 1000, directory: path.join(directory, 'checkpoints') },
  })
  env
    .datagen({ generator: lineOf, count: LINES, batchSize: BATCH })
    .sinkTo(FileSink.forRowFormat(output).withBucketAssigner(new BasePathBucketAssigner()).withWarnWithoutCheckpointing(false).build())
  const start = performance.now()
  const result = await env.execute('filesink-bench').result
  const seconds = (performance.now() - start) / 1000
  return { seconds, bytes: await sizeOf(output), checkpoints: result.metrics.checkpointsCompleted }
}

const rawRuns = []
const sinkRuns = []
for (let run = 0; run < REPETITIONS; run++) {
  for (const [side, runs] of [
    [raw, rawRuns],
    [sink, sinkRuns],
  ]) {
    const directory = await mkdtemp(path.join(tmpdir(), 'sluice-filesink-bench-'))
    try {
      runs.push(await side(directory))
    } finally {
      await rm(directory, { recursive: true, force: true })
    }
  }
}
const rawSeconds = median(rawRuns.map((r) => r.seconds))
const sinkSeconds = median(sinkRuns.map((r) => r.seconds))
const bytes = rawRuns[0].bytes
if (sinkRuns.some((r) => r.bytes !== bytes)) throw new Error(`the sink wrote ${sinkRuns.map((r) => r.bytes)} bytes, raw fs ${bytes}: not the same output`)
const mb = bytes / 1e6
print('filesink-row', 'throughput', mb / sinkSeconds, 'MB/s', mb / rawSeconds, rawSeconds / sinkSeconds)
print('filesink-row', 'rows', LINES / sinkSeconds, 'rows/s', LINES / rawSeconds, rawSeconds / sinkSeconds)
print('filesink-row', 'checkpoints-completed', median(sinkRuns.map((r) => r.checkpoints)), 'count', null, null)
