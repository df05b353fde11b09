// The job the crash-loop tests kill and restart: datagen (bounded) → record → FileSink, with checkpoints
// every CHECKPOINT_INTERVAL_MS. Run by runCrashLoop as `node file-sink-job.mjs`; everything
// comes from the environment, so every run of a loop resumes the same job from its latest checkpoint:
//
//   CHECKPOINT_DIR          checkpoint directory, the same for every run (required)
//   OUTPUT_DIR              the sink's base path (required)
//   FORMAT                  row (default) or parquet
//   COUNT                   records to generate (default 50000)
//   RECORDS_PER_SECOND      datagen rate over all readers (default 20000)
//   PARALLELISM             default 2
//   CHECKPOINT_INTERVAL_MS  default 100
//   BUCKETS                 row format: number of buckets, `b0` .. `b<BUCKETS-1>` by seq % BUCKETS (default 3)
//   MAX_PART_SIZE           row format: DefaultRollingPolicy.maxPartSize in bytes (default 32768)
//   COMPACTION_TARGET       row format: if set, withCompaction({ targetFileSize: COMPACTION_TARGET })
//
// Record `seq` is a pure function of seq, so a test can check every finished file:
//   row:     one line per record: `<seq>,<checksum 8 hex>,<payload of x>` (see lineOf)
//   parquet: the seed's OrderItem { itemId, goodsId, count } (see orderItemOf; the same generator as
//            test/__fixtures__/seed-orders.ts, which the test checks every record against), written with
//            parquetBulkFormat and the Avro schema forReflectRecord(OrderItem.class) derives, in buckets
//            `goodsId=<goodsId>` (7: the seed's 6 goods and its "111")
// The row format rolls part files on size, rollover (400 ms), inactivity (200 ms, checked every 50 ms)
// and at the end of input, so a loop crosses every rolling path; parquet rolls on every checkpoint
// (OnCheckpointRollingPolicy, the only policy of bulk formats) and at the end of input.
//
// Exits 0 when the bounded input is consumed and committed, 1 (with the error on stderr) otherwise.
import { createHash } from 'node:crypto'
import { StreamExecutionEnvironment } from '@sluice/core'
import { DefaultRollingPolicy, FileSink, OnCheckpointRollingPolicy, parquetBulkFormat } from '@sluice/connector-filesink'
import { runCrashLoopChild } from '@sluice/testkit'

const required = (name) => {
  const value = process.env[name]
  if (!value) throw new Error(`file-sink-job: environment variable ${name} is required`)
  return value
}
const numberEnv = (name, fallback) => {
  const value = process.env[name] === undefined ? fallback : Number(process.env[name])
  if (!Number.isFinite(value) || value <= 0) throw new Error(`file-sink-job: ${name} must be a positive number, got ${process.env[name]}`)
  return value
}

const format = process.env.FORMAT ?? 'row'
const count = numberEnv('COUNT', 50_000)
const buckets = numberEnv('BUCKETS', 3)

/** The checksum of a record: the first 8 hex digits of sha1(seq). */
const checksumOf = (seq) => createHash('sha1').update(String(seq)).digest('hex').slice(0, 8)
const lineOf = (seq) => `${seq},${checksumOf(seq)},${'x'.repeat(seq % 17)}`

// The seed's order records: a copy of test/__fixtures__/seed-orders.ts (this script runs in plain node).
const seedGoodsIds = ['1', '2', '3', '4', '5', '6']
const orderItemOf = (seq) => {
  const tick = Math.floor(seq / 2)
  const h = createHash('sha1').update(`order-${tick}`).digest('hex')
  return {
    itemId: `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(12, 15)}-a${h.slice(15, 18)}-${tick.toString(16).padStart(12, '0')}`,
    goodsId: seq % 2 === 0 ? seedGoodsIds[Number.parseInt(h.slice(18, 20), 16) % seedGoodsIds.length] : '111',
    count: (Number.parseInt(h.slice(20, 22), 16) % 10) + 1,
  }
}
const orderItemAvroSchema = {
  type: 'record',
  name: 'OrderItem',
  namespace: 'cn.seed.flink',
  fields: [
    { name: 'itemId', type: { type: 'string', 'avro.java.string': 'String' } },
    { name: 'goodsId', type: { type: 'string', 'avro.java.string': 'String' } },
    { name: 'count', type: { type: 'int', 'java-class': 'java.lang.Integer' } },
  ],
}

const env = StreamExecutionEnvironment.create({
  parallelism: numberEnv('PARALLELISM', 2),
  checkpointing: { interval: numberEnv('CHECKPOINT_INTERVAL_MS', 100), directory: required('CHECKPOINT_DIR') },
})
const recordsPerSecond = numberEnv('RECORDS_PER_SECOND', 20_000)

let sink
if (format === 'row') {
  const builder = FileSink.forRowFormat(required('OUTPUT_DIR'))
    .withBucketAssigner({ getBucketId: (line) => `b${Number(line.slice(0, line.indexOf(','))) % buckets}`, toString: () => 'seq bucket assigner' })
    .withRollingPolicy(DefaultRollingPolicy.create({ maxPartSize: numberEnv('MAX_PART_SIZE', 32 * 1024), rolloverInterval: 400, inactivityInterval: 200 }))
    .withBucketCheckInterval(50)
    .withWarnWithoutCheckpointing(false)
  if (process.env.COMPACTION_TARGET) builder.withCompaction({ targetFileSize: numberEnv('COMPACTION_TARGET') })
  sink = builder.build()
  env.datagen({ generator: (seq) => seq, count, recordsPerSecond }).uid('records').map(lineOf).uid('to-line').sinkTo(sink).uid('file-sink')
} else if (format === 'parquet') {
  sink = FileSink.forBulkFormat(required('OUTPUT_DIR'), parquetBulkFormat({ avroSchema: orderItemAvroSchema }))
    .withBucketAssigner({ getBucketId: (item) => `goodsId=${item.goodsId}`, toString: () => 'goodsId bucket assigner' })
    .withRollingPolicy(new OnCheckpointRollingPolicy())
    .withWarnWithoutCheckpointing(false)
    .build()
  env.datagen({ generator: orderItemOf, count, recordsPerSecond }).uid('records').sinkTo(sink).uid('file-sink')
} else {
  throw new Error(`file-sink-job: FORMAT must be row or parquet, got ${format}`)
}

await runCrashLoopChild(env.execute('file-sink-crash'))
