/**
 * Random scenarios for the differential test against Apache Flink (flink-differential.it.test.ts).
 *
 * A scenario is plain JSON: the Node side runs it in Sluice (run-sluice.ts), the Java side
 * (tools/flink-reference) runs it in Flink 2.2, and both print the same canonical lines.
 *
 * Inputs are lists of items in the order a parallelism-1 source emits them: an element
 * `{ k, v, ts }` (key, small value, event timestamp, possibly negative) or a watermark marker
 * `{ wm }`. In both systems a punctuated watermark generator emits the marker's watermark when it
 * sees the marker (periodic emission is off), and a filter then drops the markers, so the watermarks
 * sit at exactly these places of the stream. A watermark that does not rise is ignored by both.
 */

export type Item = { readonly k: string; readonly v: number; readonly ts: number } | { readonly wm: number }

export type TimeAssignerSpec =
  | { readonly type: 'tumbling'; readonly size: number; readonly offset: number }
  | { readonly type: 'sliding'; readonly size: number; readonly slide: number; readonly offset: number }
  /** With `dynamic`, each element's gap is `gap + v % 3` (withDynamicGap), else `gap` (withGap). */
  | { readonly type: 'session'; readonly gap: number; readonly dynamic: boolean }

/** `countWindow(size)` (slide null) or `countWindow(size, slide)`: GlobalWindows with CountTrigger. */
export type CountAssignerSpec = { readonly type: 'count'; readonly size: number; readonly slide: number | null }

export type EvictorSpec =
  | { readonly type: 'count'; readonly max: number; readonly after: boolean }
  | { readonly type: 'time'; readonly size: number; readonly after: boolean }
  /** DeltaEvictor with delta `|a.v - b.v|`. */
  | { readonly type: 'delta'; readonly threshold: number; readonly after: boolean }

/** A trigger replacing the default event-time trigger of a time window (`null`: the default). */
export type TriggerSpec =
  | { readonly type: 'count'; readonly n: number; readonly purging: boolean }
  | { readonly type: 'continuous'; readonly interval: number; readonly purging: boolean }
  | { readonly type: 'event'; readonly purging: true }

/**
 * `process+state` is a process window function that counts its firings per window (windowState, cleared
 * in `clear`) and per key (globalState); never on sessions, where Flink forbids per-window state.
 */
export type WindowFunctionKind = 'reduce' | 'aggregate' | 'process' | 'reduce+process' | 'aggregate+process' | 'process+state'

export interface WindowScenario {
  readonly id: string
  readonly kind: 'window'
  readonly parallelism: number
  readonly assigner: TimeAssignerSpec | CountAssignerSpec
  readonly trigger: TriggerSpec | null
  readonly lateness: number
  readonly sideOutputLate: boolean
  readonly fn: WindowFunctionKind
  readonly evictor: EvictorSpec | null
  readonly input: readonly Item[]
}

export interface WindowJoinScenario {
  readonly id: string
  readonly kind: 'join' | 'cogroup'
  readonly parallelism: number
  readonly assigner: TimeAssignerSpec
  readonly left: readonly Item[]
  readonly right: readonly Item[]
}

export interface IntervalJoinScenario {
  readonly id: string
  readonly kind: 'interval'
  readonly parallelism: number
  readonly lower: number
  readonly upper: number
  readonly lowerExclusive: boolean
  readonly upperExclusive: boolean
  readonly left: readonly Item[]
  readonly right: readonly Item[]
}

export type Scenario = WindowScenario | WindowJoinScenario | IntervalJoinScenario

/** mulberry32: a small seeded PRNG, enough to make reproducible test inputs. */
export class Random {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }
  chance(p: number): boolean {
    return this.next() < p
  }
  pick<T>(values: readonly T[]): T {
    return values[Math.floor(this.next() * values.length)] as T
  }
}

const KEYS = ['a', 'b', 'c', 'd']

/** Elements with timestamps that drift forward with jitter, so they arrive out of order. */
function elements(random: Random, count: number, keyCount: number): { k: string; v: number; ts: number }[] {
  const keys = KEYS.slice(0, keyCount)
  const start = random.int(-40, 5)
  const step = random.int(1, 3)
  const jitter = random.int(0, 12)
  const out: { k: string; v: number; ts: number }[] = []
  for (let index = 0; index < count; index++) {
    out.push({ k: random.pick(keys), v: random.int(0, 9), ts: start + index * step + random.int(-jitter, jitter) })
  }
  return out
}

