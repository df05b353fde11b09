// Window benchmark (issue 6, "Benchmark"). Prints one JSON line per figure:
// {"bench","metric","value","unit","baseline","ratio"}. Run with `pnpm bench` after `pnpm build`.
//
// Keyed tumbling event-time window count: datagen (timestamps, monotonous watermarks per split) →
// keyBy → window(TumblingEventTimeWindows.of(1 s)).aggregate(count) → discarding sink, with a
// checkpoint every second, against a hand-written loop computing the same counts in the same process
// (a Map of per-(key, window) counts, emitted and dropped when the watermark passes the window end).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { StreamExecutionEnvironment, TumblingEventTimeWindows, WatermarkStrategy, datagenSource } from '@sluice/core'

/**
 * Enough records for Sluice to run over a second, so that checkpoints (every 1 s) are taken while the
 * job runs and the start-up (~15 ms per job) is not part of the figure.
 */
const RECORDS = Number(process.env.SLUICE_BENCH_RECORDS ?? 40_000_000)
/** Each configuration runs this many times, interleaved; the median is reported (JIT noise is large). */
const REPETITIONS = Number(process.env.SLUICE_BENCH_REPETITIONS ?? 3)
const KEYS = 100
const WINDOW_MS = 1000
/** 10 records per ms of event time: 10 000 records per window, 100 per key and window. */
const timestampOf = (seq) => Math.floor(seq / 10)
const generate = (seq) => ({ key: seq % KEYS, seq })

function print(bench, metric, value, unit, baseline, ratio) {
  console.log(JSON.stringify({ bench, metric, value: round(value), unit, baseline: round(baseline), ratio: round(ratio, 3) }))
}
const round = (n, digits = 1) => (n === null || n === undefined ? n : Number(n.toFixed(digits)))

/** What both sides compute over the emitted (key, window start, count) triples. */
function checksumOf(key, start, count) {
  return ((key + 1) * 31 + (start / WINDOW_MS) * 7 + count) % 1_000_003
}

/**
 * The hand-written reference: the same generator and timestamps; counts per (key, window) in a Map,
 * a watermark (max timestamp - 1) every 1024 records as the source emits it, windows emitted and
 * dropped once the watermark reaches their end - 1, the rest at the end of input.
 */
function handWritten() {
  const counts = new Map()
  let emitted = 0
  let checksum = 0
  let maxTimestamp = Number.NEGATIVE_INFINITY
  const fire = (watermark) => {
    for (const [id, count] of counts) {
      const start = Math.floor(id / KEYS) * WINDOW_MS
      if (start + WINDOW_MS - 1 > watermark) continue
      emitted++
      checksum = (checksum + checksumOf(id % KEYS, start, count)) % 1_000_003
      counts.delete(id)
    }
  }
  const begin = performance.now()
  for (let seq = 0; seq < RECORDS; seq++) {
    const event = generate(seq)
    const ts = timestampOf(seq)
    if (ts > maxTimestamp) maxTimestamp = ts
    const id = Math.floor(ts / WINDOW_MS) * KEYS + event.key
    counts.set(id, (counts.get(id) ?? 0) + 1)
    if ((seq & 1023) === 1023) fire(maxTimestamp - 1)
  }
  fire(Number.POSITIVE_INFINITY)
  const seconds = (performance.now() - begin) / 1000
  return { recordsPerSecond: RECORDS / seconds, emitted, checksum }
}

/**
 * The same source (timestamps, watermarks per split) and keyBy into a process function that does
 * nothing: the runtime's own ceiling for this pipeline shape, to see what the window operator adds.
 */
