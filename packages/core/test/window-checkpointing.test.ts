import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { StreamExecutionEnvironment } from '../src/api/environment.js'
import { type AggregateFunction, ValueStateDescriptor } from '../src/api/state.js'
import { WatermarkStrategy } from '../src/api/watermark-strategy.js'
import { CountTrigger } from '../src/api/windowing/count-trigger.js'
import { EventTimeSessionWindows } from '../src/api/windowing/event-time-session-windows.js'
import { GlobalWindows } from '../src/api/windowing/global-windows.js'
import { PurgingTrigger } from '../src/api/windowing/purging-trigger.js'
import { TumblingEventTimeWindows } from '../src/api/windowing/tumbling-event-time-windows.js'
import { TumblingProcessingTimeWindows } from '../src/api/windowing/tumbling-processing-time-windows.js'
import { RestartStrategies } from '../src/checkpoint/restart-strategy.js'
import { CollectSink } from '../src/connectors/collect-sink.js'
import { datagenSource } from '../src/connectors/datagen-source.js'
import { scriptedSource } from './__fixtures__/scripted-source.js'

/**
 * Window state in checkpoints: contents, trigger state (count), merging sets (sessions) and pending
 * timers survive a stop-with-savepoint and a resume at another parallelism, and an in-process restart
 * after a failure, with every window result emitted exactly once with its exact count.
 */

const KEYS = 7
const COUNT = 14_000
const BURST = 700
interface Event {
  seq: number
  key: string
}
const event = (seq: number): Event => ({ seq, key: `k${seq % KEYS}` })
/** Per key 70 ms apart within a burst of 700 records, bursts 100 s apart: sessions (gap 1 s) are the bursts. */
const timestampOf = (seq: number) => seq * 10 + Math.floor(seq / BURST) * 100_000

/** How many count windows of a key fired so far: keyed state next to the window state. */
const firedDescriptor = new ValueStateDescriptor<number>('fired')

const count: AggregateFunction<Event, number, number> = {
  createAccumulator: () => 0,
  add: (_event, accumulator) => accumulator + 1,
  getResult: (accumulator) => accumulator,
  merge: (a, b) => a + b,
}

function expectedResults(): { tumbling: string[]; sessions: string[]; counts: string[] } {
  const tumbling = new Map<string, number>()
  const sessions = new Map<string, { start: number; end: number; count: number }>()
  const perKey = new Map<string, number>()
  const counts: string[] = []
  for (let seq = 0; seq < COUNT; seq++) {
    const { key } = event(seq)
    const ts = timestampOf(seq)
    const window = `${key}:${Math.floor(ts / 1000) * 1000}`
    tumbling.set(window, (tumbling.get(window) ?? 0) + 1)
    const burst = `${key}:${Math.floor(seq / BURST)}`
    const session = sessions.get(burst) ?? { start: ts, end: ts + 1000, count: 0 }
    session.end = ts + 1000
    session.count++
    sessions.set(burst, session)
    const n = (perKey.get(key) ?? 0) + 1
    perKey.set(key, n)
    if (n % 50 === 0) counts.push(`${key}:${n / 50}`)
  }
  return {
    tumbling: [...tumbling].map(([window, n]) => `${window}:${n}`).sort(),
    sessions: [...sessions].map(([burst, s]) => `${burst.split(':')[0]}:[${s.start},${s.end}):${s.count}`).sort(),
    counts: counts.sort(),
  }
}

let directory: string
beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'sluice-window-chk-'))
})
afterEach(async () => {
  await rm(directory, { recursive: true, force: true })
})

/**
 * Two injected failures: each is armed by the test once checkpoints completed since the last restart,
 * and forced when not armed after 30 % of the input was processed since the last one, so that on a slow
 * (loaded) machine the bounded input cannot end before both happened (a restart replays at least the
 * remaining 70 %).
 */
interface InjectedFailures {
  armed: boolean
  /** Failures thrown so far, and how many of them were forced. */
  fired: number
  forced: number
  /** Records the failing map saw since the last failure (all subtasks). */
  processed: number
}
const INJECTED_FAILURES = 2
const FORCE_FAILURE_AFTER = Math.floor(COUNT * 0.3)

interface Sinks {
  tumbling: CollectSink<string>
  sessions: CollectSink<string>
  counts: CollectSink<string>
}

