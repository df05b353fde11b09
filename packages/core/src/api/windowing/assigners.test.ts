import { describe, expect, it } from 'vitest'
import { ConfigError, IllegalStateError } from '../../errors.js'
import { CountTrigger } from './count-trigger.js'
import { EventTimeSessionWindows } from './event-time-session-windows.js'
import { EventTimeTrigger } from './event-time-trigger.js'
import { GlobalWindow } from './global-window.js'
import { GlobalWindows, NeverTrigger } from './global-windows.js'
import { ProcessingTimeSessionWindows } from './processing-time-session-windows.js'
import { ProcessingTimeTrigger } from './processing-time-trigger.js'
import { SlidingEventTimeWindows } from './sliding-event-time-windows.js'
import { SlidingProcessingTimeWindows } from './sliding-processing-time-windows.js'
import { TimeWindow } from './time-window.js'
import { TumblingEventTimeWindows } from './tumbling-event-time-windows.js'
import { TumblingProcessingTimeWindows } from './tumbling-processing-time-windows.js'
import { isMergingWindowAssigner } from './window-assigner.js'

const at = (now: number) => ({ getCurrentProcessingTime: () => now })
const spans = (windows: { start: number; end: number }[]) => windows.map((w) => [w.start, w.end])

describe('TimeWindow', () => {
  it('getWindowStartWithOffset floors toward -infinity for negative timestamps (Flink 1.x+ formula)', () => {
    expect(TimeWindow.getWindowStartWithOffset(0, 0, 10)).toBe(0)
    expect(TimeWindow.getWindowStartWithOffset(9, 0, 10)).toBe(0)
    expect(TimeWindow.getWindowStartWithOffset(10, 0, 10)).toBe(10)
    expect(TimeWindow.getWindowStartWithOffset(-1, 0, 10)).toBe(-10)
    expect(TimeWindow.getWindowStartWithOffset(-10, 0, 10)).toBe(-10)
    expect(TimeWindow.getWindowStartWithOffset(-11, 0, 10)).toBe(-20)
    // The old formula `t - (t - offset + size) % size` gives -10 here, a window that does not contain -15.
    expect(TimeWindow.getWindowStartWithOffset(-15, 0, 10)).toBe(-20)
    expect(TimeWindow.getWindowStartWithOffset(-25, 3, 10)).toBe(-27)
    expect(TimeWindow.getWindowStartWithOffset(7, 3, 10)).toBe(3)
    expect(TimeWindow.getWindowStartWithOffset(2, 3, 10)).toBe(-7)
    expect(TimeWindow.getWindowStartWithOffset(2, -3, 10)).toBe(-3)
  })

  it('maxTimestamp is end - 1; intersects is true for touching windows; cover spans both', () => {
    const w = new TimeWindow(0, 5)
    expect(w.maxTimestamp()).toBe(4)
    expect(w.intersects(new TimeWindow(5, 10))).toBe(true)
    expect(w.intersects(new TimeWindow(6, 10))).toBe(false)
    expect(w.cover(new TimeWindow(3, 12))).toEqual(new TimeWindow(0, 12))
    expect(w.equals(new TimeWindow(0, 5))).toBe(true)
  })

  it('mergeWindows merges runs of intersecting windows, sorted by start, and reports only real merges', () => {
    const merges: [number[][], number[]][] = []
    TimeWindow.mergeWindows(
      [new TimeWindow(10, 13), new TimeWindow(0, 3), new TimeWindow(3, 6), new TimeWindow(20, 23), new TimeWindow(5, 8), new TimeWindow(12, 14), new TimeWindow(0, 3)],
      { merge: (toBeMerged, result) => merges.push([spans(toBeMerged), [result.start, result.end]]) },
    )
    expect(merges).toEqual([
      [[[0, 3], [3, 6], [5, 8]], [0, 8]],
      [[[10, 13], [12, 14]], [10, 14]],
    ])
  })
})

