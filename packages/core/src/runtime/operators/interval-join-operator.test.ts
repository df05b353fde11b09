import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { OutputTag } from '../../api/functions.js'
import type { ProcessJoinFunction } from '../../api/process-join-function.js'
import { IllegalStateError } from '../../errors.js'
import { OperatorHarness } from '../__fixtures__/operator-harness.js'
import { IntervalJoinOperator } from './interval-join-operator.js'

interface Element {
  key: string
  id: string
}

const pairs: ProcessJoinFunction<Element, Element, string> = {
  processElement: (left, right, context, out) => out.collect(`${left.id}+${right.id}@${context.timestamp()}`),
}

/** The operator with inclusive bounds already applied, as `between(...)` + exclusivity would build it. */
function operator(lowerBound: number, upperBound: number, lateTags: { left?: OutputTag<unknown>; right?: OutputTag<unknown> } = {}) {
  return new IntervalJoinOperator('join', 'join', pairs as ProcessJoinFunction<unknown, unknown, unknown>, (e) => (e as Element).key, (e) => (e as Element).key, {
    lowerBound,
    upperBound,
    leftLateDataTag: lateTags.left,
    rightLateDataTag: lateTags.right,
  })
}

const left = (id: string, key = 'k'): Element => ({ key, id: `L${id}` })
const right = (id: string, key = 'k'): Element => ({ key, id: `R${id}` })

