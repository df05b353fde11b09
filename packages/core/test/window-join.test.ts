import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DataStream } from '../src/api/data-stream.js'
import { StreamExecutionEnvironment } from '../src/api/environment.js'
import type { ProcessFunction } from '../src/api/functions.js'
import { EventTimeSessionWindows } from '../src/api/windowing/event-time-session-windows.js'
import { SlidingEventTimeWindows } from '../src/api/windowing/sliding-event-time-windows.js'
import type { TimeWindow } from '../src/api/windowing/time-window.js'
import { TumblingEventTimeWindows } from '../src/api/windowing/tumbling-event-time-windows.js'
import type { WindowAssigner } from '../src/api/windowing/window-assigner.js'
import { RestartStrategies } from '../src/checkpoint/restart-strategy.js'
import { CollectSink } from '../src/connectors/collect-sink.js'
import { fromElementsSource } from '../src/connectors/from-elements-source.js'
import { type ScriptStep, scriptedSource } from './__fixtures__/scripted-source.js'

const quiet = { onWarning: () => {} }

/** Appends `@timestamp`: the results of a window carry its `maxTimestamp()`. */
const withTimestamp: ProcessFunction<string, string> = {
  processElement: (value, context, out) => out.collect(`${value}@${context.timestamp()}`),
}

/**
 * The seed's window-join figures: integer streams "orange" and "green", timestamps in ms equal to the
 * value, one key. The seed (and the Flink documentation it follows) draws the streams but does not list
 * them; these values are chosen to match everything the text states: orange = 0..7, green = 0, 3, 4
 * (green has nothing in [6,7], and nothing at 1 or 2, so orange 2 joins green 3 in [2,3] but nothing in
 * [1,2]). The session figure: orange = 0, 2, 4, 5, 8, 9 and green = 1, 6 (three sessions with a 1 ms gap,
 * the third holding orange 8 and 9 only).
 */
const ORANGE = [0, 1, 2, 3, 4, 5, 6, 7]
const GREEN = [0, 3, 4]

type Assigner = WindowAssigner<unknown, TimeWindow>

async function figure(orange: number[], green: number[], assigner: Assigner, kind: 'join' | 'coGroup'): Promise<string[]> {
  const env = StreamExecutionEnvironment.create({ parallelism: 2, ...quiet })
  const o = env.fromSource(fromElementsSource(orange, { timestamps: (n) => n }), 'orange')
  const g = env.fromSource(fromElementsSource(green, { timestamps: (n) => n }), 'green')
  const sink = new CollectSink<string>()
  const joined =
    kind === 'join'
      ? o.join(g).where(() => 'k').equalTo(() => 'k').window(assigner).apply((a, b) => `${a},${b}`)
      : o
          .coGroup(g)
          .where(() => 'k')
          .equalTo(() => 'k')
          .window(assigner)
          .apply<string>((os, gs, out) => out.collect(`orange=[${[...os].sort()}] green=[${[...gs].sort()}]`))
  joined.process(withTimestamp).sinkTo(sink)
  await env.execute('figure').result
  return [...sink.results].sort()
}