describe('TumblingEventTimeWindows', () => {
  it('assigns [start, start + size) with offsets and negative timestamps', () => {
    const assigner = TumblingEventTimeWindows.of(5000)
    expect(spans(assigner.assignWindows('x', 0, at(0)))).toEqual([[0, 5000]])
    expect(spans(assigner.assignWindows('x', 4999, at(0)))).toEqual([[0, 5000]])
    expect(spans(assigner.assignWindows('x', 5000, at(0)))).toEqual([[5000, 10000]])
    expect(spans(assigner.assignWindows('x', -1, at(0)))).toEqual([[-5000, 0]])
    expect(spans(assigner.assignWindows('x', -5001, at(0)))).toEqual([[-10000, -5000]])
    const shifted = TumblingEventTimeWindows.of(5000, 100)
    expect(spans(shifted.assignWindows('x', 99, at(0)))).toEqual([[-4900, 100]])
    expect(spans(shifted.assignWindows('x', 100, at(0)))).toEqual([[100, 5100]])
    const negative = TumblingEventTimeWindows.of(5000, -100)
    expect(spans(negative.assignWindows('x', 4899, at(0)))).toEqual([[-100, 4900]])
    expect(spans(negative.assignWindows('x', -5101, at(0)))).toEqual([[-10100, -5100]])
  })

  it('is event time with EventTimeTrigger; fails on records without a timestamp; validates size and offset', () => {
    const assigner = TumblingEventTimeWindows.of(10)
    expect(assigner.isEventTime()).toBe(true)
    expect(assigner.getDefaultTrigger()).toBe(EventTimeTrigger.create())
    expect(() => assigner.assignWindows('x', undefined, at(0))).toThrow(IllegalStateError)
    expect(() => assigner.assignWindows('x', Number.NEGATIVE_INFINITY, at(0))).toThrow(/no event timestamp/)
    expect(() => TumblingEventTimeWindows.of(0)).toThrow(ConfigError)
    expect(() => TumblingEventTimeWindows.of(10, 10)).toThrow(/abs\(offset\) < size/)
    expect(() => TumblingEventTimeWindows.of(10, -10)).toThrow(ConfigError)
  })
})

describe('SlidingEventTimeWindows', () => {
  it('assigns every window containing the timestamp, latest first', () => {
    const assigner = SlidingEventTimeWindows.of(5000, 1000)
    expect(spans(assigner.assignWindows('x', 0, at(0)))).toEqual([
      [0, 5000],
      [-1000, 4000],
      [-2000, 3000],
      [-3000, 2000],
      [-4000, 1000],
    ])
    expect(spans(assigner.assignWindows('x', 4999, at(0)))).toEqual([
      [4000, 9000],
      [3000, 8000],
      [2000, 7000],
      [1000, 6000],
      [0, 5000],
    ])
  })

  it('size 2 slide 1 (the seed figure): element 2 is in [1,3) and [2,4)', () => {
    expect(spans(SlidingEventTimeWindows.of(2, 1).assignWindows('x', 2, at(0)))).toEqual([
      [2, 4],
      [1, 3],
    ])
  })

  it('handles offsets, negative timestamps and a size that is not a multiple of the slide', () => {
    expect(spans(SlidingEventTimeWindows.of(5000, 1000, 100).assignWindows('x', 1099, at(0)))).toEqual([
      [100, 5100],
      [-900, 4100],
      [-1900, 3100],
      [-2900, 2100],
      [-3900, 1100],
    ])
    expect(spans(SlidingEventTimeWindows.of(10, 4).assignWindows('x', -3, at(0)))).toEqual([
      [-4, 6],
      [-8, 2],
      [-12, -2],
    ])
    expect(spans(SlidingEventTimeWindows.of(3, 5).assignWindows('x', 4, at(0)))).toEqual([])
    expect(spans(SlidingEventTimeWindows.of(3, 5).assignWindows('x', 6, at(0)))).toEqual([[5, 8]])
  })

  it('validates: abs(offset) < slide and size > 0', () => {
    expect(() => SlidingEventTimeWindows.of(10, 0)).toThrow(ConfigError)
    expect(() => SlidingEventTimeWindows.of(0, 1)).toThrow(ConfigError)
    expect(() => SlidingEventTimeWindows.of(10, 5, 5)).toThrow(/abs\(offset\) < slide/)
  })
})

describe('session windows', () => {
  it('EventTimeSessionWindows: [timestamp, timestamp + gap), merging, default EventTimeTrigger', () => {
    const assigner = EventTimeSessionWindows.withGap(1000)
    expect(spans(assigner.assignWindows('x', 5, at(0)))).toEqual([[5, 1005]])
    expect(isMergingWindowAssigner(assigner)).toBe(true)
    expect(assigner.isEventTime()).toBe(true)
    expect(assigner.getDefaultTrigger()).toBe(EventTimeTrigger.create())
    expect(() => EventTimeSessionWindows.withGap(0)).toThrow(ConfigError)
  })

  it('withDynamicGap takes the gap from the element and rejects gaps <= 0', () => {
    const assigner = EventTimeSessionWindows.withDynamicGap<{ gap: number }>((e) => e.gap)
    expect(spans(assigner.assignWindows({ gap: 7 }, 10, at(0)))).toEqual([[10, 17]])
    expect(() => assigner.assignWindows({ gap: 0 }, 10, at(0))).toThrow(/dynamic gap/)
  })

  it('ProcessingTimeSessionWindows uses the clock, with ProcessingTimeTrigger', () => {
    const assigner = ProcessingTimeSessionWindows.withGap(100)
    expect(spans(assigner.assignWindows('x', 5, at(1000)))).toEqual([[1000, 1100]])
    expect(assigner.isEventTime()).toBe(false)
    expect(assigner.getDefaultTrigger()).toBe(ProcessingTimeTrigger.create())
    const dynamic = ProcessingTimeSessionWindows.withDynamicGap<number>((n) => n)
    expect(spans(dynamic.assignWindows(30, undefined, at(1000)))).toEqual([[1000, 1030]])
  })
})