describe('IntervalJoinOperator', () => {
  it('joins in both arrival orders, emits each pair once with timestamp max(left, right)', async () => {
    const h = await OperatorHarness.open(operator(-2, 1))
    await h.element(1, left('5'), 5)
    await h.element(2, right('3'), 3) // 3 ∈ [3, 6]
    await h.element(2, right('6'), 6) // 6 ∈ [3, 6]
    await h.element(2, right('7'), 7) // outside
    await h.element(1, left('8'), 8) // right 6, 7 ∈ [6, 9]
    await h.element(2, right('2', 'other'), 5) // another key: nothing
    expect(h.output).toEqual([
      { value: 'L5+R3@5', timestamp: 5 },
      { value: 'L5+R6@6', timestamp: 6 },
      { value: 'L8+R6@8', timestamp: 8 },
      { value: 'L8+R7@8', timestamp: 8 },
    ])
  })

  it('treats an element below the watermark as late (dropped, or to the side output); one at the watermark is not late', async () => {
    const leftLate = new OutputTag<unknown>('left-late')
    const rightLate = new OutputTag<unknown>('right-late')
    const h = await OperatorHarness.open(operator(-5, 5, { left: leftLate, right: rightLate }))
    await h.element(2, right('10'), 10)
    h.watermarkTo(10)
    await h.element(1, left('9'), 9) // late: 9 < 10
    await h.element(2, right('9'), 9) // late
    await h.element(1, left('10'), 10) // not late: joins R10
    expect(h.takeValues()).toEqual(['L10+R10@10'])
    expect(h.sideOutputs.get('left-late')).toEqual([{ value: left('9'), timestamp: 9 }])
    expect(h.sideOutputs.get('right-late')).toEqual([{ value: right('9'), timestamp: 9 }])
  })

  it('removes a left element once the watermark reaches t + upperBound and a right one at t - lowerBound', async () => {
    const op = operator(-2, 1)
    const h = await OperatorHarness.open(op)
    await h.element(1, left('5'), 5) // cleanup at 6
    await h.element(2, right('5'), 5) // cleanup at 7 (5 - (-2))
    expect(h.takeValues()).toEqual(['L5+R5@5'])
    expect(op.bufferedElements()).toEqual({ left: 1, right: 1 })
    h.watermarkTo(5)
    expect(op.bufferedElements()).toEqual({ left: 1, right: 1 })
    h.watermarkTo(6)
    expect(op.bufferedElements()).toEqual({ left: 0, right: 1 })
    // A right element at 6 is not late (6 == watermark), is in [3, 6] of L5, but L5 is gone: Flink's rule.
    await h.element(2, right('6'), 6)
    expect(h.takeValues()).toEqual([])
    h.watermarkTo(8)
    expect(op.bufferedElements()).toEqual({ left: 0, right: 0 })
  })

  it('uses t as the cleanup time when the bound on that side is not positive', async () => {
    const op = operator(1, 3) // right elements join left ones 1..3 ms earlier: right cleanup at t
    const h = await OperatorHarness.open(op)
    await h.element(2, right('4'), 4)
    await h.element(1, left('1'), 1) // 4 ∈ [2, 4]
    expect(h.takeValues()).toEqual(['L1+R4@4'])
    h.watermarkTo(4) // left cleanup at 1 + 3 = 4, right at 4
    expect(op.bufferedElements()).toEqual({ left: 0, right: 0 })
  })

  it('keeps an element that arrives at the watermark with its own timestamp as cleanup time until the next watermark (Flink’s timer service)', async () => {
    // between(0, 0): both cleanup times are the element's timestamp. Watermark 16 is already there when R16
    // (not late: 16 == watermark) registers its cleanup at 16; in Flink that timer fires at the next
    // watermark, so L16, arriving before it, joins R16.
    for (const leftFirst of [false, true]) {
      const op = operator(0, 0)
      const h = await OperatorHarness.open(op)
      h.watermarkTo(16)
      if (leftFirst) await h.element(1, left('16'), 16)
      await h.element(2, right('16'), 16)
      if (!leftFirst) await h.element(1, left('16'), 16)
      expect(h.takeValues()).toEqual(['L16+R16@16'])
      expect(op.bufferedElements()).toEqual({ left: 1, right: 1 })
      h.watermarkTo(17)
      expect(op.bufferedElements()).toEqual({ left: 0, right: 0 })
    }
  })

  it('fails with an IllegalStateError for an element without a timestamp', async () => {
    const h = await OperatorHarness.open(operator(0, 1))
    await expect(h.element(1, left('x'))).rejects.toSatisfy((e) => IllegalStateError.isInstance(e) && /has no timestamp/.test(String(e)))
  })

  it('restores buffers and cleanup timers from a snapshot', async () => {
    const first = await OperatorHarness.open(operator(-2, 1))
    await first.element(1, left('5'), 5)
    await first.element(2, right('9'), 9)
    const state = await first.snapshot()
    const op = operator(-2, 1)
    const second = await OperatorHarness.open(op, { restoredState: state })
    expect(op.bufferedElements()).toEqual({ left: 1, right: 1 })
    await second.element(2, right('4'), 4)
    await second.element(1, left('10'), 10)
    expect(second.takeValues()).toEqual(['L5+R4@5', 'L10+R9@10'])
    second.watermarkTo(11) // timers restored: L5 at 6, R9 at 11, R4 at 6, L10 at 11
    expect(op.bufferedElements()).toEqual({ left: 0, right: 0 })
  })

  it('keeps state bounded on an endless stream: buffered elements stay flat as the watermark advances', async () => {
    const op = operator(-20, 10)
    const h = await OperatorHarness.open(op)
    const sizes: number[] = []
    for (let t = 0; t < 20_000; t++) {
      await h.element(1, left(String(t), `k${t % 7}`), t)
      await h.element(2, right(String(t), `k${t % 5}`), t)
      if (t % 10 === 0) h.watermarkTo(t - 5)
      if (t % 5000 === 4999) {
        const { left: l, right: r } = op.bufferedElements()
        sizes.push(l + r)
      }
      h.output.length = 0
    }
    // Left elements live ~upperBound + 5 ms, right ones ~|lowerBound| + 5 ms behind the watermark.
    expect(Math.max(...sizes)).toBeLessThan(80)
    expect(new Set(sizes).size).toBe(1)
  })
})

// ------------------------------------------------------------------ property: Flink's rules, brute force

type Step = { kind: 'left' | 'right'; key: number; timestamp: number } | { kind: 'watermark'; advance: number }

/**
 * A literal model of Flink's IntervalJoinOperator over arrays, with no maps: every element is kept with
 * the time of its cleanup timer, and a pair is emitted when the second element arrives (not late) while
 * the first is still buffered. A cleanup timer fires, as in Flink's timer service, when a watermark
 * `>= its time` *arrives*: a timer registered at or below the current watermark (an element at the
 * watermark, which is not late, on a side whose cleanup time is its own timestamp) waits for the next
 * watermark, and until then the element still joins.
 */
