// The job the crash-loop tests kill and restart: datagen (bounded) → map to a record → FileSink, with
// checkpoints every CHECKPOINT_INTERVAL_MS. Run by runCrashLoop as `node file-sink-job.mjs`; everything
// comes from the environment, so every run of a loop resumes the same job from its latest checkpoint:
//
//   CHECKPOINT_DIR          checkpoint directory, the same for every run (required)
//   OUTPUT_DIR              the sink's base path (required)
//   FORMAT                  row (default) or parquet
//   COUNT                   records to generate (default 50000)
//   RECORDS_PER_SECOND      datagen rate over all readers (default 20000)
//   PARALLELISM             default 2
//   CHECKPOINT_INTERVAL_MS  default 100
//   BUCKETS                 number of buckets, `b0` .. `b<BUCKETS-1>` by seq % BUCKETS (default 3)
//   MAX_PART_SIZE           row format: DefaultRollingPolicy.maxPartSize in bytes (default 32768)
//   COMPACTION_TARGET       row format: if set, withCompaction({ targetFileSize: COMPACTION_TARGET })
//
// Record `seq` is a pure function of seq (see `recordOf`), so a test can check every finished file:
//   row:     one line per record: `<seq>,<checksum 8 hex>,<payload of x>` (see lineOf)
//   parquet: { seq: int, bucket: string, checksum: string, payload: string }
// The row format rolls part files on size, rollover (400 ms), inactivity (200 ms, checked every 50 ms)
// and at the end of input, so a loop crosses every rolling path; parquet rolls on every checkpoint.
//
// Exits 0 when the bounded input is consumed and committed, 1 (with the error on stderr) otherwise.
import { createHash } from 'node:crypto'
import { StreamExecutionEnvironment } from '@sluice/core'
import { DefaultRollingPolicy, FileSink, OnCheckpointRollingPolicy } from '@sluice/connector-filesink'
import { reportRunning } from '@sluice/testkit'

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
const recordOf = (seq) => ({ seq, bucket: `b${seq % buckets}`, checksum: checksumOf(seq), payload: 'x'.repeat(seq % 17) })
const lineOf = (record) => `${record.seq},${record.checksum},${record.payload}`

const env = StreamExecutionEnvironment.create({
  parallelism: numberEnv('PARALLELISM', 2),
  checkpointing: { interval: numberEnv('CHECKPOINT_INTERVAL_MS', 100), directory: required('CHECKPOINT_DIR') },
})
const records = env.datagen({ generator: recordOf, count, recordsPerSecond: numberEnv('RECORDS_PER_SECOND', 20_000) }).uid('records')

let sink
if (format === 'row') {
  const builder = FileSink.forRowFormat(required('OUTPUT_DIR'))
    .withBucketAssigner({ getBucketId: (line) => `b${Number(line.slice(0, line.indexOf(','))) % buckets}`, toString: () => 'seq bucket assigner' })
    .withRollingPolicy(DefaultRollingPolicy.create({ maxPartSize: numberEnv('MAX_PART_SIZE', 32 * 1024), rolloverInterval: 400, inactivityInterval: 200 }))
    .withBucketCheckInterval(50)
    .withWarnWithoutCheckpointing(false)
  if (process.env.COMPACTION_TARGET) builder.withCompaction({ targetFileSize: numberEnv('COMPACTION_TARGET') })
  sink = builder.build()
  records.map(lineOf).uid('to-line').sinkTo(sink).uid('file-sink')
} else if (format === 'parquet') {
  const { parquetBulkFormat } = await import('@sluice/connector-filesink')
  const bulkFormat = parquetBulkFormat({
    avroSchema: {
      type: 'record',
      name: 'CrashRecord',
      fields: [
        { name: 'seq', type: 'int' },
        { name: 'bucket', type: 'string' },
        { name: 'checksum', type: 'string' },
        { name: 'payload', type: 'string' },
      ],
    },
  })
  sink = FileSink.forBulkFormat(required('OUTPUT_DIR'), bulkFormat)
    .withBucketAssigner({ getBucketId: (record) => record.bucket, toString: () => 'record.bucket assigner' })
    .withRollingPolicy(new OnCheckpointRollingPolicy())
    .withWarnWithoutCheckpointing(false)
    .build()
  records.sinkTo(sink).uid('file-sink')
} else {
  throw new Error(`file-sink-job: FORMAT must be row or parquet, got ${format}`)
}

const handle = env.execute('file-sink-crash')
void reportRunning(handle)
try {
  await handle.result
  process.exit(0)
} catch (error) {
  console.error(error?.stack ?? String(error))
  process.exit(1)
}