describe('processing-time assigners', () => {
  it('TumblingProcessingTimeWindows uses the clock, not the timestamp', () => {
    const assigner = TumblingProcessingTimeWindows.of(1000, 10)
    expect(spans(assigner.assignWindows('x', 123_456, at(2500)))).toEqual([[2010, 3010]])
    expect(spans(assigner.assignWindows('x', undefined, at(2009)))).toEqual([[1010, 2010]])
    expect(assigner.isEventTime()).toBe(false)
    expect(assigner.getDefaultTrigger()).toBe(ProcessingTimeTrigger.create())
  })

  it('SlidingProcessingTimeWindows uses the clock', () => {
    expect(spans(SlidingProcessingTimeWindows.of(1000, 500).assignWindows('x', 0, at(1200)))).toEqual([
      [1000, 2000],
      [500, 1500],
    ])
  })

  it('SlidingProcessingTimeWindows with an offset: every window containing "now", starts at getWindowStartWithOffset(now, offset, slide) and slide before', () => {
    const shifted = SlidingProcessingTimeWindows.of(1000, 500, 100)
    expect(spans(shifted.assignWindows('x', 0, at(1200)))).toEqual([
      [1100, 2100],
      [600, 1600],
    ])
    // the last ms before a start and the start itself
    expect(spans(shifted.assignWindows('x', 0, at(1099)))).toEqual([
      [600, 1600],
      [100, 1100],
    ])
    expect(spans(shifted.assignWindows('x', 0, at(1100)))).toEqual([
      [1100, 2100],
      [600, 1600],
    ])
    // a clock before the epoch floors toward -infinity
    expect(spans(shifted.assignWindows('x', 0, at(-1)))).toEqual([
      [-400, 600],
      [-900, 100],
    ])
    const negative = SlidingProcessingTimeWindows.of(1000, 500, -100)
    expect(spans(negative.assignWindows('x', 0, at(1200)))).toEqual([
      [900, 1900],
      [400, 1400],
    ])
    expect(spans(negative.assignWindows('x', 0, at(399)))).toEqual([
      [-100, 900],
      [-600, 400],
    ])
    expect(spans(negative.assignWindows('x', 0, at(400)))).toEqual([
      [400, 1400],
      [-100, 900],
    ])
    expect(spans(negative.assignWindows('x', 0, at(-1)))).toEqual([
      [-100, 900],
      [-600, 400],
    ])
    // size not a multiple of the slide: windows 300 apart, each 1000 long, the earliest still containing now
    expect(spans(SlidingProcessingTimeWindows.of(1000, 300, -50).assignWindows('x', 0, at(1000)))).toEqual([
      [850, 1850],
      [550, 1550],
      [250, 1250],
    ])
    // the element's timestamp plays no part
    expect(spans(negative.assignWindows('x', 123_456, at(1200)))).toEqual(spans(negative.assignWindows('x', undefined, at(1200))))
    expect(() => SlidingProcessingTimeWindows.of(1000, 500, 500)).toThrow(/abs\(offset\) < slide/)
    expect(() => SlidingProcessingTimeWindows.of(1000, 500, -500)).toThrow(ConfigError)
  })
})

describe('GlobalWindows', () => {
  it('puts everything into the one global window, whose default trigger never fires', () => {
    const assigner = GlobalWindows.create()
    expect(assigner.assignWindows()).toEqual([GlobalWindow.get()])
    expect(GlobalWindow.get().maxTimestamp()).toBe(Number.POSITIVE_INFINITY)
    expect(assigner.getDefaultTrigger()).toBe(NeverTrigger.instance)
    expect(assigner.isEventTime()).toBe(false)
    expect(CountTrigger.of(3).canMerge()).toBe(true)
  })
})
