import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { EventTimeTrigger } from '../../api/windowing/event-time-trigger.js'
import type { Trigger } from '../../api/windowing/trigger.js'
import { TumblingEventTimeWindows } from '../../api/windowing/tumbling-event-time-windows.js'
import type { Window } from '../../api/windowing/window.js'
import { WindowHarness } from './__fixtures__/window-harness.js'
import type { WindowOperatorSpec } from './window-operator.js'

type Element = [string, number]
type Step = { element: Element; timestamp: number } | { watermark: number }

/**
 * The tumbling fast path (default trigger, decided inline, the element's window found from the key's
 * last window) must decide exactly as the general path with the same trigger. An object that inherits
 * everything from the default trigger but is not it sends the operator down the general path.
 */
function build(fast: boolean, size: number, offset: number, allowedLateness: number): Promise<WindowHarness> {
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
  return WindowHarness.open((value) => (value as Element)[0], spec)
}

async function run(fast: boolean, size: number, offset: number, allowedLateness: number, steps: Step[]) {
  const harness = await build(fast, size, offset, allowedLateness)
  for (const step of steps) {
    if ('watermark' in step) harness.processWatermark(step.watermark)
    else harness.element(step.element, step.timestamp)
  }
  harness.processWatermark(Number.POSITIVE_INFINITY)
  return { main: harness.take(), late: harness.sideOutput('late') }
}

describe('WindowOperator: the tumbling fast path decides as the general path', () => {
  it('for random out-of-order elements around window boundaries, also at epoch-millisecond and negative times', async () => {
    const step = (base: number): fc.Arbitrary<Step> =>
      fc.oneof(
        {
          weight: 5,
          arbitrary: fc
            .record({ key: fc.constantFrom('a', 'b', 'c'), offset: fc.integer({ min: -30, max: 60 }), value: fc.integer({ min: 1, max: 9 }) })
            .map(({ key, offset, value }): Step => ({ element: [key, value], timestamp: base + offset })),
        },
        { weight: 1, arbitrary: fc.integer({ min: -35, max: 65 }).map((offset): Step => ({ watermark: base + offset })) },
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
