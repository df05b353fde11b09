// The job the broadcast-state crash-loop test kills and restarts: a keyed event stream enriched with
// broadcast rule versions and a keyed running count, written exactly-once to a TransactionalFileSink.
// Run by runCrashLoop as `node broadcast-enrich-job.mjs`; everything comes from the environment, so
// every run of a loop resumes the same job:
//
//   CHECKPOINT_DIR      checkpoint directory, the same for every run (required)
//   OUTPUT_DIR          TransactionalFileSink directory (required)
//   COUNT               events to generate (default 20000)
//   RULE_UPDATES        broadcast rule updates to generate (default 1000)
//   RECORDS_PER_SECOND  event rate over all readers (default 8000)
//   RULES_PER_SECOND    rule update rate (default 200)
//   CHECKPOINT_INTERVAL_MS  default 100
//   PARALLELISM         parallelism of the job (default 2); the rule source always runs at 1
//   PARALLELISM_BY_RUN  e.g. "2,3,1": run r (SLUICE_CRASH_LOOP_RUN, from 1) uses entry (r - 1) mod length,
//                       so every restart restores the checkpoint of the previous run at another parallelism
//   FORGET_BROADCAST_STATE  "1": negative control, see below
//
// Rule update `u` (one split, parallelism 1, so every subtask sees the updates in order u = 0, 1, ...)
// sets rule `rule-(u % 5)` to version floor(u / 5) + 1. The broadcast state is two maps: 'rule-versions'
// (rule → version) and 'rule-progress' ('applied' → number of updates applied). After `applied` updates
// the versions are a pure function of `applied`, so every output record can be checked exactly,
// whatever the timing of the two inputs. Event `seq` has key `key-(seq % 7)`; its keyed running count is
// a ValueState. Output records (JSON lines):
//
//   { type: 'event', seq, key, count, applied, versions, run, subtask, parallelism }
//       one per event: its running count and the broadcast state it saw (versions: rule-0..rule-4, 0 = unset)
//   { type: 'final', key, count, applied, versions, run, subtask, parallelism }
//       one per key, from an event-time timer that fires at the end of both inputs (MAX watermark)
//   { type: 'resume', run, attempt, subtask, parallelism, applied, update }
//       per subtask and run (and in-process attempt), at its first record of either input, before
//       anything is applied: `applied` is the progress of the restored broadcast state (0 in a fresh
//       job); `update` is the index of the rule update when that record is one, else null
//   { type: 'gap', run, subtask, expected, got }
//       a rule update arrived that is not the next one the broadcast state expects (never, if the state
//       is checkpointed and restored with the rule source's position)
//
// FORGET_BROADCAST_STATE=1 simulates a runtime that does not restore broadcast state: in every run after
// the first, the function reads the broadcast state as empty until its first rule update, which clears
// it. The test's negative control runs this and expects its checks to fail.
import { MapStateDescriptor, StreamExecutionEnvironment, ValueStateDescriptor, datagenSource } from '@sluice/core'
import { TransactionalFileSink, runCrashLoopChild } from '@sluice/testkit'

const required = (name) => {
  const value = process.env[name]
  if (!value) throw new Error(`broadcast-enrich-job: environment variable ${name} is required`)
  return value
}

const RULES = 5
const KEYS = 7
/** Timer of every key: fires only with the MAX watermark at the end of both inputs. */
const END_OF_INPUT_TIMER = 2 ** 52

const count = Number(process.env.COUNT ?? 20_000)
const ruleUpdates = Number(process.env.RULE_UPDATES ?? 1000)
const recordsPerSecond = Number(process.env.RECORDS_PER_SECOND ?? 8000)
const rulesPerSecond = Number(process.env.RULES_PER_SECOND ?? 200)
const run = Number(process.env.SLUICE_CRASH_LOOP_RUN ?? 1)
const parallelismByRun = (process.env.PARALLELISM_BY_RUN ?? process.env.PARALLELISM ?? '2').split(',').map(Number)
const parallelism = parallelismByRun[(run - 1) % parallelismByRun.length]
const forgetBroadcastState = process.env.FORGET_BROADCAST_STATE === '1' && run > 1

