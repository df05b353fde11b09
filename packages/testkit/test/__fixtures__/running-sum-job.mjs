// The job the crash-loop tests kill and restart: a running sum per key, written exactly-once to a
// TransactionalFileSink. Run by runCrashLoop as `node running-sum-job.mjs`; everything it needs
// comes from the environment, so every run of a loop resumes the same job:
//
//   CHECKPOINT_DIR    checkpoint directory, the same for every run (required)
//   OUTPUT_DIR        TransactionalFileSink directory (required)
//   COUNT             records to generate (default 20000)
//   RECORDS_PER_SECOND  datagen rate over all readers (default 8000: a clean run takes a few seconds)
//   CHECKPOINT_MODE   EXACTLY_ONCE (default) or AT_LEAST_ONCE
//   CHECKPOINT_INTERVAL_MS  default 100
//   SINK              transactional (default), or append: a deliberately broken sink that appends
//                     straight to committed files, the negative control that shows a loop catches it
//
// Exits 0 when the bounded input is consumed and committed, 1 (with the error on stderr) otherwise.
// The record of index `seq` is a pure function of `seq`, so a test can compute the expected sums.
import { randomUUID } from 'node:crypto'
import { mkdir, open } from 'node:fs/promises'
import path from 'node:path'
import { StreamExecutionEnvironment } from '@sluice/core'
import { TransactionalFileSink, runCrashLoopChild } from '@sluice/testkit'

/**
 * NOT exactly-once, on purpose: writes every batch straight into `committed/`, so what a killed run
 * wrote after its last checkpoint stays visible and is written again by the next run.
 */
class AppendOnlyFileSink {
  constructor(directory) {
    this.directory = directory
  }
  async createWriter(context) {
    const folder = path.join(this.directory, 'committed')
    await mkdir(folder, { recursive: true })
    const handle = await open(path.join(folder, `${context.jobName}-${context.subtaskId}-${randomUUID()}.jsonl`), 'wx')
    return {
      write: async (records) => {
        await handle.write(records.map((record) => `${JSON.stringify(record)}\n`).join(''))
      },
      flush: () => {},
      close: () => handle.close(),
    }
  }
}

const required = (name) => {
  const value = process.env[name]
  if (!value) throw new Error(`running-sum-job: environment variable ${name} is required`)
  return value
}

const count = Number(process.env.COUNT ?? 20_000)
const recordsPerSecond = Number(process.env.RECORDS_PER_SECOND ?? 8000)
const mode = process.env.CHECKPOINT_MODE ?? 'EXACTLY_ONCE'

const env = StreamExecutionEnvironment.create({
  parallelism: 2,
  checkpointing: {
    interval: Number(process.env.CHECKPOINT_INTERVAL_MS ?? 100),
    mode,
    directory: required('CHECKPOINT_DIR'),
  },
})

env
  .datagen({ generator: (seq) => ({ seq, key: `key-${seq % 7}`, value: (seq * 7) % 13 }), count, recordsPerSecond })
  .uid('events')
  .map((event) => ({ key: event.key, total: event.value, count: 1, lastSeq: event.seq }))
  .uid('to-sum')
  .keyBy((sum) => sum.key)
  .reduce((a, b) => ({ key: a.key, total: a.total + b.total, count: a.count + b.count, lastSeq: b.lastSeq }))
  .uid('running-sum')
  .sinkTo(
    process.env.SINK === 'append'
      ? new AppendOnlyFileSink(required('OUTPUT_DIR'))
      : new TransactionalFileSink({ directory: required('OUTPUT_DIR') }),
  )
  .uid('file-sink')

await runCrashLoopChild(env.execute('running-sum'))
