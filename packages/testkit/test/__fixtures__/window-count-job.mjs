// The job the window crash-loop test kills and restarts: a keyed tumbling event-time window count,
// written exactly-once to a TransactionalFileSink. Run by runCrashLoop as `node window-count-job.mjs`;
// everything comes from the environment, so every run of a loop resumes the same job:
//
//   CHECKPOINT_DIR      checkpoint directory, the same for every run (required)
//   OUTPUT_DIR          TransactionalFileSink directory (required)
//   COUNT               records to generate (default 20000)
//   RECORDS_PER_SECOND  datagen rate over all readers (default 8000)
//   CHECKPOINT_INTERVAL_MS  default 100
//
// Record `seq` is key `key-(seq % 7)` at event time `seq` ms; windows are 1 s tumbling windows, with
// watermarks made per datagen split (monotonous timestamps). Each output record is
// { key, start, count }: one per key and window, exactly once.
import { StreamExecutionEnvironment, TumblingEventTimeWindows, WatermarkStrategy, datagenSource } from '@sluice/core'
import { TransactionalFileSink, runCrashLoopChild } from '@sluice/testkit'

const required = (name) => {
  const value = process.env[name]
  if (!value) throw new Error(`window-count-job: environment variable ${name} is required`)
  return value
}

const count = Number(process.env.COUNT ?? 20_000)
const recordsPerSecond = Number(process.env.RECORDS_PER_SECOND ?? 8000)

const env = StreamExecutionEnvironment.create({
  parallelism: 2,
  autoWatermarkInterval: 50,
  checkpointing: { interval: Number(process.env.CHECKPOINT_INTERVAL_MS ?? 100), directory: required('CHECKPOINT_DIR') },
})

const countAggregate = {
  createAccumulator: () => 0,
  add: (_event, accumulator) => accumulator + 1,
  getResult: (accumulator) => accumulator,
  merge: (a, b) => a + b,
}

env
  .fromSource(
    datagenSource({ generator: (seq) => ({ seq, key: `key-${seq % 7}` }), count, recordsPerSecond, timestamp: (_event, seq) => seq }),
    'events',
    { watermarkStrategy: WatermarkStrategy.forMonotonousTimestamps() },
  )
  .uid('events')
  .keyBy((event) => event.key)
  .window(TumblingEventTimeWindows.of(1000))
  .aggregate(countAggregate, (key, window, counts, out) => out.collect({ key, start: window.start, count: counts[0] }))
  .uid('window-count')
  .sinkTo(new TransactionalFileSink({ directory: required('OUTPUT_DIR') }))
  .uid('file-sink')

await runCrashLoopChild(env.execute('window-count'))
