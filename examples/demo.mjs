#!/usr/bin/env node
// The Sluice demo: a real job on embedded defaults.
//
//   datagen of click events → keyBy(page) → tumbling 1 s count per page (processing time) → print
//
// with checkpoints every second in .sluice/demo/checkpoints and a one-line progress display.
// Ctrl-C stops the job with a savepoint; run again with --from-savepoint <path> to resume from it
// (without it, the demo resumes from the latest checkpoint in the directory, if any).
//
// Options: --rate <events/s> (default 5000)  --parallelism <n> (default 2)  --duration <s> (stop by itself)
//          --from-savepoint <dir>  --fresh (delete old checkpoints first)
import { rm } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { StreamExecutionEnvironment, TumblingProcessingTimeWindows, seededInt } from '@sluice/core'

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '5000' },
    parallelism: { type: 'string', default: '2' },
    duration: { type: 'string' },
    'from-savepoint': { type: 'string' },
    fresh: { type: 'boolean', default: false },
  },
})
const directory = '.sluice/demo/checkpoints'
if (args.fresh) await rm(directory, { recursive: true, force: true })

const PAGES = ['/home', '/search', '/cart', '/checkout', '/product', '/help']
const WINDOW_MS = 1000

const env = StreamExecutionEnvironment.create({
  parallelism: Number(args.parallelism),
  checkpointing: { interval: 1000, directory, retainedCheckpoints: 3 },
  ...(args['from-savepoint'] ? { fromSavepoint: args['from-savepoint'] } : {}),
  onWarning: (message) => process.stderr.write(`\n[sluice] ${message}\n`),
})

// A deterministic event stream: the same index always gives the same event.
const clicks = env
  .datagen({
    generator: (index) => ({ user: `u${seededInt(7, index, 1, 500)}`, page: PAGES[seededInt(11, index, 0, PAGES.length - 1)] }),
    recordsPerSecond: Number(args.rate),
  })
  .uid('clicks')

// A keyed tumbling count: per page, count events and emit the count when the window's
// processing-time timer fires. Counts and timers are keyed state, so they are in every checkpoint.
// A tumbling processing-time window per page: its contents and timers are keyed state, in every
// checkpoint and savepoint; a window still open at a savepoint fires right after the resume.
const countClicks = { createAccumulator: () => 0, add: (_click, count) => count + 1, getResult: (count) => count, merge: (a, b) => a + b }
const counts = clicks
  .keyBy((click) => click.page)
  .window(TumblingProcessingTimeWindows.of(WINDOW_MS))
  .aggregate(countClicks, (page, window, [count], out) =>
    out.collect(`${new Date(window.start).toISOString().slice(11, 19)} ${page.padEnd(10)} ${count}`),
  )
  .uid('tumbling-window-count')

counts.print('count').uid('print')

const job = env.execute('demo')
const startedAt = Date.now()
let lastRecords = 0
const progress = setInterval(() => {
  const metrics = job.metrics()
  const rate = metrics.recordsFromSources - lastRecords
  lastRecords = metrics.recordsFromSources
  process.stderr.write(
    `[progress] ${rate} records/s | ${metrics.recordsFromSources} total | last checkpoint ${metrics.lastCheckpointId ?? '-'}` +
      `${metrics.restoredCheckpointId ? ` | restored from ${metrics.restoredCheckpointId}` : ''} | ${Math.round((Date.now() - startedAt) / 1000)} s\n`,
  )
}, 1000)

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  clearInterval(progress)
  process.stderr.write('\nstopping with a savepoint…\n')
  const savepoint = await job.stopWithSavepoint()
  process.stderr.write(`savepoint: ${savepoint}\nresume with: bash scripts/demo.sh --from-savepoint ${savepoint}\n`)
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
if (args.duration) setTimeout(() => void stop(), Number(args.duration) * 1000)

const result = await job.result
clearInterval(progress)
process.stderr.write(`job ${result.state.toLowerCase()}: ${result.metrics.recordsFromSources} records, ${result.metrics.checkpointsCompleted} checkpoints\n`)
