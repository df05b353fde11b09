import { describe, expect, it } from 'vitest'
import { type AggregateFunction, ValueStateDescriptor } from '../../api/state.js'
import { ContinuousEventTimeTrigger } from '../../api/windowing/continuous-event-time-trigger.js'
import { ContinuousProcessingTimeTrigger } from '../../api/windowing/continuous-processing-time-trigger.js'
import { CountEvictor } from '../../api/windowing/count-evictor.js'
import { CountTrigger } from '../../api/windowing/count-trigger.js'
import { EventTimeSessionWindows } from '../../api/windowing/event-time-session-windows.js'
import { GlobalWindows } from '../../api/windowing/global-windows.js'
import type { ProcessWindowFunction } from '../../api/windowing/process-window-function.js'
import { ProcessingTimeSessionWindows } from '../../api/windowing/processing-time-session-windows.js'
import { PurgingTrigger } from '../../api/windowing/purging-trigger.js'
import { SlidingEventTimeWindows } from '../../api/windowing/sliding-event-time-windows.js'
import { TimeEvictor } from '../../api/windowing/time-evictor.js'
import type { TimeWindow } from '../../api/windowing/time-window.js'
import type { Trigger } from '../../api/windowing/trigger.js'
import { TumblingEventTimeWindows } from '../../api/windowing/tumbling-event-time-windows.js'
import { TumblingProcessingTimeWindows } from '../../api/windowing/tumbling-processing-time-windows.js'
import type { Window } from '../../api/windowing/window.js'
import type { WindowAssigner } from '../../api/windowing/window-assigner.js'
import { readKeyGroupSnapshot } from '../../state/key-group-snapshot.js'
import { WindowHarness } from './__fixtures__/window-harness.js'
import type { WindowContents, WindowOperatorSpec } from './window-operator.js'

type Pair = [string, number]
const byKey = (value: unknown) => (value as Pair)[0]
const sum: WindowContents = { kind: 'reduce', reduce: (a, b) => [(a as Pair)[0], (a as Pair)[1] + (b as Pair)[1]] }
const count: WindowContents = {
  kind: 'aggregate',
  aggregate: { createAccumulator: () => 0, add: (_v, acc) => (acc as number) + 1, getResult: (acc) => acc, merge: (a, b) => (a as number) + (b as number) },
}

function spec(assigner: WindowAssigner<unknown, Window>, contents: WindowContents, extra: Partial<WindowOperatorSpec> = {}): WindowOperatorSpec {
  return {
    assigner,
    trigger: assigner.getDefaultTrigger(),
    evictor: undefined,
    allowedLateness: 0,
    lateDataTag: undefined,
    contents,
    windowFunction: undefined,
    ...extra,
  }
}

/** `key:[start,end):value` per evaluation, with the elements as the window function saw them. */
const describeWindow: ProcessWindowFunction<unknown, string, string, TimeWindow> = {
  process(key, context, elements, out) {
    const window = context.window()
    out.collect(`${key}:[${window.start},${window.end}):${JSON.stringify(elements)}`)
  },
}
const asProcess = describeWindow as unknown as WindowOperatorSpec['windowFunction']

type ScriptStep = { element: Pair; timestamp: number } | { watermark: number }

/**
 * Runs `steps` on one operator, then again cut after every step: the first operator's snapshot is
 * restored into a new one (at the watermark reached so far), which runs the rest. Every cut must emit
 * what the straight run emitted; returns that. `afterRestore` can check the restored operator further.
 */
async function expectSameOutputWhereverRestored(
  makeSpec: () => WindowOperatorSpec,
  steps: ScriptStep[],
  afterRestore?: (restored: WindowHarness) => Promise<void>,
): Promise<string[]> {
  const run = (h: WindowHarness, part: ScriptStep[]) => {
    for (const step of part) {
      if ('watermark' in step) h.processWatermark(step.watermark)
      else h.element(step.element, step.timestamp)
    }
  }
  const straight = await WindowHarness.open(byKey, makeSpec())
  run(straight, steps)
  const expected = straight.take()
  for (let cut = 1; cut < steps.length; cut++) {
    const first = await WindowHarness.open(byKey, makeSpec())
    run(first, steps.slice(0, cut))
    const watermark = Math.max(Number.NEGATIVE_INFINITY, ...steps.slice(0, cut).map((step) => ('watermark' in step ? step.watermark : Number.NEGATIVE_INFINITY)))
    const second = await WindowHarness.open(byKey, makeSpec(), { restoredState: first.snapshot(), watermark })
    run(second, steps.slice(cut))
    expect([...first.take(), ...second.take()], `cut after step ${cut}`).toEqual(expected)
    await afterRestore?.(second)
  }
  return expected
}