/**
 * One input with watermarks that make some elements late: every few elements a watermark near the
 * highest timestamp seen so far (sometimes ahead of it, sometimes behind the previous one).
 */
function lateInput(random: Random): Item[] {
  const items: Item[] = []
  const source = elements(random, random.int(4, 40), random.int(1, 4))
  let maxSeen = Number.NEGATIVE_INFINITY
  let untilWatermark = random.int(1, 5)
  const lag = random.int(0, 10)
  for (const element of source) {
    items.push(element)
    maxSeen = Math.max(maxSeen, element.ts)
    if (--untilWatermark === 0) {
      untilWatermark = random.int(1, 6)
      items.push({ wm: maxSeen - random.int(-3, lag) })
    }
  }
  if (random.chance(0.3)) items.push({ wm: maxSeen + random.int(0, 20) })
  return items
}

/**
 * One side of a two-input scenario, with watermarks that never make an element late, whatever the
 * interleaving of the two inputs.
 *
 * Determinism: with two inputs the operator's watermark is min(wmLeft, wmRight), and in Flink how the
 * two inputs interleave depends on timing, so whether an element is late would not be determined by
 * the input. So every watermark of a side is at most `min(timestamps of that side's later elements)
 * - slack - 1`, where `slack` is the largest window size / session gap / |interval bound|: no later
 * element of either side can then be late, fall into a window that already fired, touch a session that
 * already closed, or miss a partner that an interval join already removed from its buffer. The
 * elements are still out of order within that slack, and then the output multiset is determined by the
 * input in both systems. (Late data of joins is covered by the property tests against a brute-force
 * reference: window-join.test.ts, interval-join.test.ts.)
 */
function safeInput(random: Random, slack: number, keyCount: number): Item[] {
  const source = elements(random, random.int(1, 30), keyCount)
  const minFrom: number[] = new Array(source.length + 1).fill(Number.POSITIVE_INFINITY)
  for (let index = source.length - 1; index >= 0; index--) {
    minFrom[index] = Math.min((source[index] as { ts: number }).ts, minFrom[index + 1] as number)
  }
  const items: Item[] = []
  let maxSeen = Number.NEGATIVE_INFINITY
  let untilWatermark = random.int(1, 5)
  for (let index = 0; index < source.length; index++) {
    const element = source[index] as { k: string; v: number; ts: number }
    items.push(element)
    maxSeen = Math.max(maxSeen, element.ts)
    if (--untilWatermark === 0) {
      untilWatermark = random.int(1, 6)
      const bound = minFrom[index + 1] as number
      items.push({ wm: bound === Number.POSITIVE_INFINITY ? maxSeen + random.int(0, 10) : bound - slack - 1 - random.int(0, 3) })
    }
  }
  return items
}

/**
 * Dynamic session gaps only with one input (`dynamicSessions`). With dynamic gaps a new element's window
 * can equal an in-flight window that is itself the result of a merge ([12,13) + [12,14) = [12,14), then a
 * new [12,14)); Flink's MergingWindowSet.addWindow then maps that window to a fresh state window and the
 * contents gathered so far are lost. Sluice does the same, so with one input the outputs agree; with two
 * inputs whether that happens depends on how Flink interleaves them, so the output is not determined.
 */
function timeAssigner(random: Random, dynamicSessions: boolean): TimeAssignerSpec {
  switch (random.int(0, 2)) {
    case 0: {
      const size = random.int(1, 12)
      // Flink requires |offset| < size.
      return { type: 'tumbling', size, offset: random.chance(0.5) ? 0 : random.int(-(size - 1), size - 1) }
    }
    case 1: {
      const slide = random.int(1, 6)
      const size = random.chance(0.5) ? slide * random.int(1, 4) : random.int(slide, 4 * slide + 3)
      // Flink requires |offset| < slide.
      return { type: 'sliding', size, slide, offset: random.chance(0.5) ? 0 : random.int(-(slide - 1), slide - 1) }
    }
    default:
      return { type: 'session', gap: random.int(1, 8), dynamic: dynamicSessions && random.chance(0.3) }
  }
}

/** The largest window (or session gap) an element of this assigner can open. */
function slackOf(assigner: TimeAssignerSpec): number {
  if (assigner.type === 'session') return assigner.dynamic ? assigner.gap + 2 : assigner.gap
  return assigner.size
}

