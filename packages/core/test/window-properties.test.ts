import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { SingleOutputStream } from '../src/api/data-stream.js'
import { StreamExecutionEnvironment } from '../src/api/environment.js'
import { OutputTag, type ProcessFunction } from '../src/api/functions.js'
import type { AggregateFunction } from '../src/api/state.js'
import { CountEvictor } from '../src/api/windowing/count-evictor.js'
import { CountTrigger } from '../src/api/windowing/count-trigger.js'
import { EventTimeSessionWindows } from '../src/api/windowing/event-time-session-windows.js'
import { GlobalWindows } from '../src/api/windowing/global-windows.js'
import type { ProcessWindowFunction } from '../src/api/windowing/process-window-function.js'
import { PurgingTrigger } from '../src/api/windowing/purging-trigger.js'
import { SlidingEventTimeWindows } from '../src/api/windowing/sliding-event-time-windows.js'
import { TumblingEventTimeWindows } from '../src/api/windowing/tumbling-event-time-windows.js'
import type { Window } from '../src/api/windowing/window.js'
import type { WindowAssigner } from '../src/api/windowing/window-assigner.js'
import { CollectSink } from '../src/connectors/collect-sink.js'
import { type ScriptStep, scriptedSource } from './__fixtures__/scripted-source.js'
import { describeResult, dynamicGapOf, type RefAssigner, type RefStep, referenceWindows } from './__fixtures__/window-reference.js'

/**
 * Property tests: for random out-of-order streams (random keys, timestamps, values and watermarks),
 * random window parallelism (1–4), lateness and function kind, a job's window output equals, as a
 * multiset, what the brute-force reference of Flink's rules (`__fixtures__/window-reference.ts`)
 * computes. The source has parallelism 1 and the watermarks are part of its script, so what is late
 * is determined by the input alone.
 */

interface Element {
  key: string
  value: number
  /** Always 1: reduce adds it up to the window's element count. */
  n: number
  timestamp: number
}

type FunctionKind = 'reduce+process' | 'aggregate+process' | 'aggregate+apply' | 'process'

const sumAndCount: AggregateFunction<Element, [number, number], [number, number]> = {
  createAccumulator: () => [0, 0],
  add: (element, [count, sum]) => [count + 1, sum + element.value],
  getResult: (accumulator) => accumulator,
  merge: (a, b) => [a[0] + b[0], a[1] + b[1]],
}

const bounds = (window: Window): [number, number] => {
  const w = window as { start?: number; end?: number }
  return w.start === undefined ? [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY] : [w.start, w.end as number]
}
const label = (key: string, window: Window, count: number, sum: number) => {
  const [start, end] = bounds(window)
  return `${key}|${start}|${end}|${count}|${sum}`
}

const withTimestamp: ProcessFunction<string, string> = {
  processElement: (value, context, out) => out.collect(`${value}@${context.timestamp()}`),
}

function toAssigner(assigner: RefAssigner): WindowAssigner<Element, Window> {
  switch (assigner.kind) {
    case 'tumbling':
      return TumblingEventTimeWindows.of(assigner.size, assigner.offset) as unknown as WindowAssigner<Element, Window>
    case 'sliding':
      return SlidingEventTimeWindows.of(assigner.size, assigner.slide, assigner.offset) as unknown as WindowAssigner<Element, Window>
    case 'session':
      return EventTimeSessionWindows.withGap<Element>(assigner.gap) as unknown as WindowAssigner<Element, Window>
    case 'dynamic-session':
      return EventTimeSessionWindows.withDynamicGap<Element>(dynamicGapOf) as unknown as WindowAssigner<Element, Window>
    case 'count':
      return GlobalWindows.create() as unknown as WindowAssigner<Element, Window>
  }
}

interface Case {
  steps: RefStep[]
  assigner: RefAssigner
  lateness: number
  parallelism: number
  kind: FunctionKind
  evictLastN: number | undefined
  stepsPerPoll: number
}

async function runJob(c: Case): Promise<{ main: string[]; late: string[] }> {
  const env = StreamExecutionEnvironment.create({ parallelism: c.parallelism, autoWatermarkInterval: 0, onWarning: () => {} })
  const script: ScriptStep<Element>[] = c.steps.map((step) =>
    'watermark' in step ? { watermark: step.watermark } : { value: { ...step.element, n: 1 }, timestamp: step.element.timestamp },
  )
  // The scripted reader drops a watermark that ends its script; a last record keeps it (outside every window under test).
  const main = new CollectSink<string>()
  const late = new CollectSink<string>()
  const lateTag = new OutputTag<Element>('late')
  let windowed = env
    .fromSource(scriptedSource([script], { stepsPerPoll: c.stepsPerPoll }), 'script')
    .setParallelism(1)
    .keyBy((element) => element.key)
    .window(toAssigner(c.assigner))
    .sideOutputLateData(lateTag)
  if (c.assigner.kind === 'count') windowed = windowed.trigger(PurgingTrigger.of(CountTrigger.of(c.assigner.count)))
  else windowed = windowed.allowedLateness(c.lateness)
  if (c.evictLastN !== undefined) windowed = windowed.evictor(CountEvictor.of(c.evictLastN))
  const fromList: ProcessWindowFunction<Element, string, string, Window> = {
    process(key, context, elements, out) {
      out.collect(label(key, context.window(), elements.length, elements.reduce((s, e) => s + e.value, 0)))
    },
  }
  let results: SingleOutputStream<string>
  switch (c.kind) {
    case 'reduce+process':
      results = windowed.reduce((a, b) => ({ key: a.key, value: a.value + b.value, n: a.n + b.n, timestamp: b.timestamp }), {
        process: (key, context, reduced, out) => out.collect(label(key, context.window(), (reduced[0] as Element).n, (reduced[0] as Element).value)),
      })
      break
    case 'aggregate+process':
      results = windowed.aggregate(sumAndCount, {
        process: (key: string, context, results: readonly [number, number][], out) => {
          const [count, sum] = results[0] as [number, number]
          out.collect(label(key, context.window(), count, sum))
        },
      } as ProcessWindowFunction<[number, number], string, string, Window>)
      break
    case 'aggregate+apply':
      results = windowed.aggregate(sumAndCount, (key: string, window: Window, results: readonly [number, number][], out) => {
        const [count, sum] = results[0] as [number, number]
        out.collect(label(key, window, count, sum))
      })
      break
    case 'process':
      results = windowed.process(fromList)
      break
  }
  results.process(withTimestamp).sinkTo(main)
  results
    .getSideOutput(lateTag)
    .map((element) => `${element.key}|${element.timestamp}|${element.value}`)
    .process(withTimestamp)
    .sinkTo(late)
  await env.execute('window-property').result
  return { main: [...main.results].sort(), late: [...late.results].sort() }
}

