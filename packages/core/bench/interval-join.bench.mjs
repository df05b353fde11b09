// Interval-join benchmark (issue 6). Prints one JSON line per figure:
// {"bench","metric","value","unit","baseline","ratio"}. Run after `pnpm build`:
//   node packages/core/bench/interval-join.bench.mjs
//
// 1. Throughput: two generated keyed streams (1 record per ms each, 1000 keys) interval-joined with
//    between(-500 ms, +500 ms), checkpoints every 1 s, against a hand-written loop computing the same
//    join (buffers by timestamp per key, cleanup by watermark) in the same process. Both results (pair
//    count and checksum) must be equal. The two streams come from one generated source, split by a
//    process function (main output = left, side output = right), so both advance in step as in the
//    reference; `..._two_sources` runs them as two independent sources, where one source may run far
//    ahead of the other (the join's watermark is the slower one's, so the join buffers the lead), and
//    `..._two_sources_aligned` the same with watermark alignment (both sources in one alignment group,
//    maxAllowedDrift SLUICE_BENCH_ALIGNMENT_DRIFT ms, default 2048: two polls of a source). For both
//    two-source runs `max_source_lead_records...` is the largest lead of one source over the other seen
//    at any poll (median over the runs).
// 2. State size of an endless interval join: the sources pause at 1 M, 5 M and 10 M records (both
//    sides together), a savepoint is taken, and the buffered elements and cleanup timers are counted in
//    the join operator's keyed state as the savepoint holds it. Must stay flat.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { decodeValue, OutputTag, StreamExecutionEnvironment, WatermarkStrategy } from '@sluice/core'

const RECORDS = Number(process.env.SLUICE_BENCH_RECORDS ?? 2_000_000) // per side, throughput part
const REPETITIONS = Number(process.env.SLUICE_BENCH_REPETITIONS ?? 3)
const STATE_CHECKPOINTS = (process.env.SLUICE_BENCH_STATE_AT ?? '1000000,5000000,10000000').split(',').map(Number)
const KEYS = 1000
const LOWER = -500
const UPPER = 500
const BATCH = 1024
const ALIGNMENT_DRIFT = Number(process.env.SLUICE_BENCH_ALIGNMENT_DRIFT ?? 2 * BATCH)

const leftKey = (i) => i % KEYS
const rightKey = (i) => (i * 7 + 3) % KEYS
const pairValue = (leftId, rightId) => (leftId % 1000) * 1000 + (rightId % 1000)

function print(bench, metric, value, unit, baseline, ratio) {
  console.log(JSON.stringify({ bench, metric, value: round(value), unit, baseline: round(baseline), ratio: round(ratio, 3) }))
}
const round = (n, digits = 1) => (n === null || n === undefined ? n : Number(n.toFixed(digits)))
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

// ------------------------------------------------------------------ a generated source with watermarks

/**
 * Side `side` of the join: record i is `{ k, id: i }` with timestamp i (ms), emitted in batches, each
 * followed by the watermark `timestamp of its last record` (timestamps only rise). One split, so the
 * source runs with parallelism 1. `gate` (optional) pauses the source at given record counts;
 * `progress` (optional) is told the position of each side after every poll.
 */
function generatedSource(side, count, gate, progress) {
  const keyOf = side === 'left' ? leftKey : rightKey
  const both = side === 'both'
  const serializer = {
    version: 1,
    serialize: (split) => new TextEncoder().encode(JSON.stringify(split)),
    deserialize: (_version, bytes) => JSON.parse(new TextDecoder().decode(bytes)),
  }
  return {
    boundedness: count === undefined ? 'CONTINUOUS_UNBOUNDED' : 'BOUNDED',
    createEnumerator: (context) => enumerator(context, [{ splitId: side, position: 0 }]),
    restoreEnumerator: (context, splits) => enumerator(context, splits),
    createReader: () => {
      let split
      let noMore = false
      return {
        start() {},
        pollNext(output) {
          if (split === undefined) return noMore ? 'END_OF_INPUT' : 'NOTHING_AVAILABLE'
          const end = count === undefined ? split.position + BATCH : Math.min(count, split.position + BATCH)
          const stop = gate ? Math.min(end, gate.limit(side)) : end
          if (stop <= split.position) {
            if (count !== undefined && split.position >= count) {
              split = undefined
              return 'MORE_AVAILABLE'
            }
            return 'NOTHING_AVAILABLE'
          }
          if (both) {
            for (let i = split.position; i < stop; i++) {
              output.collect({ left: true, k: leftKey(i), id: i }, i)
              output.collect({ left: false, k: rightKey(i), id: i }, i)
            }
          } else {
            for (let i = split.position; i < stop; i++) output.collect({ k: keyOf(i), id: i }, i)
          }
          output.emitWatermark(stop - 1)
          split.position = stop
          gate?.reached(side, stop)
          progress?.reached(side, stop)
          return 'MORE_AVAILABLE'
        },
        isAvailable: () => (gate && split && split.position >= gate.limit(side) ? gate.opened(side) : Promise.resolve()),
        addSplits(splits) {
          split = { ...splits[0] }
        },
        notifyNoMoreSplits() {
          noMore = true
        },
        snapshotState: () => (split ? [{ ...split }] : []),
        close() {},
      }
    },
    splitSerializer: () => serializer,
    enumeratorCheckpointSerializer: () => serializer,
  }
}

