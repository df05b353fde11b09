import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { StreamExecutionEnvironment } from '../src/api/environment.js'
import type { ProcessFunction } from '../src/api/functions.js'
import type { Sink } from '../src/api/sink.js'
import { WatermarkStrategy } from '../src/api/watermark-strategy.js'
import { CollectSink } from '../src/connectors/collect-sink.js'
import { datagenSource } from '../src/connectors/datagen-source.js'
import { ConfigError } from '../src/errors.js'
import { type ScriptStep, scriptedSource } from './__fixtures__/scripted-source.js'

interface Event {
  readonly side: 'fast' | 'slow'
  readonly i: number
  readonly k: number
}

/** Records per poll of the sources: the slack alignment allows on top of the drift (it acts between polls). */
const BATCH = 64

/** Waits for `condition`. The deadline only turns a hang into a failure: generous, as a loaded CI machine can stall for seconds. */
const until = async (condition: () => boolean, timeoutMs = 30_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A sink that shows records at once (not transactional): for jobs that are cancelled. */
function directSink<T>(): Sink<T> & { results: T[] } {
  const results: T[] = []
  return { results, createWriter: () => ({ write: (records: T[]) => void results.push(...records), flush() {}, close() {} }) }
}

/** Punctuated monotonous watermarks, `timestamp - 1` after every record: the source's watermark follows each poll exactly. */
const punctuated = () =>
  WatermarkStrategy.forGenerator<Event>(() => ({
    onEvent: (_event, timestamp, output) => output.emitWatermark(timestamp - 1),
    onPeriodicEmit: () => {},
  }))

/** `count` events of one side with timestamps `i * step` (ms), one split, `BATCH` records per poll. */
const events = (side: Event['side'], count: number, step: number) =>
  datagenSource<Event>({ generator: (i) => ({ side, i, k: i % 10 }), count, timestamp: (_event, i) => i * step, batchSize: BATCH, splits: 1 })

/**
 * Watches the sources from process functions chained right behind them (same task, so they see each
 * poll as it happens): the highest timestamp each side emitted, and at every fast record its lead over
 * the slow side in event time.
 */
class LeadObserver {
  readonly max = { fast: Number.NEGATIVE_INFINITY, slow: Number.NEGATIVE_INFINITY }
  readonly count = { fast: 0, slow: 0 }
  maxLead = Number.NEGATIVE_INFINITY

  on(side: Event['side']): ProcessFunction<Event, Event> {
    return {
      processElement: (event, context, out) => {
        const timestamp = context.timestamp() as number
        this.count[side]++
        if (timestamp > this.max[side]) this.max[side] = timestamp
        if (side === 'fast' && this.max.slow > Number.NEGATIVE_INFINITY) this.maxLead = Math.max(this.maxLead, timestamp - this.max.slow)
        out.collect(event)
      },
    }
  }
}

describe('WatermarkStrategy.withWatermarkAlignment options', () => {
  it('rejects bad options with an error naming the option', () => {
    const base = WatermarkStrategy.forMonotonousTimestamps<number>()
    const rejects = (run: () => unknown, pathAndMessage: RegExp) => {
      expect(run).toThrow(ConfigError)
      expect(run).toThrow(pathAndMessage)
    }
    rejects(() => base.withWatermarkAlignment('', 1000), /withWatermarkAlignment\.group: expected a non-empty string .*got ''/)
    rejects(() => base.withWatermarkAlignment(7 as unknown as string, 1000), /withWatermarkAlignment\.group: .*got 7/)
    rejects(() => base.withWatermarkAlignment('g', -1), /withWatermarkAlignment\.maxAllowedDrift: expected a number of ms >= 0, got -1/)
    rejects(() => base.withWatermarkAlignment('g', Number.NaN), /withWatermarkAlignment\.maxAllowedDrift: .*got NaN/)
    rejects(() => base.withWatermarkAlignment('g', Number.POSITIVE_INFINITY), /maxAllowedDrift: .*got Infinity/)
    rejects(() => base.withWatermarkAlignment('g', '10' as unknown as number), /maxAllowedDrift: .*got '10'/)
    rejects(() => base.withWatermarkAlignment('g', 10, 0), /withWatermarkAlignment\.updateInterval: expected a number of ms > 0, got 0/)
  })

  it('keeps the parameters through the other with-calls (defaults: updateInterval 1000)', () => {
    const strategy = WatermarkStrategy.forBoundedOutOfOrderness<number>(5)
      .withWatermarkAlignment('joins', 2000)
      .withTimestampAssigner((n) => n)
      .withIdleness(100)
    expect(strategy.alignmentParams).toEqual({ group: 'joins', maxAllowedDrift: 2000, updateInterval: 1000 })
    expect(WatermarkStrategy.noWatermarks().alignmentParams).toBeUndefined()
  })
})

describe('watermark alignment of two sources with very different event-time speeds', () => {
  // Both sources cover event time [0, 50 000): the slow one 1 ms per record, the fast one 50 ms.
  const FAST_STEP = 50
  const FAST = 1000
  const SLOW = FAST * FAST_STEP
  const DRIFT = 2000

  /** fast ⋈ slow on `k`, slow within ±25 ms of fast: about 5 pairs per fast record. */
  const run = async (aligned: boolean) => {
    const observer = new LeadObserver()
    const sink = new CollectSink<string>()
    const env = StreamExecutionEnvironment.create({ parallelism: 1, onWarning: () => {} })
    const strategy = aligned ? punctuated().withWatermarkAlignment('join', DRIFT) : punctuated()
    // A source that has not reported a watermark yet does not hold its group back (Flink's rule): the
    // slow source comes first, so its first poll is ahead of the fast one's and the bound holds from the start.
    const slow = env.fromSource(events('slow', SLOW, 1), 'slow', { watermarkStrategy: strategy }).uid('slow').process(observer.on('slow'))
    const fast = env.fromSource(events('fast', FAST, FAST_STEP), 'fast', { watermarkStrategy: strategy }).uid('fast').process(observer.on('fast'))
    fast
      .keyBy((e) => e.k)
      .intervalJoin(slow.keyBy((e) => e.k))
      .between(-25, 25)
      .process({ processElement: (left, right, _context, out) => out.collect(`${left.i}:${right.i}`) })
      .sinkTo(sink)
    const result = await env.execute(`alignment-${aligned}`).result
    return { observer, pairs: [...sink.results].sort(), result }
  }

  it('without alignment the fast source runs far ahead; with it, its lead stays within maxAllowedDrift + a poll', async () => {
    const free = await run(false)
    const aligned = await run(true)
    expect(aligned.observer.count).toEqual({ fast: FAST, slow: SLOW })
    // One poll of the fast source is BATCH * FAST_STEP of event time; the other side may be one poll
    // further when the lead is observed (its process function runs after its poll reported).
    const slack = BATCH * FAST_STEP + BATCH
    expect(aligned.observer.maxLead).toBeLessThanOrEqual(DRIFT + slack)
    expect(free.observer.maxLead).toBeGreaterThan(5 * (DRIFT + slack))
  })

  it('the join result is exactly the same with and without alignment', async () => {
    const free = await run(false)
    const aligned = await run(true)
    expect(free.pairs.length).toBeGreaterThan(4 * FAST)
    expect(aligned.pairs).toEqual(free.pairs)
  })
})

describe('watermark alignment per split (a reader with pauseOrResumeSplits)', () => {
  // One source subtask, two splits of one datagen (halves of the index range): split 0 at 1 ms of event
  // time per record, split 1 at 10 ms. Watermarks are per split; the subtask's is their minimum, so
  // alignment of whole subtasks (one member here) never holds split 1 back.
  const PER_SPLIT = 10_000
  const FAST_STEP = 10
  const DRIFT = 2000

  const run = async (aligned: boolean) => {
    const max = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]
    let maxLead = Number.NEGATIVE_INFINITY
    const seen: number[] = []
    const env = StreamExecutionEnvironment.create({ parallelism: 1, onWarning: () => {} })
    const strategy = aligned ? punctuated().withWatermarkAlignment('splits', DRIFT) : punctuated()
    const source = datagenSource<Event>({
      generator: (i) => ({ side: i < PER_SPLIT ? 'slow' : 'fast', i, k: i % 10 }),
      count: 2 * PER_SPLIT,
      timestamp: (_event, i) => (i < PER_SPLIT ? i : (i - PER_SPLIT) * FAST_STEP),
      batchSize: BATCH,
      splits: 2,
    })
    env
      .fromSource(source, 'two-splits', { watermarkStrategy: strategy })
      .process({
        processElement: (event: Event, context, out) => {
          const split = event.side === 'slow' ? 0 : 1
          const timestamp = context.timestamp() as number
          max[split] = Math.max(max[split] as number, timestamp)
          // Only while split 0 still runs: once it has ended nothing holds split 1 back (as in Flink).
          const slow = max[0] as number
          if (split === 1 && slow > Number.NEGATIVE_INFINITY && slow < PER_SPLIT - 1) maxLead = Math.max(maxLead, timestamp - slow)
          seen.push(event.i)
          out.collect(event)
        },
      })
      .sinkTo(directSink<Event>())
    await env.execute(`split-alignment-${aligned}`).result
    return { maxLead, seen }
  }

  it('without it the fast split runs far ahead; with it, its lead stays within maxAllowedDrift + a poll, and every record comes once', async () => {
    const free = await run(false)
    const aligned = await run(true)
    const slack = BATCH * FAST_STEP + BATCH
    expect(aligned.maxLead).toBeLessThanOrEqual(DRIFT + slack)
    expect(free.maxLead).toBeGreaterThan(3 * (DRIFT + slack))
    const expected = Array.from({ length: 2 * PER_SPLIT }, (_, i) => i)
    expect([...aligned.seen].sort((a, b) => a - b)).toEqual(expected)
    expect([...free.seen].sort((a, b) => a - b)).toEqual(expected)
  })
})