const keys = ['a', 'b', 'c', 'd']

const stepArbitrary = (maxTimestamp: number) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ key: fc.constantFrom(...keys), timestamp: fc.integer({ min: -40, max: maxTimestamp }), value: fc.integer({ min: 0, max: 9 }) }).map((element): RefStep => ({ element })) },
    { weight: 1, arbitrary: fc.integer({ min: -50, max: maxTimestamp + 10 }).map((watermark): RefStep => ({ watermark })) },
  )

const assignerArbitrary: fc.Arbitrary<RefAssigner> = fc.oneof(
  fc.integer({ min: 1, max: 30 }).chain((size) =>
    fc.integer({ min: -(size - 1), max: size - 1 }).map((offset): RefAssigner => ({ kind: 'tumbling', size, offset })),
  ),
  fc.record({ size: fc.integer({ min: 1, max: 40 }), slide: fc.integer({ min: 1, max: 25 }) }).chain(({ size, slide }) =>
    fc.integer({ min: -(slide - 1), max: slide - 1 }).map((offset): RefAssigner => ({ kind: 'sliding', size, slide, offset })),
  ),
  fc.integer({ min: 1, max: 20 }).map((gap): RefAssigner => ({ kind: 'session', gap })),
  fc.constant<RefAssigner>({ kind: 'dynamic-session' }),
  fc.integer({ min: 1, max: 4 }).map((count): RefAssigner => ({ kind: 'count', count })),
)

const caseArbitrary: fc.Arbitrary<Case> = fc
  .record({
    steps: fc.array(stepArbitrary(120), { minLength: 1, maxLength: 60 }),
    assigner: assignerArbitrary,
    lateness: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 25 })),
    parallelism: fc.integer({ min: 1, max: 4 }),
    kind: fc.constantFrom<FunctionKind>('reduce+process', 'aggregate+process', 'aggregate+apply', 'process'),
    evictLastN: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    stepsPerPoll: fc.integer({ min: 1, max: 64 }),
  })
  .map((c) => {
    // A count evictor only with a function over the elements and windows that do not merge (the order
    // of merged element lists is an implementation detail in Flink too).
    const evictable = c.kind === 'process' && (c.assigner.kind === 'tumbling' || c.assigner.kind === 'sliding' || c.assigner.kind === 'count')
    // A last record after the last watermark, so the scripted reader forwards that watermark.
    const steps: RefStep[] = [...c.steps, { element: { key: 'z', timestamp: 100_000, value: 0 } }]
    return { ...c, steps, evictLastN: evictable ? c.evictLastN : undefined }
  })

function expected(c: Case): { main: string[]; late: string[] } {
  const result = referenceWindows(c.steps, { assigner: c.assigner, lateness: c.lateness, evictLastN: c.evictLastN })
  return { main: [...result.main].sort(), late: [...result.late].sort() }
}

describe('window output equals the brute-force reference of Flink rules (fast-check)', () => {
  it(
    'random streams, window types, lateness, functions and parallelism',
    async () => {
      await fc.assert(
        fc.asyncProperty(caseArbitrary, async (c) => {
          const actual = await runJob(c)
          expect(actual).toEqual(expected(c))
        }),
        { numRuns: Number(process.env.SLUICE_PROPERTY_RUNS ?? 150), seed: process.env.SLUICE_PROPERTY_SEED ? Number(process.env.SLUICE_PROPERTY_SEED) : undefined },
      )
    },
    600_000,
  )

  it('the reference itself agrees with a hand-computed case', () => {
    const steps: RefStep[] = [
      { element: { key: 'a', timestamp: 1, value: 1 } },
      { element: { key: 'a', timestamp: 12, value: 2 } },
      { watermark: 10 },
      { element: { key: 'a', timestamp: 8, value: 3 } },
      { watermark: 20 },
      { element: { key: 'a', timestamp: 3, value: 4 } },
    ]
    expect(referenceWindows(steps, { assigner: { kind: 'tumbling', size: 10, offset: 0 }, lateness: 5 })).toEqual({
      main: [describeResult('a', 0, 10, 1, 1, 9), describeResult('a', 0, 10, 2, 4, 9), describeResult('a', 10, 20, 1, 2, 19)],
      late: ['a|3|4@3'],
    })
  })
})

