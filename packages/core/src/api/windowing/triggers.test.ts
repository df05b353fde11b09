import { describe, expect, it } from 'vitest'
import type { AnyStateDescriptor } from '../state.js'
import { ContinuousEventTimeTrigger } from './continuous-event-time-trigger.js'
import { ContinuousProcessingTimeTrigger } from './continuous-processing-time-trigger.js'
import { CountTrigger } from './count-trigger.js'
import { EventTimeTrigger } from './event-time-trigger.js'
import { ProcessingTimeTrigger } from './processing-time-trigger.js'
import { PurgingTrigger } from './purging-trigger.js'
import { TimeWindow } from './time-window.js'
import type { OnMergeContext, TriggerResult } from './trigger.js'
import type { Window } from './window.js'

/** A trigger context over plain maps: timers and reducing state per window, as the window operator scopes them. */
class FakeContext implements OnMergeContext {
  watermark = Number.NEGATIVE_INFINITY
  now = 0
  window: Window = new TimeWindow(0, 10)
  mergedWindows: Window[] = []
  readonly eventTimers = new Set<string>()
  readonly processingTimers = new Set<string>()
  readonly state = new Map<string, unknown>()

  getCurrentProcessingTime(): number {
    return this.now
  }
  getCurrentWatermark(): number {
    return this.watermark
  }
  registerEventTimeTimer(time: number): void {
    this.eventTimers.add(`${String(this.window)}@${time}`)
  }
  registerProcessingTimeTimer(time: number): void {
    this.processingTimers.add(`${String(this.window)}@${time}`)
  }
  deleteEventTimeTimer(time: number): void {
    this.eventTimers.delete(`${String(this.window)}@${time}`)
  }
  deleteProcessingTimeTimer(time: number): void {
    this.processingTimers.delete(`${String(this.window)}@${time}`)
  }
  // biome-ignore lint/suspicious/noExplicitAny: test double for the overloads
  getPartitionedState(descriptor: AnyStateDescriptor): any {
    const key = () => `${String(this.window)}/${descriptor.name}`
    const reduce = (descriptor as { reduce: (a: unknown, b: unknown) => unknown }).reduce
    return {
      get: () => this.state.get(key()),
      add: (value: unknown) => {
        const current = this.state.get(key())
        this.state.set(key(), current === undefined ? value : reduce(current, value))
      },
      clear: () => this.state.delete(key()),
    }
  }
  // biome-ignore lint/suspicious/noExplicitAny: test double
  mergePartitionedState(descriptor: any): void {
    let merged: unknown
    for (const source of this.mergedWindows) {
      const key = `${String(source)}/${descriptor.name}`
      const value = this.state.get(key)
      this.state.delete(key)
      if (value !== undefined) merged = merged === undefined ? value : descriptor.reduce(merged, value)
    }
    if (merged === undefined) return
    const target = `${String(this.window)}/${descriptor.name}`
    const current = this.state.get(target)
    this.state.set(target, current === undefined ? merged : descriptor.reduce(current, merged))
  }
}

const names = (results: TriggerResult[]) => results.map((r) => r.toString())

describe('EventTimeTrigger', () => {
  it('registers a timer at maxTimestamp and fires when it fires; fires at once for a late element', () => {
    const trigger = EventTimeTrigger.create()
    const ctx = new FakeContext()
    const window = new TimeWindow(0, 10)
    expect(trigger.onElement('a', 3, window, ctx).toString()).toBe('CONTINUE')
    expect([...ctx.eventTimers]).toEqual(['TimeWindow{start=0, end=10}@9'])
    expect(names([trigger.onEventTime(8, window, ctx), trigger.onEventTime(9, window, ctx)])).toEqual(['CONTINUE', 'FIRE'])
    ctx.watermark = 9
    expect(trigger.onElement('late', 5, window, ctx).toString()).toBe('FIRE')
    trigger.clear(window, ctx)
    expect(ctx.eventTimers.size).toBe(0)
  })

  it('onMerge registers the merged window timer only while the watermark is before its end', () => {
    const trigger = EventTimeTrigger.create()
    const ctx = new FakeContext()
    ctx.window = new TimeWindow(0, 20)
    ctx.watermark = 18
    trigger.onMerge(ctx.window, ctx)
    expect([...ctx.eventTimers]).toEqual(['TimeWindow{start=0, end=20}@19'])
    ctx.eventTimers.clear()
    ctx.watermark = 19
    trigger.onMerge(ctx.window, ctx)
    expect(ctx.eventTimers.size).toBe(0)
  })
})