function build(
  sinks: Sinks,
  parallelism: number,
  options: { fromSavepoint?: string; recordsPerSecond: number; failure?: InjectedFailures },
) {
  const env = StreamExecutionEnvironment.create({
    parallelism,
    checkpointing: { interval: 50, directory },
    restartStrategy: RestartStrategies.fixedDelay(3, 10),
    autoWatermarkInterval: 20,
    onWarning: () => {},
    ...(options.fromSavepoint ? { fromSavepoint: options.fromSavepoint } : {}),
  })
  const events = env
    .fromSource(
      datagenSource({ generator: event, count: COUNT, recordsPerSecond: options.recordsPerSecond, timestamp: (_e, seq) => timestampOf(seq), splits: 4 }),
      'events',
      { watermarkStrategy: WatermarkStrategy.forMonotonousTimestamps<Event>() },
    )
    .uid('events')
    .map((e) => {
      const failure = options.failure
      if (failure !== undefined && failure.fired < INJECTED_FAILURES) {
        failure.processed++
        const forced = failure.processed >= FORCE_FAILURE_AFTER
        if (failure.armed || forced) {
          if (!failure.armed) failure.forced++
          failure.armed = false
          failure.fired++
          failure.processed = 0
          throw new Error(`injected failure at seq ${e.seq}`)
        }
      }
      return e
    })
    .uid('maybe-fail')
  const keyed = events.keyBy((e) => e.key)
  keyed
    .window(TumblingEventTimeWindows.of(1000))
    .aggregate(count, (key, window, counts, out) => out.collect(`${key}:${window.start}:${counts[0]}`))
    .uid('tumbling')
    .sinkTo(sinks.tumbling)
    .uid('tumbling-sink')
  keyed
    .window(EventTimeSessionWindows.withGap(1000))
    .aggregate(count, (key, window, counts, out) => out.collect(`${key}:[${window.start},${window.end}):${counts[0]}`))
    .uid('sessions')
    .sinkTo(sinks.sessions)
    .uid('sessions-sink')
  keyed
    .window(GlobalWindows.create())
    .trigger(PurgingTrigger.of(CountTrigger.of(50)))
    .process<string>({
      process(key, context, elements, out) {
        const fired = context.globalState().getState(firedDescriptor)
        const next = (fired.value() ?? 0) + 1
        fired.update(next)
        if (elements.length !== 50) throw new Error(`count window of ${elements.length}`)
        out.collect(`${key}:${next}`)
      },
    })
    .uid('counts')
    .sinkTo(sinks.counts)
    .uid('counts-sink')
  return env.execute('window-rescale')
}

const newSinks = (): Sinks => ({ tumbling: new CollectSink(), sessions: new CollectSink(), counts: new CollectSink() })
const until = async (condition: () => boolean) => {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2))
}
const waitFor = async (job: { metrics(): { recordsFromSources: number } }, records: number) => {
  while (job.metrics().recordsFromSources < records) await new Promise((resolve) => setTimeout(resolve, 5))
}

describe('window state across checkpoints', () => {
  it('stop-with-savepoint, then resume at another parallelism (2 → 3 → 1): every window result exactly once, exact counts', async () => {
    const sinks = newSinks()
    const first = build(sinks, 2, { recordsPerSecond: 20_000 })
    await waitFor(first, 4000)
    const savepoint1 = await first.stopWithSavepoint()
    await first.result
    const afterFirst = sinks.tumbling.results.length
    expect(afterFirst).toBeGreaterThan(0)

    const second = build(sinks, 3, { recordsPerSecond: 20_000, fromSavepoint: savepoint1 })
    await waitFor(second, 4000)
    const savepoint2 = await second.stopWithSavepoint()
    await second.result
    expect(sinks.tumbling.results.length).toBeGreaterThan(afterFirst)

    const third = build(sinks, 1, { recordsPerSecond: 50_000, fromSavepoint: savepoint2 })
    expect((await third.result).state).toBe('FINISHED')

    const expected = expectedResults()
    expect([...sinks.tumbling.results].sort()).toEqual(expected.tumbling)
    expect([...sinks.sessions.results].sort()).toEqual(expected.sessions)
    expect([...sinks.counts.results].sort()).toEqual(expected.counts)
  })

  it('restarts from the latest checkpoint after failures: window results exactly once', async () => {
    const sinks = newSinks()
    // Each failure is armed once checkpoints with window state completed since the last restart (or
    // forced later in the input, see InjectedFailures).
    const failure: InjectedFailures = { armed: false, fired: 0, forced: 0, processed: 0 }
    const job = build(sinks, 2, { recordsPerSecond: 10_000, failure })
    while (failure.fired < INJECTED_FAILURES) {
      const fired = failure.fired
      const checkpoints = job.metrics().checkpointsCompleted
      await until(() => failure.fired > fired || job.metrics().checkpointsCompleted >= checkpoints + 2)
      if (failure.fired === fired) failure.armed = true
      await until(() => failure.fired > fired)
    }
    const result = await job.result
    expect(result.metrics.restarts).toBe(2)
    // Armed failures come after two checkpoints since the restart; a forced one (a slow machine) after some.
    expect(result.metrics.restoredCheckpointId).toBeGreaterThan(failure.forced === 0 ? 2 : 0)
    const expected = expectedResults()
    expect([...sinks.tumbling.results].sort()).toEqual(expected.tumbling)
    expect([...sinks.sessions.results].sort()).toEqual(expected.sessions)
    expect([...sinks.counts.results].sort()).toEqual(expected.counts)
  })
})

