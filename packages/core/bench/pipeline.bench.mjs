// Core pipeline benchmark (issue: core foundation, section 8). Prints one JSON line per figure:
// {"bench","metric","value","unit","baseline","ratio"}. Run with `pnpm bench` after `pnpm build`.
//
// Pipeline: datagen → map → filter → keyBy → reduce → discarding sink, against a hand-written loop
// doing the same computation on the same generated records in the same process.
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { StreamExecutionEnvironment } from '@sluice/core'

/** Enough records for Sluice to run over a second: checkpoints every 1 s are taken while the job runs. */
const RECORDS = Number(process.env.SLUICE_BENCH_RECORDS ?? 20_000_000)
/** Each configuration runs this many times, interleaved; the median is reported (JIT noise is large). */
const REPETITIONS = Number(process.env.SLUICE_BENCH_REPETITIONS ?? 3)
const KEYS = 1000
const generate = (seq) => ({ key: seq % KEYS, value: seq % 97 })
const double = (e) => ({ key: e.key, value: e.value * 2 })
const keep = (e) => e.value % 3 !== 0
const add = (a, b) => ({ key: a.key, value: a.value + b.value })

function print(bench, metric, value, unit, baseline, ratio) {
  console.log(JSON.stringify({ bench, metric, value: round(value), unit, baseline: round(baseline), ratio: round(ratio, 3) }))
}
const round = (n, digits = 1) => (n === null || n === undefined ? n : Number(n.toFixed(digits)))

/** The hand-written reference: same generator, same functions, a Map for the per-key sums. */
function handWritten() {
  const sums = new Map()
  let emitted = 0
  const start = performance.now()
  for (let seq = 0; seq < RECORDS; seq++) {
    const e = double(generate(seq))
    if (!keep(e)) continue
    const current = sums.get(e.key)
    const next = current === undefined ? e : add(current, e)
    sums.set(e.key, next)
    emitted++
  }
  const seconds = (performance.now() - start) / 1000
  return { recordsPerSecond: RECORDS / seconds, emitted, checksum: [...sums.values()].reduce((s, e) => s + e.value, 0) }
}

async function sluice(checkpointIntervalMs) {
  const directory = await mkdtemp(path.join(tmpdir(), 'sluice-bench-'))
  let emitted = 0
  const finals = new Map()
  const discard = {
    createWriter: () => ({
      write(records) {
        emitted += records.length
        // Keep the last value per key for the checksum: touches each record once, like a sink would.
        for (const r of records) finals.set(r.key, r.value)
      },
      flush() {},
      close() {},
    }),
  }
  const env = StreamExecutionEnvironment.create({
    parallelism: 1,
    ...(checkpointIntervalMs ? { checkpointing: { interval: checkpointIntervalMs, directory } } : {}),
  })
  env.datagen({ generator: generate, count: RECORDS }).map(double).filter(keep).keyBy((e) => e.key).reduce(add).sinkTo(discard)
  const start = performance.now()
  const result = await env.execute('bench').result
  const seconds = (performance.now() - start) / 1000
  await rm(directory, { recursive: true, force: true })
  return {
    recordsPerSecond: RECORDS / seconds,
    emitted,
    checksum: [...finals.values()].reduce((s, v) => s + v, 0),
    checkpoints: result.metrics.checkpointsCompleted,
  }
}

async function restartToFirstRecord() {
  const directory = await mkdtemp(path.join(tmpdir(), 'sluice-bench-restart-'))
  const script = fileURLToPath(new URL('./restart-child.mjs', import.meta.url))
  const run = (kill) =>
    new Promise((resolve, reject) => {
      const started = performance.now()
      const child = spawn(process.execPath, [script], { env: { ...process.env, CHECKPOINT_DIR: directory }, stdio: ['ignore', 'pipe', 'inherit'] })
      let buffer = ''
      child.stdout.on('data', (chunk) => {
        buffer += chunk
        const match = /FIRST_RECORD (\d+(?:\.\d+)?)/.exec(buffer)
        if (match && !child.killed) {
          const elapsed = performance.now() - started
          if (kill) {
            // Let it take a few checkpoints, then kill -9.
            setTimeout(() => child.kill('SIGKILL'), 600)
          } else {
            child.kill('SIGKILL')
          }
          resolve({ wallMs: elapsed, inProcessMs: Number(match[1]) })
        }
      })
      child.on('error', reject)
    })
  await run(true)
  await new Promise((r) => setTimeout(r, 800))
  const samples = []
  for (let i = 0; i < 5; i++) samples.push(await run(false))
  await rm(directory, { recursive: true, force: true })
  samples.sort((a, b) => a.wallMs - b.wallMs)
  return samples[Math.floor(samples.length / 2)]
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

// Warm-up of both sides so the JIT has seen the code, then interleaved measured runs.
handWritten()
await sluice(undefined)
const runs = { reference: [], checkpoint1s: [], off: [], checkpoint100ms: [] }
let check
for (let i = 0; i < REPETITIONS; i++) {
  const reference = handWritten()
  runs.reference.push(reference.recordsPerSecond)
  const withCheckpoints = await sluice(1000)
  runs.checkpoint1s.push(withCheckpoints.recordsPerSecond)
  runs.off.push((await sluice(undefined)).recordsPerSecond)
  runs.checkpoint100ms.push((await sluice(100)).recordsPerSecond)
  check = { reference, withCheckpoints }
}
if (check.withCheckpoints.emitted !== check.reference.emitted || check.withCheckpoints.checksum !== check.reference.checksum) {
  throw new Error(`Sluice computed ${check.withCheckpoints.emitted}/${check.withCheckpoints.checksum}, reference ${check.reference.emitted}/${check.reference.checksum}`)
}
const reference = median(runs.reference)
const checkpoint1s = median(runs.checkpoint1s)
const off = median(runs.off)
const checkpoint100ms = median(runs.checkpoint100ms)
print('core-pipeline', 'records_per_second_checkpoint_1s_vs_hand_written', checkpoint1s, 'records/s', reference, checkpoint1s / reference)
print('core-pipeline', 'records_per_second_checkpoint_100ms_vs_off', checkpoint100ms, 'records/s', off, checkpoint100ms / off)
const restart = await restartToFirstRecord()
print('core-recovery', 'restart_after_kill9_to_first_record_ms', restart.wallMs, 'ms', null, null)
