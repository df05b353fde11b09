import { describe, expect, it } from 'vitest'
import { StreamExecutionEnvironment } from '../src/api/environment.js'
import type { ProcessFunction } from '../src/api/functions.js'
import { TumblingProcessingTimeWindows } from '../src/api/windowing/tumbling-processing-time-windows.js'
import { type ScriptStep, scriptedSource } from './__fixtures__/scripted-source.js'

const quiet = { onWarning: () => {} }
const WINDOW_MS = 1000

interface Row {
  key: string
  id: string
}

/** Key c has no right element and key d no left one: neither may appear in the join. */
const LEFT: Row[] = [
  { key: 'a', id: 'L0' },
  { key: 'a', id: 'L1' },
  { key: 'b', id: 'L2' },
  { key: 'c', id: 'L3' },
]
const RIGHT: Row[] = [
  { key: 'a', id: 'R0' },
  { key: 'b', id: 'R1' },
  { key: 'b', id: 'R2' },
  { key: 'd', id: 'R3' },
]
/** The inner join of one window holding every element: all pairs of equal keys. */
const CROSS_PRODUCT = ['L0+R0', 'L1+R0', 'L2+R1', 'L2+R2']

/** Appends `@timestamp`: the results of a window carry its `maxTimestamp()`, which names the window. */
const withTimestamp: ProcessFunction<string, string> = {
  processElement: (value, context, out) => out.collect(`${value}@${context.timestamp()}`),
}

/** Every element at once (event timestamps are irrelevant to processing-time windows); endless, so the job runs until the wall clock fires the window. */
const script = (rows: Row[]): ScriptStep<Row>[][] => [rows.map((value, index) => ({ value, timestamp: index }))]

interface Emitted {
  left: string
  right: string
  /** The window's maxTimestamp. */
  window: number
}

/**
 * Starts the job just after a window boundary, waits until the expected number of pairs arrived and
 * then one more window (so a duplicate would show), and cancels it.
 */
async function runJoin(): Promise<Emitted[]> {
  await new Promise((resolve) => setTimeout(resolve, WINDOW_MS - (Date.now() % WINDOW_MS) + 10))
  const env = StreamExecutionEnvironment.create({ parallelism: 2, ...quiet })
  const left = env.fromSource(scriptedSource(script(LEFT), { unbounded: true }), 'left')
  const right = env.fromSource(scriptedSource(script(RIGHT), { unbounded: true }), 'right')
  // A plain sink: it sees records as they are written (CollectSink commits only at checkpoints).
  const results: string[] = []
  left
    .join(right)
    .where((row) => row.key)
    .equalTo((row) => row.key)
    .window(TumblingProcessingTimeWindows.of(WINDOW_MS))
    .apply((l, r) => `${l.id}+${r.id}`)
    .process(withTimestamp)
    .sinkTo({ createWriter: () => ({ write: (records: readonly string[]) => void results.push(...records), flush() {}, close() {} }) })
  const job = env.execute('processing-time-join')
  const deadline = Date.now() + 4 * WINDOW_MS
  while (results.length < CROSS_PRODUCT.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  await new Promise((resolve) => setTimeout(resolve, WINDOW_MS + 100))
  await job.cancel()
  expect((await job.result).state).toBe('CANCELED')
  return [...results].map((line) => {
    const match = /^(L\d)\+(R\d)@(-?\d+)$/.exec(line)
    if (match === null) throw new Error(`unexpected output ${line}`)
    return { left: match[1] as string, right: match[2] as string, window: Number(match[3]) }
  })
}

/** What holds however the wall clock cut the input into windows. */
function expectValidPerWindow(emitted: Emitted[]): void {
  const keyOf = new Map([...LEFT, ...RIGHT].map((row) => [row.id, row.key]))
  // Every pair is an equal-key pair; a tumbling window never repeats a pair.
  for (const e of emitted) expect(keyOf.get(e.left)).toBe(keyOf.get(e.right))
  expect(new Set(emitted.map((e) => `${e.left}+${e.right}`)).size).toBe(emitted.length)
  // Every element is in one window only.
  const windowOf = new Map<string, number>()
  for (const e of emitted) {
    for (const id of [e.left, e.right]) {
      expect(windowOf.get(id) ?? e.window).toBe(e.window)
      windowOf.set(id, e.window)
    }
  }
  // Per window: the pairs are the whole cross product of the window's elements of each key.
  for (const window of new Set(emitted.map((e) => e.window))) {
    const inWindow = emitted.filter((e) => e.window === window)
    const lefts = new Set(inWindow.map((e) => e.left))
    const rights = new Set(inWindow.map((e) => e.right))
    const expected = [...lefts].flatMap((l) => [...rights].filter((r) => keyOf.get(l) === keyOf.get(r)).map((r) => `${l}+${r}`))
    expect(inWindow.map((e) => `${e.left}+${e.right}`).sort()).toEqual(expected.sort())
  }
}

describe('window join: tumbling processing-time windows', () => {
  /**
   * Purpose: the window join in processing time emits, per window, every pair of equal keys of the two
   * sides exactly once.
   * Method: two endless scripted sources emit all their elements as soon as the job runs, started just
   * after a 1 s window boundary so that both sides land in one window; join with
   * TumblingProcessingTimeWindows.of(1000) at parallelism 2, then wait one more window and cancel.
   * Pass: every emitted pair is an equal-key pair, and the pairs are exactly the full cross product per
   * key, all in one window, none twice. Should a stalled machine let the wall clock cut the input
   * (pairs in two windows), the per-window invariants are still checked and the run is repeated once.
   */
  it('emits the full cross product per key exactly once when both sides fall in one window', async () => {
    let emitted = await runJoin()
    expectValidPerWindow(emitted)
    if (new Set(emitted.map((e) => e.window)).size > 1) {
      emitted = await runJoin()
      expectValidPerWindow(emitted)
    }
    expect(new Set(emitted.map((e) => e.window)).size).toBe(1)
    expect(emitted.map((e) => `${e.left}+${e.right}`).sort()).toEqual(CROSS_PRODUCT)
    const window = (emitted[0] as Emitted).window
    expect((window + 1) % WINDOW_MS).toBe(0)
  }, 20_000)
})
