import { describe, expect, it } from 'vitest'
import { StreamExecutionEnvironment } from '../src/api/environment.js'
import { type KeyedProcessFunction, OutputTag, type ProcessFunction } from '../src/api/functions.js'
import type { Sink } from '../src/api/sink.js'
import type { AggregateFunction } from '../src/api/state.js'
import { WatermarkStrategy } from '../src/api/watermark-strategy.js'
import type { TimeWindow } from '../src/api/windowing/time-window.js'
import { TumblingEventTimeWindows } from '../src/api/windowing/tumbling-event-time-windows.js'
import { CollectSink } from '../src/connectors/collect-sink.js'
import { datagenSource } from '../src/connectors/datagen-source.js'
import { ConfigError } from '../src/errors.js'
import { type ScriptStep, scriptedSource } from './__fixtures__/scripted-source.js'

/** A sink that shows records at once (not transactional): for jobs that never end. */
function directSink<T>(): Sink<T> & { results: T[] } {
  const results: T[] = []
  return { results, createWriter: () => ({ write: (records: T[]) => void results.push(...records), flush() {}, close() {} }) }
}

/** Waits for `condition`. The deadline only turns a hang into a failure: generous, as a loaded CI machine can stall for seconds. */
const until = async (condition: () => boolean, timeoutMs = 30_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const count: AggregateFunction<unknown, number, number> = {
  createAccumulator: () => 0,
  add: (_value, accumulator) => accumulator + 1,
  getResult: (accumulator) => accumulator,
  merge: (a, b) => a + b,
}

/** Punctuated monotonous watermarks: `timestamp - 1` after every record. */
const punctuatedAscending = <T>() =>
  WatermarkStrategy.forGenerator<T>(() => ({
    onEvent: (_event, timestamp, output) => output.emitWatermark(timestamp - 1),
    onPeriodicEmit: () => {},
  }))

describe('watermarks per source split', () => {
  /**
   * One reader with two splits whose timestamps both run 0..49, read 25 records of one split, then 25
   * of the other. With per-split generators the source's watermark is the minimum over the splits,
   * so nothing is late; one generator for the whole reader (assignTimestampsAndWatermarks) runs
   * ahead with the first split and makes most of the second split's records late.
   */
  const run = async (perSplit: boolean) => {
    const main = new CollectSink<string>()
    const late = new CollectSink<number>()
    const lateTag = new OutputTag<number>('late')
    const env = StreamExecutionEnvironment.create({ parallelism: 2, autoWatermarkInterval: 0, onWarning: () => {} })
    const options = { generator: (i: number) => i, count: 100, splits: 2, batchSize: 25, timestamp: (_v: number, i: number) => i % 50 }
    // One source subtask: one reader with both splits.
    const numbers = perSplit
      ? env.fromSource(datagenSource(options), 'numbers', { watermarkStrategy: punctuatedAscending<number>() }).setParallelism(1)
      : env.datagen(options).setParallelism(1).assignTimestampsAndWatermarks(punctuatedAscending<number>()).setParallelism(1)
    const windowed = numbers
      .keyBy(() => 'all')
      .window(TumblingEventTimeWindows.of(10))
      .sideOutputLateData(lateTag)
      .aggregate(count, { process: (_key, context, counts, out) => out.collect(`${(context.window() as TimeWindow).start}:${counts[0]}`) })
    windowed.sinkTo(main)
    windowed.getSideOutput(lateTag).sinkTo(late)
    await env.execute('per-split').result
    return { main: [...main.results].sort(), late: late.results.length }
  }

  it('with a strategy at the source, the minimum over splits: no record is late', async () => {
    const { main, late } = await run(true)
    expect(late).toBe(0)
    expect(main).toEqual(['0:20', '10:20', '20:20', '30:20', '40:20'])
  })

  it('with one generator per subtask, the second split is late (the reason for per-split watermarks)', async () => {
    const { main, late } = await run(false)
    expect(late).toBeGreaterThan(0)
    const counted = main.reduce((sum, entry) => sum + Number(entry.split(':')[1]), 0)
    expect(counted + late).toBe(100)
  })
})

describe('idle inputs', () => {
  const events: ScriptStep<number>[] = [
    { value: 1, timestamp: 1 },
    { value: 2, timestamp: 15 },
    { value: 3, timestamp: 27 },
    { watermark: 25 },
    // a record after the last watermark: the scripted reader drops the watermark of a finished script
    { value: 4, timestamp: 28 },
  ]

  /** Source A plays `events` and stays open; source B never produces anything. */
  const start = (idleness: boolean) => {
    const sink = directSink<string>()
    const env = StreamExecutionEnvironment.create({ parallelism: 1, autoWatermarkInterval: 10, onWarning: () => {} })
    const active = env.fromSource(scriptedSource([events], { unbounded: true }), 'active')
    const silentStrategy = idleness ? WatermarkStrategy.forMonotonousTimestamps<number>().withIdleness(50) : WatermarkStrategy.forMonotonousTimestamps<number>()
    const silent = env.fromSource(scriptedSource<number>([[]], { unbounded: true }), 'silent', { watermarkStrategy: silentStrategy })
    active
      .union(silent)
      .keyBy(() => 0)
      .window(TumblingEventTimeWindows.of(10))
      .aggregate(count, (_key, window, counts, out) => out.collect(`[${window.start},${window.end}):${counts[0]}`))
      .sinkTo(sink)
    return { job: env.execute(`idle-${idleness}`), sink }
  }

  it('an input without records holds the watermark back: no window fires', async () => {
    const { job, sink } = start(false)
    await sleep(400)
    expect(sink.results).toEqual([])
    await job.cancel()
  })

  it('withIdleness: the silent input goes idle and no longer holds the watermark back', async () => {
    const { job, sink } = start(true)
    await until(() => sink.results.length >= 2)
    await sleep(100)
    // watermark 25 from the active source: [0,10) and [10,20) fire, [20,30) does not
    expect(sink.results).toEqual(['[0,10):1', '[10,20):1'])
    await job.cancel()
  })
})

describe('watermark rules', () => {
  it('an operator with two inputs takes the minimum of their watermarks', async () => {
    const sink = directSink<string>()
    const env = StreamExecutionEnvironment.create({ parallelism: 1, onWarning: () => {} })
    const fast = env.fromSource(scriptedSource<number>([[{ value: 1, timestamp: 5 }, { value: 2, timestamp: 55 }, { watermark: 100 }, { value: 4, timestamp: 101 }]], { unbounded: true }), 'fast')
    const slow = env.fromSource(scriptedSource<number>([[{ value: 3, timestamp: 8 }, { watermark: 20 }, { value: 5, timestamp: 21 }]], { unbounded: true }), 'slow')
    fast
      .union(slow)
      .keyBy(() => 0)
      .window(TumblingEventTimeWindows.of(10))
      .aggregate(count, (_key, window, counts, out) => out.collect(`[${window.start},${window.end}):${counts[0]}`))
      .sinkTo(sink)
    const job = env.execute('min-of-inputs')
    await until(() => sink.results.length >= 1)
    await sleep(200)
    expect(sink.results).toEqual(['[0,10):2']) // [50,60) waits for the slow input (watermark 20)
    await job.cancel()
  })

  it('periodic watermarks: emitted every autoWatermarkInterval; 0 turns them off (only the end of input fires)', async () => {
    const runUnbounded = async (autoWatermarkInterval: number, fires: boolean) => {
      const sink = directSink<string>()
      const env = StreamExecutionEnvironment.create({ parallelism: 1, autoWatermarkInterval, onWarning: () => {} })
      env
        .fromSource(scriptedSource<number>([[{ value: 1, timestamp: 3 }, { value: 2, timestamp: 30 }]], { unbounded: true }), 'numbers', {
          watermarkStrategy: WatermarkStrategy.forBoundedOutOfOrderness(5),
        })
        .keyBy(() => 0)
        .window(TumblingEventTimeWindows.of(10))
        .aggregate(count, (_key, window, counts, out) => out.collect(`[${window.start},${window.end}):${counts[0]}`))
        .sinkTo(sink)
      const job = env.execute(`periodic-${autoWatermarkInterval}`)
      if (fires) await until(() => sink.results.length > 0)
      await sleep(300)
      await job.cancel()
      return sink.results
    }
    // max 30 - 5 - 1 = 24: [0,10) fires, [30,40) does not
    expect(await runUnbounded(20, true)).toEqual(['[0,10):1'])
    expect(await runUnbounded(0, false)).toEqual([])
    expect(() => StreamExecutionEnvironment.create({ autoWatermarkInterval: -1 })).toThrow(ConfigError)
    expect(() => StreamExecutionEnvironment.create({ autoWatermarkInterval: 1.5 })).toThrow(/autoWatermarkInterval/)
  })
})

/** What one generator instance of {@link recordingStrategy} was asked to do and what it emitted. */
interface GeneratorLog {
  events: number
  periodicCalls: number
  emitted: number[]
}

/**
 * A user generator (`forGenerator`) that logs its calls: periodic (`maxTimestamp - 1` in
 * `onPeriodicEmit`, nothing in `onEvent`) or punctuated (`timestamp - 1` in `onEvent`). `logs` gets
 * one entry per generator instance: a source has one per split and one for the reader as a whole.
 */
function recordingStrategy(mode: 'periodic' | 'punctuated', logs: GeneratorLog[]): WatermarkStrategy<number> {
  return WatermarkStrategy.forGenerator<number>(() => {
    const log: GeneratorLog = { events: 0, periodicCalls: 0, emitted: [] }
    logs.push(log)
    let maxTimestamp = Number.NEGATIVE_INFINITY
    return {
      onEvent(_event, timestamp, output) {
        log.events++
        maxTimestamp = Math.max(maxTimestamp, timestamp)
        if (mode === 'punctuated') {
          log.emitted.push(timestamp - 1)
          output.emitWatermark(timestamp - 1)
        }
      },
      onPeriodicEmit(output) {
        log.periodicCalls++
        if (mode === 'periodic' && maxTimestamp !== Number.NEGATIVE_INFINITY) {
          log.emitted.push(maxTimestamp - 1)
          output.emitWatermark(maxTimestamp - 1)
        }
      },
    }
  })
}

/** Passes on `value@watermark`: the watermark the downstream operator had when the record arrived. */
const withWatermark: ProcessFunction<number, { value: number; watermark: number }> = {
  processElement: (value, context, out) => out.collect({ value, watermark: context.currentWatermark() }),
}

/** An endless source of 0, 1, 2, ... with timestamp = value, slow enough that the task mostly waits on its clock. */
const slowNumbers = () => datagenSource({ generator: (i: number) => i, recordsPerSecond: 200, splits: 1, timestamp: (_v: number, i: number) => i })

/**
 * Runs `build`'s job until it delivered records, then counts each generator's `onPeriodicEmit` calls
 * over `windowMs` of wall time, cancels, and returns the calls, the measured wall time and what
 * reached the sink.
 */
async function countPeriodicCalls(
  options: { autoWatermarkInterval?: number },
  build: (env: StreamExecutionEnvironment, logs: GeneratorLog[]) => { sinkTo(sink: Sink<{ value: number; watermark: number }>): unknown },
  windowMs: number,
) {
  const logs: GeneratorLog[] = []
  const sink = directSink<{ value: number; watermark: number }>()
  const env = StreamExecutionEnvironment.create({ parallelism: 1, onWarning: () => {}, ...options })
  build(env, logs).sinkTo(sink)
  const job = env.execute('periodic-calls')
  await until(() => sink.results.length > 0)
  const before = logs.map((log) => log.periodicCalls)
  const startedAt = Date.now()
  await sleep(windowMs)
  const calls = logs.map((log, index) => log.periodicCalls - (before[index] ?? 0))
  const elapsedMs = Date.now() - startedAt
  await job.cancel()
  return { logs, calls, elapsedMs, received: sink.results }
}

/**
 * Every watermark the downstream operator saw was emitted by the generator that saw the records,
 * in order, and is below the record it came with (the generator emits `max - 1` of records before it).
 */
function expectWatermarksFrom(log: GeneratorLog, received: { value: number; watermark: number }[]): void {
  const seen = received.map((r) => r.watermark).filter((watermark) => watermark !== Number.NEGATIVE_INFINITY)
  expect(seen.length).toBeGreaterThan(0)
  const emitted = new Set(log.emitted)
  for (const watermark of seen) expect(emitted.has(watermark)).toBe(true)
  expect(seen).toEqual([...seen].sort((a, b) => a - b))
  for (const { value, watermark } of received) expect(value).toBeGreaterThan(watermark)
}

describe('periodic watermark emission of a running job', () => {
  it('a user generator at the source gets onPeriodicEmit about every autoWatermarkInterval ms; its watermarks reach the next operator', async () => {
    const { logs, calls, elapsedMs, received } = await countPeriodicCalls(
      { autoWatermarkInterval: 50 },
      (env, logs) => env.fromSource(slowNumbers(), 'numbers', { watermarkStrategy: recordingStrategy('periodic', logs) }).process(withWatermark),
      1000,
    )
    // ~20 calls in 1 s at 50 ms; loose bounds for a loaded machine. The upper bound is what 50 ms allows at most.
    for (const n of calls) {
      expect(n).toBeGreaterThanOrEqual(8)
      expect(n).toBeLessThanOrEqual(Math.floor(elapsedMs / 50) + 2)
    }
    const [fed, ...others] = logs.filter((log) => log.events > 0)
    expect(others).toEqual([])
    expectWatermarksFrom(fed as GeneratorLog, received)
  })

  it('without autoWatermarkInterval in the config the interval is 200 ms', async () => {
    const { calls, elapsedMs } = await countPeriodicCalls(
      {},
      (env, logs) => env.fromSource(slowNumbers(), 'numbers', { watermarkStrategy: recordingStrategy('periodic', logs) }).process(withWatermark),
      1200,
    )
    // ~6 calls in 1.2 s; 50 ms would give ~24. The upper bound is what 200 ms allows at most.
    expect(calls.length).toBeGreaterThan(0)
    for (const n of calls) {
      expect(n).toBeGreaterThanOrEqual(2)
      expect(n).toBeLessThanOrEqual(Math.floor(elapsedMs / 200) + 2)
    }
  })

  it('autoWatermarkInterval 0: onPeriodicEmit is never called, watermarks emitted in onEvent still flow', async () => {
    const { logs, received } = await countPeriodicCalls(
      { autoWatermarkInterval: 0 },
      (env, logs) => env.fromSource(slowNumbers(), 'numbers', { watermarkStrategy: recordingStrategy('punctuated', logs) }).process(withWatermark),
      400,
    )
    expect(logs.length).toBeGreaterThan(0)
    expect(logs.map((log) => log.periodicCalls)).toEqual(logs.map(() => 0))
    const [fed, ...others] = logs.filter((log) => log.events > 0)
    expect(others).toEqual([])
    const generator = fed as GeneratorLog
    // onEvent emitted `timestamp - 1` for every record, in order, and those watermarks reached the next operator
    expect(generator.emitted.slice(0, received.length)).toEqual(received.map(({ value }) => value - 1))
    expectWatermarksFrom(generator, received)
  })

  it('assignTimestampsAndWatermarks: its generator gets onPeriodicEmit every autoWatermarkInterval ms; its watermarks reach the next operator', async () => {
    const { logs, calls, elapsedMs, received } = await countPeriodicCalls(
      { autoWatermarkInterval: 50 },
      (env, logs) => env.fromSource(slowNumbers(), 'numbers').assignTimestampsAndWatermarks(recordingStrategy('periodic', logs)).process(withWatermark),
      1000,
    )
    // one subtask: one generator
    expect(logs.length).toBe(1)
    const n = calls[0] as number
    expect(n).toBeGreaterThanOrEqual(8)
    expect(n).toBeLessThanOrEqual(Math.floor(elapsedMs / 50) + 2)
    expectWatermarksFrom(logs[0] as GeneratorLog, received)
  })
})

describe('assignTimestampsAndWatermarks', () => {
  it('replaces the watermarks from upstream (only the end of input passes)', async () => {
    const run = async (reassign: boolean) => {
      const sink = directSink<string>()
      const env = StreamExecutionEnvironment.create({ parallelism: 1, onWarning: () => {} })
      let stream = env.fromSource(
        scriptedSource<number>([[{ value: 1, timestamp: 1 }, { watermark: 1000 }, { value: 2, timestamp: 5 }]], { unbounded: true }),
        'upstream',
      )
      if (reassign) stream = stream.assignTimestampsAndWatermarks(WatermarkStrategy.noWatermarks<number>())
      stream
        .keyBy(() => 0)
        .window(TumblingEventTimeWindows.of(10))
        .aggregate(count, (_key, window, counts, out) => out.collect(`[${window.start},${window.end}):${counts[0]}`))
        .sinkTo(sink)
      const job = env.execute(`reassign-${reassign}`)
      // Wait for the one result where there is one; else give the job time to (wrongly) emit one.
      if (!reassign) await until(() => sink.results.length > 0)
      await sleep(300)
      await job.cancel()
      return sink.results
    }
    // upstream watermark 1000 fires [0,10) with the first element; the second (5) is then late
    expect(await run(false)).toEqual(['[0,10):1'])
    expect(await run(true)).toEqual([])
  })
})

describe('timers in process functions, driven by watermarks', () => {
  it('event-time timers fire when the watermark passes them, in timestamp order; a timer made due while firing fires in the same advance', async () => {
    const sink = new CollectSink<string>()
    const env = StreamExecutionEnvironment.create({ parallelism: 2, onWarning: () => {} })
    const fn: KeyedProcessFunction<string, { key: string }, string> = {
      processElement(value, context, out) {
        const timestamp = context.timestamp() as number
        context.timerService().registerEventTimeTimer(timestamp + 10)
        out.collect(`${value.key} element@${timestamp} wm=${context.currentWatermark()}`)
      },
      onTimer(timestamp, context, out) {
        out.collect(`${context.getCurrentKey()} timer@${timestamp} wm=${context.currentWatermark()}`)
        // already due: fires in the same watermark advance, right after
        if (timestamp % 2 === 1) context.timerService().registerEventTimeTimer(timestamp - 1)
      },
    }
    const steps: ScriptStep<{ key: string }>[] = [
      { value: { key: 'a' }, timestamp: 1 },
      { value: { key: 'b' }, timestamp: 4 },
      { watermark: 12 },
      { value: { key: 'a' }, timestamp: 13 },
      { watermark: 30 },
      { value: { key: 'c' }, timestamp: 31 },
    ]
    env
      .fromSource(scriptedSource([steps]), 'script')
      .setParallelism(1)
      .keyBy((value) => value.key)
      .process(fn)
      .sinkTo(sink)
    await env.execute('timers').result
    const byKey = (key: string) => sink.results.filter((line) => line.startsWith(key))
    expect(byKey('a')).toEqual([
      'a element@1 wm=-Infinity',
      'a timer@11 wm=12',
      'a timer@10 wm=12',
      'a element@13 wm=12',
      'a timer@23 wm=30',
      'a timer@22 wm=30',
    ])
    expect(byKey('b')).toEqual(['b element@4 wm=-Infinity', 'b timer@14 wm=30'])
  })

  it('processing-time timers fire on the wall clock', async () => {
    const onClock: KeyedProcessFunction<string, string, string> = {
      processElement(_value, context) {
        context.timerService().registerProcessingTimeTimer(context.timerService().currentProcessingTime() + 30)
      },
      onTimer(_timestamp, context, out) {
        out.collect(`${context.getCurrentKey()} ${context.timeDomain()}`)
      },
    }
    const sink = directSink<string>()
    const env = StreamExecutionEnvironment.create({ parallelism: 1, onWarning: () => {} })
    env
      .fromSource(scriptedSource<string>([[{ value: 'x', timestamp: 0 }]], { unbounded: true }), 'one')
      .keyBy((value) => value)
      .process(onClock)
      .sinkTo(sink)
    const job = env.execute('processing-timers')
    await until(() => sink.results.length === 1)
    expect(sink.results).toEqual(['x PROCESSING_TIME'])
    await job.cancel()
  })
})