function enumerator(context, splits) {
  let unassigned = [...splits]
  return {
    start() {},
    addReader(subtaskId) {
      if (subtaskId === 0 && unassigned.length > 0) context.assignSplits(0, unassigned)
      unassigned = []
      context.signalNoMoreSplits(subtaskId)
    },
    handleSplitRequest() {},
    addSplitsBack(back) {
      unassigned.push(...back)
    },
    snapshotState: () => unassigned,
    close() {},
  }
}

// ------------------------------------------------------------------ the hand-written reference

/**
 * The same join without the framework: per key a Map timestamp → elements for each side, the other
 * side's map scanned for every element (as IntervalJoinOperator does), and buffers cleaned when the
 * watermark (the minimum of both sides') passes t + UPPER (left) or t - LOWER (right). Both sides are
 * read in alternating batches of BATCH records, each batch followed by its watermark.
 */
function handWritten() {
  const start = performance.now()
  const buffers = new Map() // key → { left: Map<ts, ids[]>, right: Map<ts, ids[]> }
  const cleanupLeft = [] // FIFO of [key, ts]: timestamps only rise on each side
  const cleanupRight = []
  let leftHead = 0
  let rightHead = 0
  let pairs = 0
  let checksum = 0
  let leftWatermark = -Infinity
  let rightWatermark = -Infinity
  const add = (ours, key, ts, id, isLeft) => {
    let entry = buffers.get(key)
    if (entry === undefined) {
      entry = { left: new Map(), right: new Map() }
      buffers.set(key, entry)
    }
    const own = isLeft ? entry.left : entry.right
    const other = isLeft ? entry.right : entry.left
    const bucket = own.get(ts)
    if (bucket === undefined) own.set(ts, [id])
    else bucket.push(id)
    const from = ts + (isLeft ? LOWER : -UPPER)
    const to = ts + (isLeft ? UPPER : -LOWER)
    for (const [otherTs, ids] of other) {
      if (otherTs < from || otherTs > to) continue
      for (const otherId of ids) {
        pairs++
        checksum += isLeft ? pairValue(id, otherId) : pairValue(otherId, id)
      }
    }
    ours.push(key, ts)
  }
  const clean = (watermark) => {
    while (leftHead < cleanupLeft.length && cleanupLeft[leftHead + 1] + UPPER <= watermark) {
      buffers.get(cleanupLeft[leftHead])?.left.delete(cleanupLeft[leftHead + 1])
      leftHead += 2
    }
    while (rightHead < cleanupRight.length && cleanupRight[rightHead + 1] - LOWER <= watermark) {
      buffers.get(cleanupRight[rightHead])?.right.delete(cleanupRight[rightHead + 1])
      rightHead += 2
    }
  }
  for (let batchStart = 0; batchStart < RECORDS; batchStart += BATCH) {
    const stop = Math.min(RECORDS, batchStart + BATCH)
    for (let i = batchStart; i < stop; i++) add(cleanupLeft, leftKey(i), i, i, true)
    leftWatermark = stop - 1
    clean(Math.min(leftWatermark, rightWatermark))
    for (let i = batchStart; i < stop; i++) add(cleanupRight, rightKey(i), i, i, false)
    rightWatermark = stop - 1
    clean(Math.min(leftWatermark, rightWatermark))
  }
  const seconds = (performance.now() - start) / 1000
  return { recordsPerSecond: (2 * RECORDS) / seconds, pairs, checksum }
}