const PT_KEYS = 4
const PT_PER_KEY = 600
const PT_WINDOW_MS = 300

/**
 * Counts per key in TumblingProcessingTimeWindows.of(PT_WINDOW_MS), as `key:start:end:count`. The
 * events come from a bounded datagen (PT_PER_KEY per key), unioned with a source that never ends so
 * that the job keeps running after the input and the wall clock fires the last windows (a finished
 * job drops processing-time windows still open, as in Flink).
 */
function buildProcessingTime(sink: CollectSink<string>, parallelism: number, fromSavepoint?: string) {
  const env = StreamExecutionEnvironment.create({
    parallelism,
    checkpointing: { interval: 50, directory },
    onWarning: () => {},
    ...(fromSavepoint ? { fromSavepoint } : {}),
  })
  const events = env
    .fromSource(
      datagenSource({ generator: (seq: number): Event => ({ seq, key: `k${seq % PT_KEYS}` }), count: PT_KEYS * PT_PER_KEY, recordsPerSecond: 3000, splits: 4 }),
      'events',
    )
    .uid('events')
  const endless = env.fromSource(scriptedSource<Event>([[]], { unbounded: true }), 'endless').uid('endless')
  events
    .union(endless)
    .keyBy((e) => e.key)
    .window(TumblingProcessingTimeWindows.of(PT_WINDOW_MS))
    .aggregate(count, (key, window, counts, out) => out.collect(`${key}:${window.start}:${window.end}:${counts[0]}`))
    .uid('processing-time-counts')
    .sinkTo(sink)
    .uid('processing-time-sink')
  return env.execute('processing-time-window-savepoint')
}

/** Sum of the window counts per key. */
const totalsPerKey = (results: readonly string[]) => {
  const totals: Record<string, number> = {}
  for (const line of results) {
    const [key, , , n] = line.split(':')
    totals[key as string] = (totals[key as string] ?? 0) + Number(n)
  }
  return totals
}

describe('processing-time window state across a savepoint', () => {
  /**
   * Where the wall clock cuts the input into windows differs per run, so the windows themselves are
   * not fixed; what is: every record is counted in exactly one window result, including the records
   * in windows still open at the savepoint, which the resumed job restores and fires.
   */
  it('stop-with-savepoint mid-stream, resume at parallelism 3: the window counts of each key add up to its records exactly', async () => {
    const sink = new CollectSink<string>()
    const first = buildProcessingTime(sink, 2)
    await waitFor(first, 900)
    const savepoint = await first.stopWithSavepoint()
    await first.result
    const afterFirst = sink.results.length
    // Let the windows open at the savepoint end on the wall clock: any of them in the resumed job's output was restored.
    await new Promise((resolve) => setTimeout(resolve, PT_WINDOW_MS + 50))
    const resumedAt = Date.now()

    const second = buildProcessingTime(sink, 3, savepoint)
    const expected = Object.fromEntries(Array.from({ length: PT_KEYS }, (_, k) => [`k${k}`, PT_PER_KEY]))
    const complete = () => Object.values(totalsPerKey(sink.results)).reduce((a, b) => a + b, 0) >= PT_KEYS * PT_PER_KEY
    const deadline = Date.now() + 30_000
    while (!complete() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
    // One more window and some checkpoints, so that a result counted twice would show.
    await new Promise((resolve) => setTimeout(resolve, PT_WINDOW_MS + 200))
    await second.cancel()

    expect(totalsPerKey(sink.results)).toEqual(expected)
    // Each [start, end) of a key fires once, also across the savepoint (timers fire once the clock has
    // left the window, as Flink's 1 ms delay: a record in its last ms cannot open it a second time).
    const windows = sink.results.map((line) => line.split(':').slice(0, 3).join(':'))
    expect(windows.filter((window, index) => windows.indexOf(window) !== index)).toEqual([])
    // the resumed job fired windows that had ended before it started: their contents came from the savepoint
    const restored = sink.results.slice(afterFirst).filter((line) => Number(line.split(':')[2]) <= resumedAt)
    expect(restored.length).toBeGreaterThan(0)
  })
})