function triggerSpec(random: Random): TriggerSpec | null {
  if (random.chance(0.65)) return null
  switch (random.int(0, 2)) {
    case 0:
      return { type: 'count', n: random.int(1, 4), purging: random.chance(0.5) }
    case 1:
      return { type: 'continuous', interval: random.int(1, 6), purging: random.chance(0.3) }
    default:
      return { type: 'event', purging: true }
  }
}

function windowScenario(random: Random, id: string): WindowScenario {
  const count = random.chance(0.15)
  const assigner: TimeAssignerSpec | CountAssignerSpec = count
    ? (() => {
        const size = random.int(1, 4)
        return { type: 'count' as const, size, slide: random.chance(0.5) ? null : random.int(1, size) }
      })()
    : timeAssigner(random, true)
  let evictor: EvictorSpec | null = null
  // countWindow(size, slide) brings its own CountEvictor. A CountEvictor evicts by arrival order, and the
  // order of a merged session's contents is an artefact of Flink's HashSet iteration: no CountEvictor on
  // sessions (TimeEvictor does not depend on the order).
  const fn = random.pick(['reduce', 'aggregate', 'process', 'reduce+process', 'aggregate+process', ...(assigner.type === 'session' ? [] : (['process+state'] as const))] as const)
  if (!(assigner.type === 'count' && assigner.slide !== null) && random.chance(0.25)) {
    const after = random.chance(0.5)
    // TimeEvictor.of(0) before the function empties the window (every element has timestamp <= max - 0).
    // Flink then hands the reduce's window function a null (ReduceApplyProcessWindowFunction) where Sluice
    // emits nothing, a deliberate difference (window-operator.ts): an empty window only with aggregate/process.
    const minTimeSize = fn.startsWith('reduce') && !after ? 1 : 0
    // CountEvictor and DeltaEvictor depend on the order of the contents (arrival order; the last element).
    const orderFree = assigner.type === 'session'
    const roll = random.int(0, 2)
    evictor =
      roll === 0 && !orderFree
        ? { type: 'count', max: random.int(1, 3), after }
        : roll === 1 && !orderFree
          ? { type: 'delta', threshold: random.int(1, 6), after }
          : { type: 'time', size: random.int(minTimeSize, 5), after }
  }
  return {
    id,
    kind: 'window',
    parallelism: random.int(1, 3),
    assigner,
    trigger: assigner.type === 'count' ? null : triggerSpec(random),
    lateness: random.chance(0.5) ? 0 : random.int(1, 10),
    sideOutputLate: random.chance(0.7),
    fn,
    evictor,
    input: lateInput(random),
  }
}

function windowJoinScenario(random: Random, id: string, kind: 'join' | 'cogroup'): WindowJoinScenario {
  const assigner = timeAssigner(random, false)
  const keyCount = random.int(1, 3)
  return {
    id,
    kind,
    parallelism: random.int(1, 3),
    assigner,
    left: safeInput(random, slackOf(assigner), keyCount),
    right: safeInput(random, slackOf(assigner), keyCount),
  }
}

function intervalJoinScenario(random: Random, id: string): IntervalJoinScenario {
  let lower = random.int(-8, 6)
  let upper = random.int(-6, 8)
  if (lower > upper) [lower, upper] = [upper, lower]
  if (random.chance(0.15)) upper = lower
  const keyCount = random.int(1, 3)
  const slack = Math.max(Math.abs(lower), Math.abs(upper)) + 1
  return {
    id,
    kind: 'interval',
    parallelism: random.int(1, 3),
    lower,
    upper,
    lowerExclusive: random.chance(0.4),
    upperExclusive: random.chance(0.4),
    left: safeInput(random, slack, keyCount),
    right: safeInput(random, slack, keyCount),
  }
}

/**
 * `count` scenarios from `seed`: about half window aggregations (with lateness and late data),
 * the rest window joins, co-groups and interval joins. Ids are `<kind>-<n>`; the same seed and count
 * always give the same scenarios.
 */
export function generateScenarios(seed: number, count: number): Scenario[] {
  const random = new Random(seed)
  const scenarios: Scenario[] = []
  for (let index = 0; index < count; index++) {
    const roll = random.next()
    const n = String(index).padStart(3, '0')
    if (roll < 0.5) scenarios.push(windowScenario(random, `window-${n}`))
    else if (roll < 0.65) scenarios.push(windowJoinScenario(random, `join-${n}`, 'join'))
    else if (roll < 0.77) scenarios.push(windowJoinScenario(random, `cogroup-${n}`, 'cogroup'))
    else scenarios.push(intervalJoinScenario(random, `interval-${n}`))
  }
  return scenarios
}