describe('window join: the seed’s figures', () => {
  it('tumbling 2 ms: windows [0,1], [2,3], [4,5], and nothing for [6,7] where green has no element', async () => {
    expect(await figure(ORANGE, GREEN, TumblingEventTimeWindows.of(2), 'join')).toEqual(['0,0@1', '1,0@1', '2,3@3', '3,3@3', '4,4@5', '5,4@5'])
    // coGroup sees window [6,7] with green empty; the join of it is empty.
    expect(await figure(ORANGE, GREEN, TumblingEventTimeWindows.of(2), 'coGroup')).toEqual([
      'orange=[0,1] green=[0]@1',
      'orange=[2,3] green=[3]@3',
      'orange=[4,5] green=[4]@5',
      'orange=[6,7] green=[]@7',
    ])
  })

  it('sliding 2 ms by 1 ms: windows [-1,0], [0,1], …; orange 2 joins green 3 in [2,3] but not in [1,2]; pairs once per shared window', async () => {
    expect(await figure(ORANGE, GREEN, SlidingEventTimeWindows.of(2, 1), 'join')).toEqual([
      '0,0@0', // [-1,0]
      '0,0@1', // [0,1]
      '1,0@1',
      '2,3@3', // [2,3]; [1,2] has no green element
      '3,3@3',
      '3,3@4', // [3,4]
      '3,4@4',
      '4,3@4',
      '4,4@4',
      '4,4@5', // [4,5]
      '5,4@5',
    ])
    const windows = await figure(ORANGE, GREEN, SlidingEventTimeWindows.of(2, 1), 'coGroup')
    expect(windows).toContain('orange=[1,2] green=[]@2')
    expect(windows.map((w) => Number(w.split('@')[1])).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8])
  })

  it('session gap 1 ms: three sessions, the third (orange 8 and 9 only) emits nothing', async () => {
    const orange = [0, 2, 4, 5, 8, 9]
    const green = [1, 6]
    expect(await figure(orange, green, EventTimeSessionWindows.withGap(1), 'join')).toEqual(['0,1@2', '2,1@2', '4,6@6', '5,6@6'])
    expect(await figure(orange, green, EventTimeSessionWindows.withGap(1), 'coGroup')).toEqual([
      'orange=[0,2] green=[1]@2',
      'orange=[4,5] green=[6]@6',
      'orange=[8,9] green=[]@9',
    ])
  })

  it('a flat join function emits any number of results per pair through the collector', async () => {
    const env = StreamExecutionEnvironment.create({ ...quiet })
    const o = env.fromSource(fromElementsSource(ORANGE, { timestamps: (n) => n }))
    const g = env.fromSource(fromElementsSource(GREEN, { timestamps: (n) => n }))
    const sink = new CollectSink<string>()
    o.join(g)
      .where(() => 'k')
      .equalTo(() => 'k')
      .window(TumblingEventTimeWindows.of(2))
      .apply<string>((a, b, out) => {
        if (a === b) out.collect(`${a}=${b}`)
      })
      .sinkTo(sink)
    await env.execute('flat-join').result
    expect([...sink.results].sort()).toEqual(['0=0', '3=3', '4=4'])
  })
})

describe('window join: flat (3 parameters) and plain (2 parameters) join functions', () => {
  /** Joins ORANGE and GREEN in tumbling 2 ms windows, one key, parallelism 2; pairs: 0,0 1,0 | 2,3 3,3 | 4,4 5,4. */
  async function joinFigure<Out>(apply: (joined: ReturnType<typeof joinOf>) => { sinkTo(sink: CollectSink<Out>): unknown }): Promise<Out[]> {
    const env = StreamExecutionEnvironment.create({ parallelism: 2, ...quiet })
    const o = env.fromSource(fromElementsSource(ORANGE, { timestamps: (n) => n }), 'orange')
    const g = env.fromSource(fromElementsSource(GREEN, { timestamps: (n) => n }), 'green')
    const sink = new CollectSink<Out>()
    apply(joinOf(o, g)).sinkTo(sink)
    await env.execute('join-functions').result
    return [...sink.results]
  }
  const joinOf = (o: DataStream<number>, g: DataStream<number>) =>
    o
      .join(g)
      .where(() => 'k')
      .equalTo(() => 'k')
      .window(TumblingEventTimeWindows.of(2))

  it('a flat join emits 0, 1 or 2 records per pair, duplicates kept, each with its window’s timestamp', async () => {
    const pairs: string[] = []
    const results = await joinFigure<string>((joined) =>
      joined
        .apply<string>((a, b, out) => {
          pairs.push(`${a},${b}`)
          // (a + b) % 3 records: 0,0 → 0; 1,0 → 1; 2,3 → 2; 3,3 → 0; 4,4 → 2; 5,4 → 0.
          for (let i = 0; i < (a + b) % 3; i++) out.collect(`${a},${b}`)
        })
        .process(withTimestamp),
    )
    expect(pairs.sort()).toEqual(['0,0', '1,0', '2,3', '3,3', '4,4', '5,4'])
    expect(results.sort()).toEqual(['1,0@1', '2,3@3', '2,3@3', '4,4@5', '4,4@5'])
  })

  it('a plain join emits exactly its return value once per pair: an array is one record, not flattened', async () => {
    const results = await joinFigure<[number, number]>((joined) => joined.apply((a, b): [number, number] => [a, b]))
    expect(results.sort((x, y) => x[0] - y[0] || x[1] - y[1])).toEqual([
      [0, 0],
      [1, 0],
      [2, 3],
      [3, 3],
      [4, 4],
      [5, 4],
    ])
  })
})