const env = StreamExecutionEnvironment.create({
  parallelism,
  checkpointing: { interval: Number(process.env.CHECKPOINT_INTERVAL_MS ?? 100), directory: required('CHECKPOINT_DIR') },
})

const versionsDescriptor = new MapStateDescriptor('rule-versions')
const progressDescriptor = new MapStateDescriptor('rule-progress')
const countDescriptor = new ValueStateDescriptor('count', { defaultValue: 0 })

const enrich = {
  open(context) {
    this.subtask = context.subtaskId
    this.parallelism = context.parallelism
    this.attempt = context.attemptNumber
    this.count = context.getState(countDescriptor)
    this.resumed = false
    this.forgotten = forgetBroadcastState
  },
  /** What the broadcast state says now: the number of updates applied and the version of each rule. */
  seen(context) {
    if (this.forgotten) return { applied: 0, versions: new Array(RULES).fill(0) }
    const versions = context.getBroadcastState(versionsDescriptor)
    return {
      applied: context.getBroadcastState(progressDescriptor).get('applied') ?? 0,
      versions: Array.from({ length: RULES }, (_, rule) => versions.get(`rule-${rule}`) ?? 0),
    }
  },
  where() {
    return { run, subtask: this.subtask, parallelism: this.parallelism }
  },
  /** The first record of this subtask in this run: what the broadcast state was restored to. */
  resume(context, update, out) {
    this.resumed = true
    const { applied } = this.seen(context)
    out.collect({ type: 'resume', run, attempt: this.attempt, subtask: this.subtask, parallelism: this.parallelism, applied, update })
  },
  processElement(event, context, out) {
    if (!this.resumed) this.resume(context, null, out)
    const count = this.count.value() + 1
    this.count.update(count)
    if (count === 1) context.timerService().registerEventTimeTimer(END_OF_INPUT_TIMER)
    out.collect({ type: 'event', seq: event.seq, key: event.key, count, ...this.seen(context), ...this.where() })
  },
  processBroadcastElement(update, context, out) {
    if (!this.resumed) this.resume(context, update.u, out)
    const versions = context.getBroadcastState(versionsDescriptor)
    const progress = context.getBroadcastState(progressDescriptor)
    if (this.forgotten) {
      versions.clear()
      progress.clear()
      this.forgotten = false
    }
    const applied = progress.get('applied') ?? 0
    if (update.u !== applied) out.collect({ type: 'gap', run, subtask: this.subtask, expected: applied, got: update.u })
    versions.put(update.rule, update.version)
    progress.put('applied', update.u + 1)
  },
  onTimer(_timestamp, context, out) {
    out.collect({ type: 'final', key: context.getCurrentKey(), count: this.count.value(), ...this.seen(context), ...this.where() })
  },
}

const ruleUpdateStream = env
  .fromSource(
    datagenSource({ generator: (u) => ({ u, rule: `rule-${u % RULES}`, version: Math.floor(u / RULES) + 1 }), count: ruleUpdates, splits: 1, recordsPerSecond: rulesPerSecond }),
    'rule-updates',
  )
  .uid('rule-updates')
  .setParallelism(1)

env
  .fromSource(datagenSource({ generator: (seq) => ({ seq, key: `key-${seq % KEYS}` }), count, recordsPerSecond }), 'events')
  .uid('events')
  .keyBy((event) => event.key)
  .connect(ruleUpdateStream.broadcast(versionsDescriptor, progressDescriptor))
  .process(enrich, 'enrich')
  .uid('enrich')
  .sinkTo(new TransactionalFileSink({ directory: required('OUTPUT_DIR') }))
  .uid('file-sink')

await runCrashLoopChild(env.execute('broadcast-enrich'))
