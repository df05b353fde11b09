import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { StreamExecutionEnvironment } from '../src/api/environment.js'
import { OutputTag } from '../src/api/functions.js'
import { RestartStrategies } from '../src/checkpoint/restart-strategy.js'
import { CollectSink } from '../src/connectors/collect-sink.js'
import { fromElementsSource } from '../src/connectors/from-elements-source.js'
import { JobGraphError } from '../src/errors.js'
import { type ScriptStep, scriptedSource } from './__fixtures__/scripted-source.js'

const quiet = { onWarning: () => {} }

/**
 * The seed's interval-join figure (Flink docs, "Interval Join"): orange ⋈ green with between(-2, +1).
 * The seed does not list the element values; as in the Flink documentation's figure we take
 * orange = 0, 2, 3, 4, 5, 7 and green = 0, 1, 6, 7, timestamps in ms equal to the value, one key.
 */
const ORANGE = [0, 2, 3, 4, 5, 7]
const GREEN = [0, 1, 6, 7]

async function figureJoin(configure: (joined: ReturnType<typeof between>) => void): Promise<string[]> {
  const env = StreamExecutionEnvironment.create({ parallelism: 2, ...quiet })
  const orange = env.fromSource(fromElementsSource(ORANGE, { timestamps: (n) => n }), 'orange').keyBy(() => 'k')
  const green = env.fromSource(fromElementsSource(GREEN, { timestamps: (n) => n }), 'green').keyBy(() => 'k')
  const joined = between(orange, green)
  configure(joined)
  const sink = new CollectSink<string>()
  joined.process<string>({ processElement: (o, g, context, out) => out.collect(`${o},${g}@${context.timestamp()}`) }).sinkTo(sink)
  await env.execute('figure').result
  return [...sink.results].sort()
}
const between = (orange: import('../src/api/data-stream.js').KeyedStream<number, string>, green: import('../src/api/data-stream.js').KeyedStream<number, string>) =>
  orange.intervalJoin(green).between(-2, 1)