// ------------------------------------------------------------------ property: random streams vs brute force

interface Row {
  key: number
  id: string
}
interface Stamped {
  row: Row
  timestamp: number
}

type AssignerSpec = { kind: 'tumbling'; size: number; offset: number } | { kind: 'sliding'; size: number; slide: number; offset: number } | { kind: 'session'; gap: number }

/**
 * Flink's TimeWindow.getWindowStartWithOffset (Flink 2.x, correct for negative timestamps; Java's % keeps
 * the dividend's sign, as JavaScript's does).
 */
function windowStart(timestamp: number, offset: number, size: number): number {
  const remainder = (timestamp - offset) % size
  return remainder < 0 ? timestamp - (remainder + size) : timestamp - remainder
}

/** [start, end) windows of one timestamp for a non-merging assigner. */
function windowsOf(spec: AssignerSpec, timestamp: number): [number, number][] {
  if (spec.kind === 'tumbling') {
    const start = windowStart(timestamp, spec.offset, spec.size)
    return [[start, start + spec.size]]
  }
  if (spec.kind === 'sliding') {
    const windows: [number, number][] = []
    for (let start = windowStart(timestamp, spec.offset, spec.slide); start > timestamp - spec.size; start -= spec.slide) windows.push([start, start + spec.size])
    return windows
  }
  throw new Error('sessions are merged per key')
}

/** Per key, the windows and their elements of each side, as Flink forms them when no element is late. */
function bruteForceWindows(lefts: Stamped[], rights: Stamped[], spec: AssignerSpec): Map<string, { ones: Row[]; twos: Row[] }> {
  const groups = new Map<string, { ones: Row[]; twos: Row[] }>()
  const add = (key: number, window: [number, number], row: Row, side: 'ones' | 'twos') => {
    const id = `${key}|${window[0]}|${window[1]}`
    const group = groups.get(id) ?? { ones: [], twos: [] }
    group[side].push(row)
    groups.set(id, group)
  }
  if (spec.kind !== 'session') {
    for (const e of lefts) for (const w of windowsOf(spec, e.timestamp)) add(e.row.key, w, e.row, 'ones')
    for (const e of rights) for (const w of windowsOf(spec, e.timestamp)) add(e.row.key, w, e.row, 'twos')
    return groups
  }
  // Sessions: per key, sort all elements and merge [t, t + gap) windows that overlap or touch.
  const all = [...lefts.map((e) => ({ ...e, side: 'ones' as const })), ...rights.map((e) => ({ ...e, side: 'twos' as const }))]
  const keys = new Set(all.map((e) => e.row.key))
  for (const key of keys) {
    const elements = all.filter((e) => e.row.key === key).sort((a, b) => a.timestamp - b.timestamp)
    let session: [number, number] | undefined
    let members: typeof elements = []
    const flush = () => {
      if (session) for (const m of members) add(key, session, m.row, m.side)
    }
    for (const e of elements) {
      if (session && e.timestamp <= session[1]) {
        session[1] = Math.max(session[1], e.timestamp + spec.gap)
        members.push(e)
      } else {
        flush()
        session = [e.timestamp, e.timestamp + spec.gap]
        members = [e]
      }
    }
    flush()
  }
  return groups
}