// ------------------------------------------------------------------ Sluice

const rightTag = new OutputTag('right')

/**
 * One source of both sides (`rightSource` undefined), split by a process function; or two sources,
 * with `watermarkStrategy` if given (the readers emit their own watermarks, so no generator is needed:
 * `noWatermarks().withWatermarkAlignment(...)` only adds alignment).
 */
function buildJoin(env, leftSource, rightSource, onPair, watermarkStrategy) {
  let leftStream
  let rightStream
  if (rightSource === undefined) {
    const split = env
      .fromSource(leftSource, 'both sides')
      .uid('both')
      .process({ processElement: (r, context, out) => (r.left ? out.collect(r) : context.output(rightTag, r)) })
      .uid('split')
    leftStream = split
    rightStream = split.getSideOutput(rightTag)
  } else {
    const options = watermarkStrategy ? { watermarkStrategy } : {}
    leftStream = env.fromSource(leftSource, 'left', options).uid('left')
    rightStream = env.fromSource(rightSource, 'right', options).uid('right')
  }
  const left = leftStream.keyBy((r) => r.k)
  const right = rightStream.keyBy((r) => r.k)
  return left
    .intervalJoin(right)
    .between(LOWER, UPPER)
    .process({ processElement: (l, r, _context, out) => out.collect(pairValue(l.id, r.id)) })
    .uid('interval-join')
    .sinkTo({ createWriter: () => ({ write: onPair, flush() {}, close() {} }) })
}

/** The largest lead (in records) of one side over the other after any poll. */
function leadTracker() {
  const positions = { left: 0, right: 0 }
  const tracker = {
    maxLead: 0,
    reached(side, position) {
      positions[side] = position
      const lead = Math.abs(positions.left - positions.right)
      if (lead > tracker.maxLead) tracker.maxLead = lead
    },
  }
  return tracker
}

/** `mode`: 'one' source of both sides, 'two' independent sources, 'aligned' two sources with watermark alignment. */
async function sluice(mode = 'one') {
  const directory = await mkdtemp(path.join(tmpdir(), 'sluice-bench-ij-'))
  let pairs = 0
  let checksum = 0
  const env = StreamExecutionEnvironment.create({ parallelism: 1, checkpointing: { interval: 1000, directory } })
  const progress = leadTracker()
  const sources =
    mode === 'one'
      ? [generatedSource('both', RECORDS), undefined]
      : [generatedSource('left', RECORDS, undefined, progress), generatedSource('right', RECORDS, undefined, progress)]
  const strategy = mode === 'aligned' ? WatermarkStrategy.noWatermarks().withWatermarkAlignment('join', ALIGNMENT_DRIFT) : undefined
  buildJoin(
    env,
    sources[0],
    sources[1],
    (records) => {
      pairs += records.length
      for (const value of records) checksum += value
    },
    strategy,
  )
  const start = performance.now()
  const result = await env.execute('bench-interval-join').result
  const seconds = (performance.now() - start) / 1000
  await rm(directory, { recursive: true, force: true })
  return { recordsPerSecond: (2 * RECORDS) / seconds, pairs, checksum, checkpoints: result.metrics.checkpointsCompleted, maxLead: progress.maxLead }
}

// ------------------------------------------------------------------ state size of an endless join

/** Pauses both sources at each threshold (total records over both sides) until the bench resumes them. */
function createGate(thresholds) {
  const perSide = thresholds.map((t) => t / 2)
  let index = 0
  const positions = { left: 0, right: 0 }
  let waiters = []
  let onBothReached
  return {
    limit: () => (index < perSide.length ? perSide[index] : Number.POSITIVE_INFINITY),
    reached(side, position) {
      if (side === 'both') positions.left = positions.right = position
      else positions[side] = position
      if (index < perSide.length && positions.left >= perSide[index] && positions.right >= perSide[index]) onBothReached?.()
    },
    opened: () => new Promise((resolve) => waiters.push(resolve)),
    waitBoth: () => new Promise((resolve) => (onBothReached = resolve)),
    open() {
      index++
      const pending = waiters
      waiters = []
      for (const resolve of pending) resolve()
    },
  }
}