describe('ProcessingTimeTrigger', () => {
  it('registers a processing-time timer at maxTimestamp and fires on it', () => {
    const trigger = ProcessingTimeTrigger.create()
    const ctx = new FakeContext()
    const window = new TimeWindow(100, 200)
    ctx.window = window
    expect(trigger.onElement('a', undefined, window, ctx).toString()).toBe('CONTINUE')
    expect([...ctx.processingTimers]).toEqual(['TimeWindow{start=100, end=200}@199'])
    expect(trigger.onProcessingTime(199, window, ctx).toString()).toBe('FIRE')
    expect(trigger.onEventTime(199, window, ctx).toString()).toBe('CONTINUE')
  })
})

describe('CountTrigger and PurgingTrigger', () => {
  it('CountTrigger fires every maxCount elements and resets its count', () => {
    const trigger = CountTrigger.of(3)
    const ctx = new FakeContext()
    const window = new TimeWindow(0, 10)
    const results = Array.from({ length: 7 }, (_, i) => trigger.onElement(i, i, window, ctx))
    expect(names(results)).toEqual(['CONTINUE', 'CONTINUE', 'FIRE', 'CONTINUE', 'CONTINUE', 'FIRE', 'CONTINUE'])
    expect(ctx.state.get('TimeWindow{start=0, end=10}/count')).toBe(1)
    trigger.clear(window, ctx)
    expect(ctx.state.size).toBe(0)
  })

  it('CountTrigger.onMerge adds up the counts of the merged windows', () => {
    const trigger = CountTrigger.of(5)
    const ctx = new FakeContext()
    const a = new TimeWindow(0, 10)
    const b = new TimeWindow(5, 15)
    ctx.window = a
    trigger.onElement(1, 1, a, ctx)
    trigger.onElement(2, 2, a, ctx)
    ctx.window = b
    trigger.onElement(3, 5, b, ctx)
    ctx.window = new TimeWindow(0, 15)
    ctx.mergedWindows = [a, b]
    trigger.onMerge(ctx.window, ctx)
    expect([...ctx.state.entries()]).toEqual([['TimeWindow{start=0, end=15}/count', 3]])
    expect(names([trigger.onElement(4, 6, ctx.window, ctx), trigger.onElement(5, 7, ctx.window, ctx)])).toEqual(['CONTINUE', 'FIRE'])
  })

  it('PurgingTrigger turns FIRE into FIRE_AND_PURGE and leaves other results', () => {
    const trigger = PurgingTrigger.of(CountTrigger.of(2))
    const ctx = new FakeContext()
    const window = new TimeWindow(0, 10)
    expect(names([trigger.onElement(1, 1, window, ctx), trigger.onElement(2, 2, window, ctx)])).toEqual(['CONTINUE', 'FIRE_AND_PURGE'])
    expect(trigger.canMerge()).toBe(true)
    const onEventTime = PurgingTrigger.of(EventTimeTrigger.create())
    expect(onEventTime.onEventTime(9, window, ctx).toString()).toBe('FIRE_AND_PURGE')
    expect(onEventTime.onEventTime(8, window, ctx).toString()).toBe('CONTINUE')
  })
})

describe('continuous triggers', () => {
  it('ContinuousEventTimeTrigger fires every interval of event time and at the end of the window', () => {
    const trigger = ContinuousEventTimeTrigger.of(3)
    const ctx = new FakeContext()
    const window = new TimeWindow(0, 10)
    trigger.onElement('a', 1, window, ctx)
    // timers: end of window (9) and first fire time 0 - 0 % 3 + 3 = 3
    expect([...ctx.eventTimers].sort()).toEqual(['TimeWindow{start=0, end=10}@3', 'TimeWindow{start=0, end=10}@9'])
    expect(trigger.onEventTime(3, window, ctx).toString()).toBe('FIRE')
    expect(ctx.eventTimers.has('TimeWindow{start=0, end=10}@6')).toBe(true)
    expect(trigger.onEventTime(6, window, ctx).toString()).toBe('FIRE')
    // the next fire time is capped at maxTimestamp (9)
    expect(ctx.state.get('TimeWindow{start=0, end=10}/fire-time')).toBe(9)
    expect(trigger.onEventTime(9, window, ctx).toString()).toBe('FIRE')
    trigger.clear(window, ctx)
    expect(ctx.state.size).toBe(0)
  })

  it('ContinuousProcessingTimeTrigger fires every interval of processing time', () => {
    const trigger = ContinuousProcessingTimeTrigger.of(100)
    const ctx = new FakeContext()
    ctx.now = 1234
    const window = new TimeWindow(0, 10_000)
    ctx.window = window
    trigger.onElement('a', undefined, window, ctx)
    expect([...ctx.processingTimers]).toEqual(['TimeWindow{start=0, end=10000}@1300'])
    expect(trigger.onProcessingTime(1300, window, ctx).toString()).toBe('FIRE')
    expect(trigger.onProcessingTime(1350, window, ctx).toString()).toBe('CONTINUE')
    expect(ctx.processingTimers.has('TimeWindow{start=0, end=10000}@1400')).toBe(true)
  })
})