const maxTimestampOf = (groupId: string) => Number(groupId.split('|')[2]) - 1

function bruteForceJoin(lefts: Stamped[], rights: Stamped[], spec: AssignerSpec): string[] {
  const out: string[] = []
  for (const [id, { ones, twos }] of bruteForceWindows(lefts, rights, spec)) {
    for (const a of ones) for (const b of twos) out.push(`${a.id}+${b.id}@${maxTimestampOf(id)}`)
  }
  return out.sort()
}

function bruteForceCoGroup(lefts: Stamped[], rights: Stamped[], spec: AssignerSpec): string[] {
  const out: string[] = []
  for (const [id, { ones, twos }] of bruteForceWindows(lefts, rights, spec)) {
    out.push(`${id.split('|')[0]}:[${ones.map((r) => r.id).sort()}][${twos.map((r) => r.id).sort()}]@${maxTimestampOf(id)}`)
  }
  return out.sort()
}

/**
 * Scripts with shuffled elements and watermarks that keep every element on time: a watermark is at
 * most the smallest later timestamp of its script minus `margin` minus 1. For sessions the margin is the
 * gap, so no later element can touch a session that already fired.
 */
function toScripts(elements: Stamped[], splits: number, margin: number, random: () => number): ScriptStep<Row>[][] {
  const scripts: Stamped[][] = Array.from({ length: splits }, () => [])
  for (const e of elements) (scripts[Math.floor(random() * splits)] as Stamped[]).push(e)
  return scripts.map((script) => {
    for (let i = script.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      ;[script[i], script[j]] = [script[j] as Stamped, script[i] as Stamped]
    }
    const steps: ScriptStep<Row>[] = []
    for (let i = 0; i < script.length; i++) {
      steps.push({ value: (script[i] as Stamped).row, timestamp: (script[i] as Stamped).timestamp })
      if (random() < 0.3) {
        let minimumAfter = Number.POSITIVE_INFINITY
        for (let j = i + 1; j < script.length; j++) minimumAfter = Math.min(minimumAfter, (script[j] as Stamped).timestamp)
        if (minimumAfter !== Number.POSITIVE_INFINITY) steps.push({ watermark: minimumAfter - margin - 1 - Math.floor(random() * 3) })
      }
    }
    return steps
  })
}

const streamArbitrary = (prefix: string) =>
  fc
    .array(fc.record({ key: fc.integer({ min: 0, max: 3 }), timestamp: fc.integer({ min: -20, max: 120 }) }), { maxLength: 40 })
    .map((items) => items.map((item, index) => ({ row: { key: item.key, id: `${prefix}${index}` }, timestamp: item.timestamp })))

const assignerArbitrary: fc.Arbitrary<AssignerSpec> = fc.oneof(
  fc.record({ kind: fc.constant('tumbling' as const), size: fc.integer({ min: 1, max: 30 }), offset: fc.integer({ min: 0, max: 29 }) }).map((s) => ({ ...s, offset: s.offset % s.size })),
  fc
    .record({ kind: fc.constant('sliding' as const), slide: fc.integer({ min: 1, max: 10 }), factor: fc.integer({ min: 1, max: 4 }), offset: fc.integer({ min: 0, max: 9 }) })
    .map(({ slide, factor, offset }) => ({ kind: 'sliding' as const, size: slide * factor, slide, offset: offset % slide })),
  fc.record({ kind: fc.constant('session' as const), gap: fc.integer({ min: 1, max: 15 }) }),
)