async function keyedNoop(checkpointIntervalMs) {
  const directory = await mkdtemp(path.join(tmpdir(), 'sluice-window-bench-'))
  const env = StreamExecutionEnvironment.create({
    parallelism: 1,
    ...(checkpointIntervalMs ? { checkpointing: { interval: checkpointIntervalMs, directory } } : {}),
  })
  env
    .fromSource(datagenSource({ generator: generate, count: RECORDS, timestamp: (_e, seq) => timestampOf(seq) }), 'events', {
      watermarkStrategy: WatermarkStrategy.forMonotonousTimestamps(),
    })
    .keyBy((e) => e.key)
    .process({ processElement() {} })
    .sinkTo({ createWriter: () => ({ write() {}, flush() {}, close() {} }) })
  const begin = performance.now()
  await env.execute('window-bench-noop').result
  const seconds = (performance.now() - begin) / 1000
  await rm(directory, { recursive: true, force: true })
  return { recordsPerSecond: RECORDS / seconds }
}

async function sluice(checkpointIntervalMs) {
  const directory = await mkdtemp(path.join(tmpdir(), 'sluice-window-bench-'))
  let emitted = 0
  let checksum = 0
  const discard = {
    createWriter: () => ({
      write(records) {
        for (const r of records) {
          emitted++
          checksum = (checksum + checksumOf(r.key, r.start, r.count)) % 1_000_003
        }
      },
      flush() {},
      close() {},
    }),
  }
  const count = {
    createAccumulator: () => 0,
    add: (_event, accumulator) => accumulator + 1,
    getResult: (accumulator) => accumulator,
    merge: (a, b) => a + b,
  }
  const env = StreamExecutionEnvironment.create({
    parallelism: 1,
    ...(checkpointIntervalMs ? { checkpointing: { interval: checkpointIntervalMs, directory } } : {}),
  })
  env
    .fromSource(datagenSource({ generator: generate, count: RECORDS, timestamp: (_e, seq) => timestampOf(seq) }), 'events', {
      watermarkStrategy: WatermarkStrategy.forMonotonousTimestamps(),
    })
    .keyBy((e) => e.key)
    .window(TumblingEventTimeWindows.of(WINDOW_MS))
    .aggregate(count, (key, window, counts, out) => out.collect({ key, start: window.start, count: counts[0] }))
    .sinkTo(discard)
  const begin = performance.now()
  const result = await env.execute('window-bench').result
  const seconds = (performance.now() - begin) / 1000
  await rm(directory, { recursive: true, force: true })
  return { recordsPerSecond: RECORDS / seconds, emitted, checksum, checkpoints: result.metrics.checkpointsCompleted }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

// Warm-up of both sides so the JIT has seen the code, then interleaved measured runs.
handWritten()
await sluice(undefined)
await keyedNoop(undefined)
const runs = { reference: [], checkpoint1s: [], noop: [] }
let check
for (let i = 0; i < REPETITIONS; i++) {
  const reference = handWritten()
  runs.reference.push(reference.recordsPerSecond)
  const withCheckpoints = await sluice(1000)
  runs.checkpoint1s.push(withCheckpoints.recordsPerSecond)
  runs.noop.push((await keyedNoop(1000)).recordsPerSecond)
  check = { reference, withCheckpoints }
}
if (check.withCheckpoints.emitted !== check.reference.emitted || check.withCheckpoints.checksum !== check.reference.checksum) {
  throw new Error(
    `Sluice computed ${check.withCheckpoints.emitted}/${check.withCheckpoints.checksum}, reference ${check.reference.emitted}/${check.reference.checksum}`,
  )
}
const reference = median(runs.reference)
const checkpoint1s = median(runs.checkpoint1s)
print('window-tumbling-count', 'records_per_second_checkpoint_1s_vs_hand_written', checkpoint1s, 'records/s', reference, checkpoint1s / reference)
const noop = median(runs.noop)
print('window-tumbling-count', 'records_per_second_window_vs_keyed_noop_pipeline', checkpoint1s, 'records/s', noop, checkpoint1s / noop)
print('window-tumbling-count', 'checkpoints_completed', check.withCheckpoints.checkpoints, 'count', null, null)