describe('WindowOperator: tumbling event-time windows with allowed lateness (hand-computed)', () => {
  const build = (lateDataTag?: string) =>
    WindowHarness.open(byKey, spec(TumblingEventTimeWindows.of(10), sum, { allowedLateness: 5, lateDataTag }))

  it('fires at the watermark, re-fires once per late element within the lateness, drops the rest to the side output', async () => {
    const h = await build('late')
    h.element(['a', 1], 1).element(['a', 2], 5).element(['b', 100], 7)
    expect(h.take()).toEqual([])
    h.processWatermark(8)
    expect(h.take()).toEqual([])
    h.processWatermark(9) // >= maxTimestamp 9 of [0,10)
    expect(h.take().sort()).toEqual(['["a",3]@9', '["b",100]@9'])
    h.element(['a', 3], 8) // late, within lateness (cleanup at 14): fires at once with the new contents
    h.element(['a', 4], 3)
    expect(h.take()).toEqual(['["a",6]@9', '["a",10]@9'])
    h.processWatermark(14) // cleanup time 9 + 5: the window's state is dropped, nothing is emitted
    expect(h.take()).toEqual([])
    h.element(['a', 5], 2) // window late (14 <= 14) and element late (2 + 5 <= 14)
    h.element(['a', 7], 9) // 9 + 5 <= 14: late too
    h.element(['a', 6], 12) // window [10,20)
    expect(h.take()).toEqual([])
    expect(h.sideOutput('late')).toEqual(['["a",5]@2', '["a",7]@9'])
    h.processWatermark(19)
    expect(h.take()).toEqual(['["a",6]@19'])
    expect(h.operator.numLateRecordsDropped).toBe(0)
  })

  it('without a late side output, late elements are dropped and counted', async () => {
    const h = await build()
    h.element(['a', 1], 1).processWatermark(14)
    expect(h.take()).toEqual(['["a",1]@9'])
    h.element(['a', 2], 0).element(['a', 3], 9).element(['a', 4], 10)
    expect(h.take()).toEqual([])
    expect(h.operator.numLateRecordsDropped).toBe(2)
    h.processWatermark(19)
    expect(h.take()).toEqual(['["a",4]@19'])
  })

  it('state is gone after the cleanup time: the snapshot is empty', async () => {
    const h = await build()
    h.element(['a', 1], 1).element(['b', 1], 11).processWatermark(14)
    expect(h.snapshot().keyed?.length).toBeGreaterThan(0) // b's window [10,20) is still open
    h.processWatermark(24)
    expect(h.snapshot().keyed).toEqual([])
  })

  it('negative timestamps and an offset', async () => {
    const h = await WindowHarness.open(byKey, spec(TumblingEventTimeWindows.of(10, 3), count, { windowFunction: asProcess }))
    h.element(['a', 1], -8).element(['a', 1], -7).element(['a', 1], 2).element(['a', 1], 3)
    h.processWatermark(3)
    expect(h.take()).toEqual(['a:[-17,-7):[1]@-8', 'a:[-7,3):[2]@2'])
  })
})