describe('interval join: the seed’s figure, orange ⋈ green between(-2 ms, +1 ms)', () => {
  it('inclusive bounds: orangeElem.ts - 2 <= greenElem.ts <= orangeElem.ts + 1, output timestamp max(left, right)', async () => {
    expect(await figureJoin(() => {})).toEqual(['0,0@0', '0,1@1', '2,0@2', '2,1@2', '3,1@3', '5,6@6', '7,6@7', '7,7@7'])
  })

  it('lowerBoundExclusive: orangeElem.ts - 2 < greenElem.ts', async () => {
    // Loses 2,0 (0 = 2 - 2) and 3,1 (1 = 3 - 2).
    expect(await figureJoin((j) => j.lowerBoundExclusive())).toEqual(['0,0@0', '0,1@1', '2,1@2', '5,6@6', '7,6@7', '7,7@7'])
  })

  it('upperBoundExclusive: greenElem.ts < orangeElem.ts + 1', async () => {
    // Loses 0,1 (1 = 0 + 1) and 5,6 (6 = 5 + 1).
    expect(await figureJoin((j) => j.upperBoundExclusive())).toEqual(['0,0@0', '2,0@2', '2,1@2', '3,1@3', '7,6@7', '7,7@7'])
  })

  it('both bounds exclusive', async () => {
    expect(await figureJoin((j) => j.lowerBoundExclusive().upperBoundExclusive())).toEqual(['0,0@0', '2,1@2', '7,6@7', '7,7@7'])
  })

  it('the output carries the pair’s timestamp into the next operator', async () => {
    const env = StreamExecutionEnvironment.create({ ...quiet })
    const orange = env.fromSource(fromElementsSource(ORANGE, { timestamps: (n) => n })).keyBy(() => 'k')
    const green = env.fromSource(fromElementsSource(GREEN, { timestamps: (n) => n })).keyBy(() => 'k')
    const sink = new CollectSink<string>()
    orange
      .intervalJoin(green)
      .between(-2, 1)
      .process<string>({ processElement: (o, g, _context, out) => out.collect(`${o},${g}`) })
      .process<string>({ processElement: (pair, context, out) => out.collect(`${pair}@${context.timestamp()}`) })
      .sinkTo(sink)
    await env.execute('timestamps').result
    expect([...sink.results].sort()).toEqual(['0,0@0', '0,1@1', '2,0@2', '2,1@2', '3,1@3', '5,6@6', '7,6@7', '7,7@7'])
  })

  it('rejects bounds Flink rejects, at build time', () => {
    const env = StreamExecutionEnvironment.create({ ...quiet })
    const a = env.fromElements(1).keyBy(() => 'k')
    const b = env.fromElements(2).keyBy(() => 'k')
    expect(() => a.intervalJoin(b).between(2, 1)).toThrow(/lowerBound <= upperBound must be fulfilled/)
    expect(() => a.intervalJoin(b).between(0.5, 1)).toThrow(JobGraphError)
    expect(() => a.intervalJoin(b).inProcessingTime()).toThrow(/only supported in event time/)
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

/**
 * Cuts a stream into `splits` scripts, shuffles each (out of order), and puts watermarks in that obey
 * the watermark contract (no later element of the script at or below it), so no element is late and
 * Flink's join equals the brute-force join.
 */
function toScripts(elements: Stamped[], splits: number, random: () => number): ScriptStep<Row>[][] {
  const scripts: Stamped[][] = Array.from({ length: splits }, () => [])
  for (const e of elements) (scripts[Math.floor(random() * splits)] as Stamped[]).push(e)
  return scripts.map((script) => {
    for (let i = script.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      ;[script[i], script[j]] = [script[j] as Stamped, script[i] as Stamped]
    }
    const steps: ScriptStep<Row>[] = []
    for (let i = 0; i < script.length; i++) {
      const e = script[i] as Stamped
      steps.push({ value: e.row, timestamp: e.timestamp })
      if (random() < 0.3) {
        let minimumAfter = Number.POSITIVE_INFINITY
        for (let j = i + 1; j < script.length; j++) minimumAfter = Math.min(minimumAfter, (script[j] as Stamped).timestamp)
        if (minimumAfter !== Number.POSITIVE_INFINITY) steps.push({ watermark: minimumAfter - 1 - Math.floor(random() * 3) })
      }
    }
    return steps
  })
}

function bruteForceInterval(lefts: Stamped[], rights: Stamped[], lower: number, upper: number): string[] {
  const out: string[] = []
  for (const l of lefts) {
    for (const r of rights) {
      if (l.row.key === r.row.key && r.timestamp >= l.timestamp + lower && r.timestamp <= l.timestamp + upper) {
        out.push(`${l.row.id}+${r.row.id}@${Math.max(l.timestamp, r.timestamp)}`)
      }
    }
  }
  return out.sort()
}

const streamArbitrary = (prefix: string) =>
  fc
    .array(fc.record({ key: fc.integer({ min: 0, max: 4 }), timestamp: fc.integer({ min: 0, max: 200 }) }), { maxLength: 60 })
    .map((items) => items.map((item, index) => ({ row: { key: item.key, id: `${prefix}${index}` }, timestamp: item.timestamp })))

describe('interval join: random out-of-order streams against a brute-force join', () => {
  it('equals the brute-force join for every bound variant, key spread and parallelism', async () => {
    await fc.assert(
      fc.asyncProperty(
        streamArbitrary('L'),
        streamArbitrary('R'),
        fc.integer({ min: -30, max: 30 }),
        fc.integer({ min: 0, max: 40 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer(),
        async (lefts, rights, lowerBound, width, lowerExclusive, upperExclusive, parallelism, splits, seed) => {
          let state = seed >>> 0
          const random = () => {
            state = (Math.imul(state, 1664525) + 1013904223) >>> 0
            return state / 2 ** 32
          }
          const env = StreamExecutionEnvironment.create({ parallelism, ...quiet })
          const left = env.fromSource(scriptedSource(toScripts(lefts, splits, random), { stepsPerPoll: 3 }), 'left').keyBy((r) => r.key)
          const right = env.fromSource(scriptedSource(toScripts(rights, splits, random), { stepsPerPoll: 3 }), 'right').keyBy((r) => r.key)
          let joined = left.intervalJoin(right).between(lowerBound, lowerBound + width)
          if (lowerExclusive) joined = joined.lowerBoundExclusive()
          if (upperExclusive) joined = joined.upperBoundExclusive()
          const sink = new CollectSink<string>()
          joined.process<string>({ processElement: (l, r, context, out) => out.collect(`${l.id}+${r.id}@${context.timestamp()}`) }).sinkTo(sink)
          await env.execute('interval-property').result
          const lower = lowerExclusive ? lowerBound + 1 : lowerBound
          const upper = upperExclusive ? lowerBound + width - 1 : lowerBound + width
          expect([...sink.results].sort()).toEqual(bruteForceInterval(lefts, rights, lower, upper))
        },
      ),
      { numRuns: 40 },
    )
  })

  it('sends late elements to the late-data side outputs instead of joining them', async () => {
    // Each source emits its first element and watermark 20, pauses 300 ms (so both watermarks reach the
    // join, whose watermark becomes min(20, 20) = 20), then a late element (below 20) and a good one.
    const env = StreamExecutionEnvironment.create({ ...quiet })
    const script = (side: 'L' | 'R', first: number, late: number, last: number): ScriptStep<Row>[] => [
      { value: { key: 1, id: `${side}${first}` }, timestamp: first },
      { watermark: 20 },
      { value: { key: 1, id: `${side}${late}` }, timestamp: late },
      { value: { key: 1, id: `${side}${last}` }, timestamp: last },
    ]
    const left = env.fromSource(scriptedSource([script('L', 10, 15, 30)], { pauseMs: 300 }), 'left').keyBy((r) => r.key)
    const right = env.fromSource(scriptedSource([script('R', 11, 5, 31)], { pauseMs: 300 }), 'right').keyBy((r) => r.key)
    const leftLate = new OutputTag<Row>('left-late')
    const rightLate = new OutputTag<Row>('right-late')
    const joined = left
      .intervalJoin(right)
      .between(-10, 5)
      .sideOutputLeftLateData(leftLate)
      .sideOutputRightLateData(rightLate)
      .process<string>({ processElement: (l, r, _c, out) => out.collect(`${l.id}+${r.id}`) })
    const main = new CollectSink<string>()
    const lateLeft = new CollectSink<Row>()
    const lateRight = new CollectSink<Row>()
    joined.sinkTo(main)
    joined.getSideOutput(leftLate).sinkTo(lateLeft)
    joined.getSideOutput(rightLate).sinkTo(lateRight)
    await env.execute('late').result
    // Without lateness L15 would join R11 and R5 would join L10 (both within [-10, +5]).
    expect([...main.results].sort()).toEqual(['L10+R11', 'L30+R31'])
    expect(lateLeft.results).toEqual([{ key: 1, id: 'L15' }])
    expect(lateRight.results).toEqual([{ key: 1, id: 'R5' }])
  })
})

// ------------------------------------------------------------------ checkpoint, failure, restore

let directory: string
beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'sluice-ij-'))
})
afterEach(async () => {
  await rm(directory, { recursive: true, force: true })
})

/** Two long ordered streams with watermarks, keys 0..9, left every ms and right every 3 ms. */
function longStreams(count: number): { lefts: Stamped[]; rights: Stamped[]; leftScripts: ScriptStep<Row>[][]; rightScripts: ScriptStep<Row>[][] } {
  const lefts: Stamped[] = []
  const rights: Stamped[] = []
  for (let t = 0; t < count; t++) {
    lefts.push({ row: { key: t % 10, id: `L${t}` }, timestamp: t })
    if (t % 3 === 0) rights.push({ row: { key: (t * 7) % 10, id: `R${t}` }, timestamp: t })
  }
  const script = (elements: Stamped[], splits: number) =>
    Array.from({ length: splits }, (_, s) => {
      const steps: ScriptStep<Row>[] = []
      elements.forEach((e, i) => {
        if (i % splits !== s) return
        steps.push({ value: e.row, timestamp: e.timestamp })
        if (i % 20 === 19) steps.push({ watermark: e.timestamp - 5 })
      })
      return steps
    })
  return { lefts, rights, leftScripts: script(lefts, 2), rightScripts: script(rights, 2) }
}

describe('interval join: checkpoint, failure and restore', () => {
  it('restarts from a checkpoint after a failure with exactly the brute-force result (0 lost, 0 duplicated)', async () => {
    const { lefts, rights, leftScripts, rightScripts } = longStreams(3000)
    let failuresLeft = 2
    let seen = 0
    const env = StreamExecutionEnvironment.create({
      parallelism: 2,
      checkpointing: { interval: 20, directory },
      restartStrategy: RestartStrategies.fixedDelay(5, 10),
      ...quiet,
    })
    const left = env.fromSource(scriptedSource(leftScripts, { stepsPerPoll: 20, pauseMs: 1 }), 'left').uid('left').keyBy((r) => r.key)
    const right = env.fromSource(scriptedSource(rightScripts, { stepsPerPoll: 7, pauseMs: 1 }), 'right').uid('right').keyBy((r) => r.key)
    const sink = new CollectSink<string>()
    left
      .intervalJoin(right)
      .between(-12, 4)
      .process<string>({
        processElement: (l, r, context, out) => {
          seen++
          if (failuresLeft > 0 && seen % 700 === 0) {
            failuresLeft--
            throw new Error(`injected failure after ${seen} pairs`)
          }
          out.collect(`${l.id}+${r.id}@${context.timestamp()}`)
        },
      })
      .uid('join')
      .sinkTo(sink)
    const result = await env.execute('ij-restart').result
    expect(result.metrics.restarts).toBe(2)
    expect(result.metrics.checkpointsCompleted).toBeGreaterThan(0)
    expect([...sink.results].sort()).toEqual(bruteForceInterval(lefts, rights, -12, 4))
  })

  it('stop-with-savepoint, then resume at another parallelism (2 → 3 → 1) with exactly the brute-force result', async () => {
    const { lefts, rights, leftScripts, rightScripts } = longStreams(3000)
    const sink = new CollectSink<string>()
    const build = (parallelism: number, fromSavepoint?: string) => {
      const env = StreamExecutionEnvironment.create({
        parallelism,
        checkpointing: { interval: 30, directory },
        ...quiet,
        ...(fromSavepoint ? { fromSavepoint } : {}),
      })
      const left = env.fromSource(scriptedSource(leftScripts, { stepsPerPoll: 20, pauseMs: 2 }), 'left').uid('left').keyBy((r) => r.key)
      const right = env.fromSource(scriptedSource(rightScripts, { stepsPerPoll: 7, pauseMs: 2 }), 'right').uid('right').keyBy((r) => r.key)
      left
        .intervalJoin(right)
        .between(-12, 4)
        .process<string>({ processElement: (l, r, context, out) => out.collect(`${l.id}+${r.id}@${context.timestamp()}`) })
        .uid('join')
        .sinkTo(sink)
        .uid('sink')
      return env.execute('ij-rescale')
    }
    const first = build(2)
    while (first.metrics().recordsFromSources < 1000) await new Promise((r) => setTimeout(r, 5))
    const savepoint1 = await first.stopWithSavepoint()
    await first.result
    const afterFirst = sink.results.length
    expect(afterFirst).toBeGreaterThan(0)

    const second = build(3, savepoint1)
    while (second.metrics().recordsFromSources < 1000) await new Promise((r) => setTimeout(r, 5))
    const savepoint2 = await second.stopWithSavepoint()
    await second.result
    expect(sink.results.length).toBeGreaterThan(afterFirst)

    const third = build(1, savepoint2)
    expect((await third.result).state).toBe('FINISHED')
    expect([...sink.results].sort()).toEqual(bruteForceInterval(lefts, rights, -12, 4))
  })
})
