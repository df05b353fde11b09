import { describe, expect, it } from 'vitest'
import { CountEvictor } from './count-evictor.js'
import { DeltaEvictor } from './delta-evictor.js'
import { TimestampedValue } from './evictor.js'
import { TimeEvictor } from './time-evictor.js'
import { TimeWindow } from './time-window.js'

const window = new TimeWindow(0, 100)
const context = { getCurrentProcessingTime: () => 0, getCurrentWatermark: () => 0 }
const elements = (pairs: [number, number | undefined][]) => pairs.map(([value, timestamp]) => new TimestampedValue(value, timestamp))
const values = (list: TimestampedValue<number>[]) => list.map((e) => e.value)

describe('CountEvictor', () => {
  it('keeps the last maxCount elements, before the function by default', () => {
    const list = elements([[1, 1], [2, 2], [3, 3], [4, 4], [5, 5]])
    const evictor = CountEvictor.of(2)
    evictor.evictAfter(list, list.length, window, context)
    expect(values(list)).toEqual([1, 2, 3, 4, 5])
    evictor.evictBefore(list, list.length, window, context)
    expect(values(list)).toEqual([4, 5])
  })

  it('with doEvictAfter evicts after the function only', () => {
    const list = elements([[1, 1], [2, 2], [3, 3]])
    const evictor = CountEvictor.of(1, true)
    evictor.evictBefore(list, list.length, window, context)
    expect(values(list)).toEqual([1, 2, 3])
    evictor.evictAfter(list, list.length, window, context)
    expect(values(list)).toEqual([3])
  })
})

describe('TimeEvictor', () => {
  it('evicts elements with timestamp <= max - windowSize, in any arrival order', () => {
    const list = elements([[1, 50], [2, 10], [3, 40], [4, 20], [5, 30]])
    // max 50, cutoff 30: 10, 20 and 30 go
    TimeEvictor.of(20).evictBefore(list, list.length, window, context)
    expect(values(list)).toEqual([1, 3])
  })

  it('does nothing when the first element has no timestamp', () => {
    const list = elements([[1, undefined], [2, 10], [3, 90]])
    TimeEvictor.of(5).evictBefore(list, list.length, window, context)
    expect(values(list)).toEqual([1, 2, 3])
  })
})

describe('DeltaEvictor', () => {
  it('evicts elements whose delta to the last element is >= threshold', () => {
    const list = elements([[1, 1], [8, 2], [9, 3], [4, 4], [10, 5]])
    DeltaEvictor.of<number>(5, (a, b) => Math.abs(a - b)).evictBefore(list, list.length, window, context)
    expect(values(list)).toEqual([8, 9, 10])
  })
})