function assignerOf(spec: AssignerSpec): Assigner {
  if (spec.kind === 'tumbling') return TumblingEventTimeWindows.of(spec.size, spec.offset)
  if (spec.kind === 'sliding') return SlidingEventTimeWindows.of(spec.size, spec.slide, spec.offset)
  return EventTimeSessionWindows.withGap(spec.gap)
}

const lcg = (seed: number) => {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

describe('window join and coGroup: random out-of-order streams against a brute force', () => {
  it('join equals the brute-force inner join per key and window, for every assigner and parallelism', async () => {
    await fc.assert(
      fc.asyncProperty(streamArbitrary('L'), streamArbitrary('R'), assignerArbitrary, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer(), async (lefts, rights, spec, parallelism, splits, seed) => {
        const random = lcg(seed)
        const margin = spec.kind === 'session' ? spec.gap : 0
        const env = StreamExecutionEnvironment.create({ parallelism, ...quiet })
        const left = env.fromSource(scriptedSource(toScripts(lefts, splits, margin, random), { stepsPerPoll: 3 }), 'left')
        const right = env.fromSource(scriptedSource(toScripts(rights, splits, margin, random), { stepsPerPoll: 3 }), 'right')
        const sink = new CollectSink<string>()
        left
          .join(right)
          .where((r) => r.key)
          .equalTo((r) => r.key)
          .window(assignerOf(spec))
          .apply((a, b) => `${a.id}+${b.id}`)
          .process(withTimestamp)
          .sinkTo(sink)
        await env.execute('join-property').result
        expect([...sink.results].sort()).toEqual(bruteForceJoin(lefts, rights, spec))
      }),
      { numRuns: 40 },
    )
  })

  it('coGroup gets both sides of every window with elements, one side possibly empty', async () => {
    await fc.assert(
      fc.asyncProperty(streamArbitrary('L'), streamArbitrary('R'), assignerArbitrary, fc.integer({ min: 1, max: 4 }), fc.integer(), async (lefts, rights, spec, parallelism, seed) => {
        const random = lcg(seed)
        const margin = spec.kind === 'session' ? spec.gap : 0
        const env = StreamExecutionEnvironment.create({ parallelism, ...quiet })
        const left = env.fromSource(scriptedSource(toScripts(lefts, 2, margin, random), { stepsPerPoll: 3 }), 'left')
        const right = env.fromSource(scriptedSource(toScripts(rights, 2, margin, random), { stepsPerPoll: 3 }), 'right')
        const sink = new CollectSink<string>()
        left
          .coGroup(right)
          .where((r) => r.key)
          .equalTo((r) => r.key)
          .window(assignerOf(spec))
          .apply<string>((ones, twos, out) => {
            const key = (ones[0] ?? twos[0])?.key
            out.collect(`${key}:[${ones.map((r) => r.id).sort()}][${twos.map((r) => r.id).sort()}]`)
          })
          .process(withTimestamp)
          .sinkTo(sink)
        await env.execute('cogroup-property').result
        expect([...sink.results].sort()).toEqual(bruteForceCoGroup(lefts, rights, spec))
      }),
      { numRuns: 40 },
    )
  })
})

// ------------------------------------------------------------------ checkpoint, failure, restore

let directory: string
beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'sluice-wj-'))
})
afterEach(async () => {
  await rm(directory, { recursive: true, force: true })
})

/** Ordered streams, keys 0..9: left every ms, right every 2 ms; watermarks every 20 elements. */
function longStreams(count: number) {
  const lefts: Stamped[] = []
  const rights: Stamped[] = []
  for (let t = 0; t < count; t++) {
    lefts.push({ row: { key: t % 10, id: `L${t}` }, timestamp: t })
    if (t % 2 === 0) rights.push({ row: { key: (t * 3) % 10, id: `R${t}` }, timestamp: t })
  }
  const script = (elements: Stamped[]) =>
    [0, 1].map((s) => {
      const steps: ScriptStep<Row>[] = []
      elements.forEach((e, i) => {
        if (i % 2 !== s) return
        steps.push({ value: e.row, timestamp: e.timestamp })
        if (i % 20 === 19) steps.push({ watermark: e.timestamp - 2 })
      })
      return steps
    })
  return { lefts, rights, leftScripts: script(lefts), rightScripts: script(rights) }
}