describe('WindowOperator: sliding, session, global and processing-time windows', () => {
  it('sliding windows: an element counts in every window it is in', async () => {
    const h = await WindowHarness.open(byKey, spec(SlidingEventTimeWindows.of(10, 5), count, { windowFunction: asProcess }))
    h.element(['a', 1], 3).element(['a', 1], 7).element(['a', 1], 12)
    h.processWatermark(100)
    expect(h.take()).toEqual(['a:[-5,5):[1]@4', 'a:[0,10):[2]@9', 'a:[5,15):[2]@14', 'a:[10,20):[1]@19'])
  })

  it('session windows merge when they overlap or touch; the merged window fires once', async () => {
    const h = await WindowHarness.open(byKey, spec(EventTimeSessionWindows.withGap(10), { kind: 'list' }, { windowFunction: asProcess }))
    h.element(['a', 1], 0).element(['a', 2], 5).element(['a', 3], 30).element(['a', 4], 14)
    h.processWatermark(23)
    expect(h.take()).toEqual(['a:[0,24):[["a",1],["a",2],["a",4]]@23'])
    h.element(['a', 5], 40) // [40,50) touches [30,40): one session [30,50)
    h.processWatermark(48)
    expect(h.take()).toEqual([])
    h.processWatermark(49)
    expect(h.take()).toEqual(['a:[30,50):[["a",3],["a",5]]@49'])
    expect(h.snapshot().keyed).toEqual([])
  })

  it('session windows with allowed lateness: a late element that merges re-fires the merged session', async () => {
    const h = await WindowHarness.open(byKey, spec(EventTimeSessionWindows.withGap(10), count, { allowedLateness: 20, windowFunction: asProcess }))
    h.element(['a', 1], 0).processWatermark(9)
    expect(h.take()).toEqual(['a:[0,10):[1]@9'])
    h.element(['a', 1], 5) // [5,15) merges with [0,10) into [0,15); maxTimestamp 14 > 9: a timer, no fire yet
    expect(h.take()).toEqual([])
    h.processWatermark(14)
    expect(h.take()).toEqual(['a:[0,15):[2]@14'])
    h.element(['a', 1], 2) // inside [0,15), watermark past its end: fires at once
    expect(h.take()).toEqual(['a:[0,15):[3]@14'])
    h.processWatermark(34) // cleanup of [0,15) at 14 + 20
    h.element(['a', 1], 3) // its own window [3,13) is late, and so is the element
    expect(h.take()).toEqual([])
    expect(h.operator.numLateRecordsDropped).toBe(1)
  })

  it('GlobalWindows with a purging CountTrigger: tumbling count windows', async () => {
    const h = await WindowHarness.open(
      byKey,
      spec(GlobalWindows.create(), sum, { trigger: PurgingTrigger.of(CountTrigger.of(3)) as unknown as Trigger<unknown, Window> }),
    )
    for (let i = 1; i <= 7; i++) h.element(['a', i])
    expect(h.take()).toEqual(['["a",6]@Infinity', '["a",15]@Infinity'])
  })

  it('GlobalWindows with CountTrigger(2) and CountEvictor(3): sliding count windows', async () => {
    const h = await WindowHarness.open(
      byKey,
      spec(GlobalWindows.create(), sum, { trigger: CountTrigger.of(2) as unknown as Trigger<unknown, Window>, evictor: CountEvictor.of(3) }),
    )
    for (let i = 1; i <= 6; i++) h.element(['a', i])
    // [1,2] → 3; [2,3,4] → 9; [4,5,6] → 15
    expect(h.take()).toEqual(['["a",3]@Infinity', '["a",9]@Infinity', '["a",15]@Infinity'])
  })

  it('TimeEvictor before the function keeps the last second of each window', async () => {
    const h = await WindowHarness.open(byKey, spec(TumblingEventTimeWindows.of(10_000), { kind: 'list' }, { evictor: TimeEvictor.of(1000), windowFunction: asProcess }))
    h.element(['a', 1], 100).element(['a', 2], 8000).element(['a', 3], 8500).element(['a', 4], 7000)
    h.processWatermark(9999)
    expect(h.take()).toEqual(['a:[0,10000):[["a",2],["a",3]]@9999'])
  })

  it('processing-time tumbling windows fire on the clock', async () => {
    const h = await WindowHarness.open(byKey, spec(TumblingProcessingTimeWindows.of(100), count, { windowFunction: asProcess }), { now: 1005 })
    h.element(['a', 1]).element(['b', 1])
    h.setProcessingTime(1050).element(['a', 1])
    h.setProcessingTime(1101).element(['a', 1])
    expect(h.wakeups).toContain(1099)
    expect(h.take().sort()).toEqual(['a:[1000,1100):[2]@1099', 'b:[1000,1100):[1]@1099'])
    h.setProcessingTime(1199)
    expect(h.take()).toEqual(['a:[1100,1200):[1]@1199'])
    expect(h.snapshot().keyed).toEqual([])
  })

  it('processing-time sessions merge on the clock', async () => {
    const h = await WindowHarness.open(byKey, spec(ProcessingTimeSessionWindows.withGap(10), count, { windowFunction: asProcess }), { now: 0 })
    h.element(['a', 1]).setProcessingTime(5).element(['a', 1]).setProcessingTime(14)
    expect(h.take()).toEqual(['a:[0,15):[2]@14'])
  })
})

