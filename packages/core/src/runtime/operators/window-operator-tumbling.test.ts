import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { EventTimeTrigger } from '../../api/windowing/event-time-trigger.js'
import type { Trigger } from '../../api/windowing/trigger.js'
import { TumblingEventTimeWindows } from '../../api/windowing/tumbling-event-time-windows.js'
import type { Window } from '../../api/windowing/window.js'
import { WindowHarness } from './__fixtures__/window-harness.js'
import type { WindowOperatorSpec } from './window-operator.js'

type Element = [string | number, number]
type Step = { element: Element; timestamp: number } | { batch: [Element, number][] } | { watermark: number } | { restore: true }

/**
 * The tumbling fast path (default trigger, decided inline, the element's window found from the key's
 * last window) must decide exactly as the general path with the same trigger. An object that inherits
 * everything from the default trigger but is not it sends the operator down the general path.
 */
function build(
  fast: boolean,
  size: number,
  offset: number,
  allowedLateness: number,
  restore?: { state: ReturnType<WindowHarness['snapshot']>; watermark: number },
): Promise<WindowHarness> {
  const trigger = fast ? EventTimeTrigger.create() : (Object.create(EventTimeTrigger.create()) as EventTimeTrigger)
  const spec: WindowOperatorSpec = {
    assigner: TumblingEventTimeWindows.of(size, offset) as unknown as WindowOperatorSpec['assigner'],
    trigger: trigger as unknown as Trigger<unknown, Window>,
    evictor: undefined,
    allowedLateness,
    lateDataTag: 'late',
    contents: { kind: 'reduce', reduce: (a, b) => [(a as Element)[0], (a as Element)[1] + (b as Element)[1]] },
    windowFunction: undefined,
  }
  return WindowHarness.open(
    (value) => (value as Element)[0],
    spec,
    restore === undefined ? {} : { restoredState: restore.state, watermark: restore.watermark },
  )
}

async function run(fast: boolean, size: number, offset: number, allowedLateness: number, steps: Step[]) {
  let harness = await build(fast, size, offset, allowedLateness)
  const main: string[] = []
  const late: string[] = []
  let watermark = Number.NEGATIVE_INFINITY
  for (const step of steps) {
    if ('watermark' in step) {
      harness.processWatermark(step.watermark)
      watermark = Math.max(watermark, step.watermark)
    }
    else if ('batch' in step) harness.batch(step.batch)
    else if ('restore' in step) {
      // A restore in the middle: the new operator starts from the snapshot, with nothing cached.
      const state = harness.snapshot()
      main.push(...harness.take())
      late.push(...harness.sideOutput('late'))
      harness = await build(fast, size, offset, allowedLateness, { state, watermark })
    } else harness.element(step.element, step.timestamp)
  }
  harness.processWatermark(Number.POSITIVE_INFINITY)
  main.push(...harness.take())
  late.push(...harness.sideOutput('late'))
  return { main, late }
}

describe('WindowOperator: the tumbling fast path decides as the general path', () => {
  it('for random out-of-order elements and batches around window boundaries, also at epoch-millisecond and negative times, across restores', async () => {
    // String keys and number keys: small integers (an array in the operator's cache), -0 (the same key
    // as 0), negative, fractional and large ones (a map).
    const keys = fc.constantFrom<string | number>('a', 'b', 'c', 0, -0, 1, 7, -3, 2.5, 70_000)
    const element = (base: number): fc.Arbitrary<[Element, number]> =>
      fc
        .record({ key: keys, offset: fc.integer({ min: -30, max: 60 }), value: fc.integer({ min: 1, max: 9 }) })
        .map(({ key, offset, value }) => [[key, value], base + offset])
    const step = (base: number): fc.Arbitrary<Step> =>
      fc.oneof(
        { weight: 5, arbitrary: element(base).map(([element, timestamp]): Step => ({ element, timestamp })) },
        { weight: 2, arbitrary: fc.array(element(base), { minLength: 1, maxLength: 12 }).map((batch): Step => ({ batch })) },
        { weight: 1, arbitrary: fc.integer({ min: -35, max: 65 }).map((offset): Step => ({ watermark: base + offset })) },
        { weight: 1, arbitrary: fc.constant<Step>({ restore: true }) },
      )
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(0, -1_000, 1_700_000_000_000).chain((base) => fc.array(step(base), { minLength: 1, maxLength: 60 })),
        fc.integer({ min: 1, max: 12 }).chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: -(size - 1), max: size - 1 }))),
        fc.integer({ min: 0, max: 8 }),
        async (steps, [size, offset], allowedLateness) => {
          const fast = await run(true, size, offset, allowedLateness, steps)
          const general = await run(false, size, offset, allowedLateness, steps)
          expect(fast).toEqual(general)
        },
      ),
      { numRuns: 300 },
    )
  })
})