describe('what does not hold an alignment group back', () => {
  const FAST = 5000
  const STEP = 10
  const DRIFT = 500
  /** Two records at t = 0 and t = 10, then silence (the source stays open). */
  const silentAfterTwo: ScriptStep<Event>[] = [
    { value: { side: 'slow', i: 0, k: 0 }, timestamp: 0 },
    { value: { side: 'slow', i: 1, k: 1 }, timestamp: 10 },
  ]

  const start = (silentStrategy: WatermarkStrategy<Event>) => {
    const observer = new LeadObserver()
    const sink = directSink<Event>()
    const env = StreamExecutionEnvironment.create({ parallelism: 1, autoWatermarkInterval: 10, onWarning: () => {} })
    const silent = env.fromSource(scriptedSource([silentAfterTwo], { unbounded: true }), 'silent', { watermarkStrategy: silentStrategy })
    const fast = env
      .fromSource(events('fast', FAST, STEP), 'fast', { watermarkStrategy: punctuated().withWatermarkAlignment('g', DRIFT) })
      .process(observer.on('fast'))
    fast.union(silent).sinkTo(sink)
    return { job: env.execute('alignment-idle'), observer, sink }
  }

  it('an input that stopped producing holds the group back while it is not idle (the negative control)', async () => {
    const { job, observer } = start(punctuated().withWatermarkAlignment('g', DRIFT))
    await until(() => observer.count.fast > 0)
    await sleep(300)
    // The silent source's watermark is 9: the fast one stops within DRIFT and a poll of it.
    expect(observer.max.fast).toBeLessThanOrEqual(9 + DRIFT + BATCH * STEP)
    expect(observer.count.fast).toBeLessThan(FAST)
    await job.cancel() // does not hang on the paused source
  })

  it('withIdleness: the silent source goes idle and no longer holds the group back', async () => {
    const { job, observer, sink } = start(punctuated().withIdleness(50).withWatermarkAlignment('g', DRIFT))
    await until(() => observer.count.fast === FAST)
    await until(() => sink.results.length === FAST + 2)
    await job.cancel()
  })

  it('a source whose input ended (MAX watermark) no longer holds the group back: the job finishes', async () => {
    const observer = new LeadObserver()
    const sink = new CollectSink<Event>()
    const env = StreamExecutionEnvironment.create({ parallelism: 1, onWarning: () => {} })
    const strategy = punctuated().withWatermarkAlignment('g', DRIFT)
    // The short source covers event time [0, 100), the fast one [0, 50 000).
    const short = env.fromSource(events('slow', 100, 1), 'short', { watermarkStrategy: strategy }).process(observer.on('slow'))
    const fast = env.fromSource(events('fast', FAST, STEP), 'fast', { watermarkStrategy: strategy }).process(observer.on('fast'))
    fast.union(short).sinkTo(sink)
    const result = await env.execute('alignment-finished').result
    expect(result.state).toBe('FINISHED')
    expect(sink.results.length).toBe(FAST + 100)
  })
})