describe('WindowOperator: timer order (found by the Flink differential test)', () => {
  it('a timer registered while firing fires before later timers of the same watermark advance', async () => {
    // ContinuousEventTimeTrigger(1) on [10,15): fire timers at 12, then 13 (registered when 12 fires), and
    // 14 (maxTimestamp); the cleanup timer is at 15. One watermark past all of them fires the window at 12,
    // 13 and 14 (Flink's timer queue fires in timestamp order, timers registered meanwhile included).
    // Timers polled up to the watermark at once fired 12, 14, 15 (cleanup deleting 13): twice only.
    const h = await WindowHarness.open(
      byKey,
      spec(TumblingEventTimeWindows.of(5), sum, { trigger: ContinuousEventTimeTrigger.of(1) as unknown as Trigger<unknown, Window>, allowedLateness: 1 }),
    )
    h.element(['a', 1], 11)
    h.processWatermark(100)
    expect(h.take()).toEqual(['["a",1]@14', '["a",1]@14', '["a",1]@14'])
    expect(h.snapshot().keyed).toEqual([])
  })

  it('in processing time too: a timer registered while firing that is already due fires in the same round', async () => {
    // ContinuousProcessingTimeTrigger(1) on [10,15) from time 11: fire timers at 12, then 13 (registered
    // when 12 fires) and 14, where the window is also cleaned up. The clock jumps to 100 at once: Flink's
    // timer queue fires 12, 13 and 14; polling every due timer at once fired 12 and 14 only.
    const h = await WindowHarness.open(
      byKey,
      spec(TumblingProcessingTimeWindows.of(5), sum, { trigger: ContinuousProcessingTimeTrigger.of(1) as unknown as Trigger<unknown, Window> }),
      { now: 11 },
    )
    h.element(['a', 1])
    h.setProcessingTime(100)
    expect(h.take()).toEqual(['["a",1]@14', '["a",1]@14', '["a",1]@14'])
    expect(h.snapshot().keyed).toEqual([])
  })
})

describe('WindowOperator: window function context', () => {
  it('windowState is per window and cleared at cleanup; globalState is per key', async () => {
    const firings = new ValueStateDescriptor<number>('firings')
    const total = new ValueStateDescriptor<number>('total')
    const fn: ProcessWindowFunction<unknown, string, string, TimeWindow> = {
      process(key, context, elements, out) {
        const perWindow = context.windowState().getState(firings)
        perWindow.update((perWindow.value() ?? 0) + 1)
        const global = context.globalState().getState(total)
        global.update((global.value() ?? 0) + 1)
        out.collect(`${key}:${context.window().start}:${elements.length}:firing ${perWindow.value()}:total ${global.value()}`)
      },
      clear(context) {
        context.windowState().getState(firings).clear()
      },
    }
    const h = await WindowHarness.open(
      byKey,
      spec(TumblingEventTimeWindows.of(10), { kind: 'list' }, { allowedLateness: 10, windowFunction: fn as unknown as WindowOperatorSpec['windowFunction'] }),
    )
    h.element(['a', 1], 1).processWatermark(9).element(['a', 1], 2).element(['a', 1], 15).processWatermark(19)
    expect(h.take()).toEqual(['a:0:1:firing 1:total 1@9', 'a:0:2:firing 2:total 2@9', 'a:10:1:firing 1:total 3@19'])
    h.processWatermark(40)
    // only the global state is left
    expect(h.snapshot().keyed?.length).toBe(1)
  })

  it('aggregate + process gets the single aggregated value', async () => {
    const average: AggregateFunction<unknown, [number, number], number> = {
      createAccumulator: () => [0, 0],
      add: (value, acc) => [acc[0] + (value as Pair)[1], acc[1] + 1],
      getResult: (acc) => acc[0] / acc[1],
      merge: (a, b) => [a[0] + b[0], a[1] + b[1]],
    }
    const h = await WindowHarness.open(
      byKey,
      spec(TumblingEventTimeWindows.of(10), { kind: 'aggregate', aggregate: average as AggregateFunction<unknown, unknown, unknown> }, { windowFunction: asProcess }),
    )
    h.batch([
      [['a', 1], 1],
      [['a', 2], 2],
      [['a', 6], 3],
    ]).processWatermark(9)
    expect(h.take()).toEqual(['a:[0,10):[3]@9'])
  })
})