function flinkModel(steps: Step[], lower: number, upper: number): string[] {
  const out: string[] = []
  let alive: { side: 'left' | 'right'; key: number; timestamp: number; id: number; cleanupAt: number }[] = []
  let watermark = Number.NEGATIVE_INFINITY
  steps.forEach((step, id) => {
    if (step.kind === 'watermark') {
      if (step.advance <= watermark) return // watermarks only rise: an old one fires nothing
      watermark = step.advance
      alive = alive.filter((element) => element.cleanupAt > watermark)
      return
    }
    if (step.timestamp < watermark) return
    const isLeft = step.kind === 'left'
    for (const other of alive) {
      if (other.side === step.kind || other.key !== step.key) continue
      const [l, r] = isLeft ? [step.timestamp, other.timestamp] : [other.timestamp, step.timestamp]
      if (r >= l + lower && r <= l + upper) out.push(isLeft ? `${id}+${other.id}@${Math.max(l, r)}` : `${other.id}+${id}@${Math.max(l, r)}`)
    }
    const cleanupAt = isLeft ? (upper > 0 ? step.timestamp + upper : step.timestamp) : -lower > 0 ? step.timestamp - lower : step.timestamp
    alive.push({ side: step.kind, key: step.key, timestamp: step.timestamp, id, cleanupAt })
  })
  return out
}

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constantFrom('left' as const, 'right' as const), key: fc.integer({ min: 0, max: 2 }), timestamp: fc.integer({ min: -5, max: 25 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('watermark' as const), advance: fc.integer({ min: -5, max: 25 }) }) },
)

describe('IntervalJoinOperator against a brute-force model of Flink’s rules', () => {
  it('emits exactly the model’s pairs, in the same order, for random out-of-order input with late elements', async () => {
    const idJoin: ProcessJoinFunction<{ key: number; id: number }, { key: number; id: number }, string> = {
      processElement: (l, r, context, out) => out.collect(`${l.id}+${r.id}@${context.timestamp()}`),
    }
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArbitrary, { maxLength: 120 }),
        fc.integer({ min: -8, max: 8 }),
        fc.integer({ min: 0, max: 10 }),
        fc.boolean(),
        fc.boolean(),
        async (steps, lowerBound, width, lowerExclusive, upperExclusive) => {
          const upperBound = lowerBound + width
          const lower = lowerExclusive ? lowerBound + 1 : lowerBound
          const upper = upperExclusive ? upperBound - 1 : upperBound
          const op = new IntervalJoinOperator(
            'join',
            'join',
            idJoin as ProcessJoinFunction<unknown, unknown, unknown>,
            (e) => (e as { key: number }).key,
            (e) => (e as { key: number }).key,
            { lowerBound: lower, upperBound: upper, leftLateDataTag: undefined, rightLateDataTag: undefined },
          )
          const h = await OperatorHarness.open(op)
          for (const [id, step] of steps.entries()) {
            if (step.kind === 'watermark') h.watermarkTo(step.advance)
            else await h.element(step.kind === 'left' ? 1 : 2, { key: step.key, id }, step.timestamp)
          }
          // Within one arrival, Flink's order over the other buffer is its map's order; compare per arrival as sets.
          const sortWithinArrival = (values: string[]) =>
            [...values].sort((a, b) => arrival(a) - arrival(b) || a.localeCompare(b))
          const arrival = (pair: string) => {
            const [l, rest] = pair.split('+') as [string, string]
            return Math.max(Number(l), Number(rest.split('@')[0]))
          }
          expect(sortWithinArrival(h.takeValues() as string[])).toEqual(sortWithinArrival(flinkModel(steps, lower, upper)))
        },
      ),
      {
        numRuns: 500,
        examples: [
          // Found by fast-check (seeds -837972051, -1205252585): R16 arrives at watermark 16 (not late), its
          // cleanup timer (at 16, as lowerBound = 0) waits for the next watermark, so L16 still joins it;
          // likewise L0 at watermark 0 with upperBound = 0. The model once dropped such an element as soon
          // as the watermark had reached its cleanup time: it failed 2 of 150 runs of this test (75 000
          // cases), at random, since each run draws a new seed.
          [[{ kind: 'watermark', advance: 16 }, { kind: 'right', key: 0, timestamp: 16 }, { kind: 'left', key: 0, timestamp: 16 }], 0, 0, false, false],
          [[{ kind: 'watermark', advance: 0 }, { kind: 'left', key: 2, timestamp: 0 }, { kind: 'right', key: 2, timestamp: 0 }], -2, 2, false, false],
        ],
      },
    )
  })
})