/**
 * Counts what the join operator buffers, as the savepoint stores it (the way Flink's State Processor API
 * reads a savepoint): the `_metadata` payload (after its 64-byte header) is CBOR; the operator's keyed
 * state is one snapshot per key group (a version byte, then CBOR), whose LEFT_BUFFER / RIGHT_BUFFER
 * entries are `[key, { timestamps, buckets }]` (see TimestampBuckets). Buckets are what Flink would
 * keep a cleanup timer for.
 */
async function bufferedInSavepoint(savepointPath) {
  const file = await readFile(path.join(savepointPath, '_metadata'))
  const payload = decodeValue(new Uint8Array(file.buffer, file.byteOffset + 64, file.byteLength - 64))
  const operators = payload.operators instanceof Map ? Object.fromEntries(payload.operators) : payload.operators
  let elements = 0
  let buckets = 0
  for (const subtask of operators['interval-join'].subtasks) {
    for (const group of subtask.keyed ?? []) {
      const contents = decodeValue(group.bytes.subarray(1))
      for (const state of contents.states) {
        if (state.name !== 'LEFT_BUFFER' && state.name !== 'RIGHT_BUFFER') continue
        for (const [, stored] of state.entries) {
          buckets += stored.buckets.length
          for (const bucket of stored.buckets) elements += bucket.length
        }
      }
    }
  }
  return { elements, buckets }
}

async function stateSize() {
  const directory = await mkdtemp(path.join(tmpdir(), 'sluice-bench-ij-state-'))
  const gate = createGate(STATE_CHECKPOINTS)
  const env = StreamExecutionEnvironment.create({ parallelism: 1, checkpointing: { interval: 1000, directory } })
  buildJoin(env, generatedSource('both', undefined, gate), undefined, () => {})
  const job = env.execute('bench-interval-join-state')
  const sizes = []
  for (const threshold of STATE_CHECKPOINTS) {
    await gate.waitBoth()
    const savepoint = await job.triggerSavepoint(path.join(directory, 'savepoints'))
    sizes.push({ threshold, ...(await bufferedInSavepoint(savepoint)) })
    gate.open()
  }
  await job.cancel()
  await rm(directory, { recursive: true, force: true })
  return sizes
}

// ------------------------------------------------------------------ run

handWritten()
await sluice()
const runs = { reference: [], sluice: [], twoSources: [], aligned: [], twoSourcesLead: [], alignedLead: [] }
let check
for (let i = 0; i < REPETITIONS; i++) {
  const reference = handWritten()
  runs.reference.push(reference.recordsPerSecond)
  const measured = await sluice()
  runs.sluice.push(measured.recordsPerSecond)
  const twoSources = await sluice('two')
  runs.twoSources.push(twoSources.recordsPerSecond)
  runs.twoSourcesLead.push(twoSources.maxLead)
  const aligned = await sluice('aligned')
  runs.aligned.push(aligned.recordsPerSecond)
  runs.alignedLead.push(aligned.maxLead)
  check = { reference, measured, twoSources, aligned }
}
for (const run of [check.measured, check.twoSources, check.aligned]) {
  if (run.pairs !== check.reference.pairs || run.checksum !== check.reference.checksum) {
    throw new Error(`Sluice joined ${run.pairs} pairs (checksum ${run.checksum}), the reference ${check.reference.pairs} (${check.reference.checksum})`)
  }
}
const reference = median(runs.reference)
const measured = median(runs.sluice)
const twoSources = median(runs.twoSources)
const aligned = median(runs.aligned)
print('interval-join', 'records_per_second_checkpoint_1s_vs_hand_written', measured, 'records/s', reference, measured / reference)
print('interval-join', 'records_per_second_checkpoint_1s_vs_hand_written_two_sources', twoSources, 'records/s', reference, twoSources / reference)
print('interval-join', 'records_per_second_checkpoint_1s_vs_hand_written_two_sources_aligned', aligned, 'records/s', reference, aligned / reference)
print('interval-join', 'max_source_lead_records_two_sources', median(runs.twoSourcesLead), 'records', null, null)
print('interval-join', 'max_source_lead_records_two_sources_aligned', median(runs.alignedLead), 'records', null, null)
print('interval-join', 'joined_pairs', check.measured.pairs, 'pairs', check.reference.pairs, 1)
for (const size of await stateSize()) {
  print('interval-join', `buffered_elements_after_${size.threshold}_records`, size.elements, 'elements', null, null)
  print('interval-join', `buffered_buckets_after_${size.threshold}_records`, size.buckets, 'buckets', null, null)
}