describe('a source held back by alignment still checkpoints, stops and resumes', () => {
  let directory: string
  beforeEach(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'sluice-alignment-'))
  })
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true })
  })

  const FAST = 3000
  const STEP = 10
  const DRIFT = 500
  const slowScript: ScriptStep<Event>[] = [
    { value: { side: 'slow', i: 0, k: 0 }, timestamp: 0 },
    { value: { side: 'slow', i: 1, k: 1 }, timestamp: 10 },
  ]

  /** The slow source plays two records, then stays open (`unbounded`) or ends. */
  const build = (sink: CollectSink<Event>, observer: LeadObserver, slowEnds: boolean, fromSavepoint?: string) => {
    const env = StreamExecutionEnvironment.create({
      parallelism: 1,
      checkpointing: { interval: 30, directory },
      onWarning: () => {},
      ...(fromSavepoint ? { fromSavepoint } : {}),
    })
    const strategy = punctuated().withWatermarkAlignment('g', DRIFT)
    const slow = env.fromSource(scriptedSource([slowScript], { unbounded: !slowEnds }), 'slow', { watermarkStrategy: strategy }).uid('slow')
    const fast = env
      .fromSource(events('fast', FAST, STEP), 'fast', { watermarkStrategy: strategy })
      .uid('fast')
      .process(observer.on('fast'))
      .uid('observe')
    fast.union(slow).sinkTo(sink).uid('collect')
    return env.execute('alignment-checkpoints')
  }

  it('checkpoints complete while the fast source is paused; stop-with-savepoint returns; the resumed job delivers every record exactly once', async () => {
    const sink = new CollectSink<Event>()
    const observer = new LeadObserver()
    const first = build(sink, observer, false)
    await until(() => observer.count.fast > 0)
    // Paused at once: the slow source's watermark is 9, so the fast one stops at about 9 + DRIFT.
    await sleep(100)
    const pausedAt = observer.count.fast
    expect(observer.max.fast).toBeLessThanOrEqual(9 + DRIFT + BATCH * STEP)
    expect(pausedAt).toBeLessThan(FAST)
    const checkpoints = first.metrics().checkpointsCompleted
    await until(() => first.metrics().checkpointsCompleted >= checkpoints + 3)
    expect(observer.count.fast).toBe(pausedAt) // still paused all along
    const savepoint = await first.stopWithSavepoint()
    expect((await first.result).savepointPath).toBe(savepoint)
    expect(sink.results.filter((e) => e.side === 'fast').length).toBe(pausedAt)

    // Resumed with a slow source that ends: its end releases the fast one.
    const second = build(sink, new LeadObserver(), true, savepoint)
    expect((await second.result).state).toBe('FINISHED')
    const fastIds = sink.results.filter((e) => e.side === 'fast').map((e) => e.i)
    expect(fastIds.length).toBe(FAST)
    expect(new Set(fastIds).size).toBe(FAST)
    expect(sink.results.filter((e) => e.side === 'slow').map((e) => e.i)).toEqual([0, 1])
  })
})