describe('WindowOperator: checkpoints', () => {
  it('a restored operator continues exactly where the snapshot was taken (contents, timers, merging sets, trigger state)', async () => {
    const sessionSpec = () =>
      spec(EventTimeSessionWindows.withGap(10), count, {
        trigger: PurgingTrigger.of(CountTrigger.of(3)) as unknown as Trigger<unknown, Window>,
        allowedLateness: 5,
        windowFunction: asProcess,
      })
    const expected = await expectSameOutputWhereverRestored(sessionSpec, [
      { element: ['a', 1], timestamp: 0 },
      { element: ['b', 1], timestamp: 3 },
      { element: ['a', 1], timestamp: 5 },
      { watermark: 4 },
      { element: ['a', 1], timestamp: 12 },
      { element: ['b', 1], timestamp: 30 },
      { element: ['a', 1], timestamp: 14 },
      { element: ['a', 1], timestamp: 40 },
      { watermark: 60 },
    ])
    expect(expected.length).toBeGreaterThan(0)
  })
})

describe('WindowOperator: tumbling fast path in checkpoints', () => {
  const tumblingSpec = () => spec(TumblingEventTimeWindows.of(10), count, { allowedLateness: 5, windowFunction: asProcess })

  it("a snapshot lists the owners of the key's pending timers in its state, as the generic path does", async () => {
    const h = await WindowHarness.open(byKey, tumblingSpec())
    h.element(['a', 1], 1).element(['a', 1], 12).element(['b', 1], 3).processWatermark(9)
    h.element(['a', 1], 8) // late within the lateness: fires at once, no fire timer
    const states = new Map<unknown, unknown>()
    for (const snapshot of h.snapshot().keyed ?? []) {
      for (const state of readKeyGroupSnapshot(snapshot, 'test').states) {
        if (state.name === 'window-state') for (const entry of state.entries) states.set(entry[0], entry[1])
      }
    }
    expect((states.get('a') as { et: unknown }).et).toEqual(
      new Map([
        [14, [0, 10]],
        [19, [10, 20]],
        [24, [10, 20]],
      ]),
    )
    expect((states.get('b') as { et: unknown }).et).toEqual(new Map([[14, [0, 10]]]))
    // The snapshot changed nothing: the windows fire and are cleaned up as before.
    h.processWatermark(24)
    expect(h.take()).toEqual(['a:[0,10):[1]@9', 'b:[0,10):[1]@9', 'a:[0,10):[2]@9', 'a:[10,20):[1]@19'])
    expect(h.snapshot().keyed).toEqual([])
  })

  it('a restored operator continues exactly where the snapshot was taken, with late elements and new windows', async () => {
    const expected = await expectSameOutputWhereverRestored(
      tumblingSpec,
      [
        { element: ['a', 1], timestamp: 1 },
        { element: ['b', 1], timestamp: 3 },
        { element: ['a', 1], timestamp: 12 },
        { watermark: 9 },
        { element: ['a', 1], timestamp: 8 },
        { element: ['b', 1], timestamp: 25 },
        { watermark: 14 },
        { element: ['a', 1], timestamp: 13 },
        { element: ['a', 1], timestamp: 7 },
        { watermark: 19 },
        { element: ['a', 1], timestamp: 31 },
        { element: ['a', 1], timestamp: 18 },
        { watermark: 60 },
      ],
      async (restored) => {
        // And a second snapshot of the restored operator restores as well.
        const third = await WindowHarness.open(byKey, tumblingSpec(), { restoredState: restored.snapshot(), watermark: 60 })
        expect(third.snapshot().keyed).toEqual([])
      },
    )
    expect(expected).toEqual([
      'a:[0,10):[1]@9',
      'b:[0,10):[1]@9',
      'a:[0,10):[2]@9',
      'a:[10,20):[2]@19',
      'a:[10,20):[3]@19',
      'b:[20,30):[1]@29',
      'a:[30,40):[1]@39',
    ])
  })
})
