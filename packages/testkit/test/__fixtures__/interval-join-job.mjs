// The job the interval-join crash-loop test kills and restarts: orders ⋈ payments with a keyed event-time
// interval join, written exactly-once to a TransactionalFileSink. Run by runCrashLoop as
// `node interval-join-job.mjs`; everything comes from the environment, so every run of a loop resumes the
// same job:
//
//   CHECKPOINT_DIR      checkpoint directory, the same for every run (required)
//   OUTPUT_DIR          TransactionalFileSink directory (required)
//   COUNT               records to generate per stream (default 20000)
//   RECORDS_PER_SECOND  datagen rate of each stream over all its readers (default 8000)
//   CHECKPOINT_INTERVAL_MS  default 100
//
// Each stream has two datagen splits, [0, COUNT/2) and [COUNT/2, COUNT) (COUNT must be even), read at the
// same pace; index `seq` gets event time `t` = 2·seq in the first split and 2·(seq − COUNT/2) + 1 in the
// second, so both splits advance through the same event times and the watermark (their minimum) keeps
// up: with `t = seq` the second split would run COUNT/2 ms ahead, and the join would buffer all of it.
// Every t in [0, COUNT) occurs once per stream. The order at t has id `id-(floor(t / 4) % 7)`, the
// payment at t has id `id-(floor(t / 3) % 7)`; watermarks are made per split (monotonous timestamps).
// The join is between(-2 ms, +1 ms): order o and payment p join when their ids are equal and
// o.t - 2 <= p.t <= o.t + 1. Each output record is { order, payment, id } (the two event times and the
// id): one per joined pair, exactly once.
import { StreamExecutionEnvironment, WatermarkStrategy, datagenSource } from '@sluice/core'
import { TransactionalFileSink, runCrashLoopChild } from '@sluice/testkit'

const required = (name) => {
  const value = process.env[name]
  if (!value) throw new Error(`interval-join-job: environment variable ${name} is required`)
  return value
}

const count = Number(process.env.COUNT ?? 20_000)
const recordsPerSecond = Number(process.env.RECORDS_PER_SECOND ?? 8000)
if (count % 2 !== 0) throw new Error(`interval-join-job: COUNT must be even, got ${count}`)
const half = count / 2
const eventTime = (seq) => (seq < half ? 2 * seq : 2 * (seq - half) + 1)

const env = StreamExecutionEnvironment.create({
  parallelism: 2,
  autoWatermarkInterval: 50,
  checkpointing: { interval: Number(process.env.CHECKPOINT_INTERVAL_MS ?? 100), directory: required('CHECKPOINT_DIR') },
})

const orders = env
  .fromSource(
    datagenSource({ generator: (seq) => ({ t: eventTime(seq), id: `id-${Math.floor(eventTime(seq) / 4) % 7}` }), count, splits: 2, recordsPerSecond, timestamp: (order) => order.t }),
    'orders',
    { watermarkStrategy: WatermarkStrategy.forMonotonousTimestamps() },
  )
  .uid('orders')

const payments = env
  .fromSource(
    datagenSource({ generator: (seq) => ({ t: eventTime(seq), id: `id-${Math.floor(eventTime(seq) / 3) % 7}` }), count, splits: 2, recordsPerSecond, timestamp: (payment) => payment.t }),
    'payments',
    { watermarkStrategy: WatermarkStrategy.forMonotonousTimestamps() },
  )
  .uid('payments')

orders
  .keyBy((order) => order.id)
  .intervalJoin(payments.keyBy((payment) => payment.id))
  .between(-2, 1)
  .process({ processElement: (order, payment, _context, out) => out.collect({ order: order.t, payment: payment.t, id: order.id }) })
  .uid('interval-join')
  .sinkTo(new TransactionalFileSink({ directory: required('OUTPUT_DIR') }))
  .uid('file-sink')

await runCrashLoopChild(env.execute('interval-join'))