describe('window join: checkpoint, failure and restore', () => {
  const spec: AssignerSpec = { kind: 'sliding', size: 40, slide: 20, offset: 0 }

  it('restarts from a checkpoint after failures with exactly the brute-force result', async () => {
    const { lefts, rights, leftScripts, rightScripts } = longStreams(2000)
    const expected = bruteForceJoin(lefts, rights, spec)
    // Two failures, a quarter and a half of the way through the pairs (counting replayed ones).
    const failEvery = Math.floor(expected.length / 4)
    let failuresLeft = 2
    let seen = 0
    const env = StreamExecutionEnvironment.create({
      parallelism: 2,
      checkpointing: { interval: 20, directory },
      restartStrategy: RestartStrategies.fixedDelay(5, 10),
      ...quiet,
    })
    const left = env.fromSource(scriptedSource(leftScripts, { stepsPerPoll: 20, pauseMs: 1 }), 'left').uid('left')
    const right = env.fromSource(scriptedSource(rightScripts, { stepsPerPoll: 10, pauseMs: 1 }), 'right').uid('right')
    const sink = new CollectSink<string>()
    left
      .join(right)
      .where((r) => r.key)
      .equalTo((r) => r.key)
      .window(assignerOf(spec))
      .apply((a, b) => {
        seen++
        if (failuresLeft > 0 && seen % failEvery === 0) {
          failuresLeft--
          throw new Error(`injected failure after ${seen} pairs`)
        }
        return `${a.id}+${b.id}`
      })
      .uid('join')
      .process(withTimestamp)
      .uid('stamp')
      .sinkTo(sink)
    const result = await env.execute('wj-restart').result
    expect(result.metrics.restarts).toBe(2)
    expect([...sink.results].sort()).toEqual(expected)
  })

  it('stop-with-savepoint, then resume at another parallelism (2 → 3 → 1) with exactly the brute-force result', async () => {
    const { lefts, rights, leftScripts, rightScripts } = longStreams(2000)
    const sink = new CollectSink<string>()
    const build = (parallelism: number, fromSavepoint?: string) => {
      const env = StreamExecutionEnvironment.create({ parallelism, checkpointing: { interval: 30, directory }, ...quiet, ...(fromSavepoint ? { fromSavepoint } : {}) })
      const left = env.fromSource(scriptedSource(leftScripts, { stepsPerPoll: 20, pauseMs: 2 }), 'left').uid('left')
      const right = env.fromSource(scriptedSource(rightScripts, { stepsPerPoll: 10, pauseMs: 2 }), 'right').uid('right')
      left
        .coGroup(right)
        .where((r) => r.key)
        .equalTo((r) => r.key)
        .window(assignerOf(spec))
        .apply<string>((ones, twos, out) => {
          for (const a of ones) for (const b of twos) out.collect(`${a.id}+${b.id}`)
        })
        .uid('cogroup')
        .process(withTimestamp)
        .uid('stamp')
        .sinkTo(sink)
        .uid('sink')
      return env.execute('wj-rescale')
    }
    const first = build(2)
    while (first.metrics().recordsFromSources < 800) await new Promise((r) => setTimeout(r, 5))
    const savepoint1 = await first.stopWithSavepoint()
    await first.result
    const second = build(3, savepoint1)
    while (second.metrics().recordsFromSources < 800) await new Promise((r) => setTimeout(r, 5))
    const savepoint2 = await second.stopWithSavepoint()
    await second.result
    const third = build(1, savepoint2)
    expect((await third.result).state).toBe('FINISHED')
    expect([...sink.results].sort()).toEqual(bruteForceJoin(lefts, rights, spec))
  })
})
