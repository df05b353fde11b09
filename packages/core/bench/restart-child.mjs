// Child of the restart benchmark: resumes the job from CHECKPOINT_DIR and prints FIRST_RECORD <ms
// since process start> when the first record leaves the source.
import { StreamExecutionEnvironment } from '@sluice/core'

const env = StreamExecutionEnvironment.create({
  parallelism: 2,
  checkpointing: { interval: 100, directory: process.env.CHECKPOINT_DIR },
  onWarning: () => {},
})
env
  .datagen({ generator: (seq) => ({ key: seq % 100, value: 1 }), recordsPerSecond: 50_000 })
  .keyBy((e) => e.key)
  .reduce((a, b) => ({ key: a.key, value: a.value + b.value }))
  .sinkTo({ createWriter: () => ({ write() {}, flush() {}, close() {} }) })
const job = env.execute('restart-bench')
const timer = setInterval(() => {
  if (job.metrics().recordsFromSources > 0) {
    console.log(`FIRST_RECORD ${performance.now().toFixed(1)}`)
    clearInterval(timer)
  }
}, 1)
