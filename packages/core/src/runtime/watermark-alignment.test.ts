import { describe, expect, it } from 'vitest'
import { WatermarkStrategy } from '../api/watermark-strategy.js'
import type { WatermarkOutput } from '../api/watermark-generator.js'
import { MAX_WATERMARK } from './stream-element.js'
import { WatermarkAlignmentRegistry } from './watermark-alignment.js'

const settled = async (promise: Promise<void>): Promise<boolean> => {
  let done = false
  void promise.then(() => {
    done = true
  })
  await new Promise((resolve) => setImmediate(resolve))
  return done
}

describe('WatermarkAlignmentRegistry (Flink rules of FLIP-182)', () => {
  const clock = () => 0

  it('a member pauses when its watermark is above the group minimum + maxAllowedDrift, and resumes when the minimum catches up', async () => {
    const registry = new WatermarkAlignmentRegistry()
    const fast = registry.join('g', 100, clock)
    const slow = registry.join('g', 100, clock)
    slow.update(0, false)
    fast.update(100, false)
    expect(fast.paused).toBe(false) // exactly at the limit: not above it
    fast.update(101, false)
    expect(fast.paused).toBe(true)
    expect(fast.maxAllowedWatermark).toBe(100)
    const released = fast.released()
    expect(await settled(released)).toBe(false)
    slow.update(1, false)
    expect(fast.paused).toBe(false)
    expect(await settled(released)).toBe(true)
    expect(registry.combinedWatermark('g')).toBe(1)
  })

  it('a member that has not reported a watermark yet does not hold the group back', () => {
    const registry = new WatermarkAlignmentRegistry()
    const fast = registry.join('g', 10, clock)
    registry.join('g', 10, clock)
    fast.update(1_000_000, false)
    expect(fast.paused).toBe(false)
    expect(registry.combinedWatermark('g')).toBe(1_000_000)
  })

  it('an idle member is not counted (Flink reports MAX for it); active again, it counts again', () => {
    const registry = new WatermarkAlignmentRegistry()
    const fast = registry.join('g', 10, clock)
    const other = registry.join('g', 10, clock)
    other.update(0, false)
    fast.update(50, false)
    expect(fast.paused).toBe(true)
    other.update(0, true)
    expect(fast.paused).toBe(false)
    expect(registry.combinedWatermark('g')).toBe(50)
    other.update(0, false)
    expect(fast.paused).toBe(true)
  })

  it('a finished member (MAX watermark) or one that left is not counted and never waits', () => {
    const registry = new WatermarkAlignmentRegistry()
    const fast = registry.join('g', 10, clock)
    const ending = registry.join('g', 10, clock)
    const leaving = registry.join('g', 10, clock)
    ending.update(0, false)
    leaving.update(5, false)
    fast.update(50, false)
    expect(fast.paused).toBe(true)
    ending.update(MAX_WATERMARK, false)
    expect(ending.paused).toBe(false)
    expect(fast.paused).toBe(true) // `leaving` (5) still holds it
    leaving.leave()
    expect(fast.paused).toBe(false)
    expect(registry.combinedWatermark('g')).toBe(50)
  })

  it('each member has its own drift; groups are independent', () => {
    const registry = new WatermarkAlignmentRegistry()
    const tight = registry.join('g', 10, clock)
    const loose = registry.join('g', 1000, clock)
    const slow = registry.join('g', 10, clock)
    const elsewhere = registry.join('other', 10, clock)
    slow.update(0, false)
    tight.update(500, false)
    loose.update(500, false)
    elsewhere.update(10_000, false)
    expect(tight.paused).toBe(true)
    expect(loose.paused).toBe(false)
    expect(elsewhere.paused).toBe(false)
  })

  it('the input activity clock stands still while paused, so idleness does not run out while held back', () => {
    let now = 0
    const registry = new WatermarkAlignmentRegistry()
    const fast = registry.join('g', 10, () => now)
    const slow = registry.join('g', 10, () => now)
    slow.update(0, false)
    now = 100
    fast.update(50, false) // paused at 100
    now = 1000
    expect(fast.inputActivityTime()).toBe(100)
    slow.update(45, false) // released at 1000
    now = 1200
    expect(fast.inputActivityTime()).toBe(300)

    // WatermarksWithIdleness measures on that clock when the context offers it.
    const log: string[] = []
    const output: WatermarkOutput = { emitWatermark: () => {}, markIdle: () => log.push('IDLE'), markActive: () => {} }
    let activity = 0
    const generator = WatermarkStrategy.forMonotonousTimestamps<number>()
      .withIdleness(50)
      .createWatermarkGenerator({ currentProcessingTime: () => 1_000_000, inputActivityClock: () => activity })
    generator.onPeriodicEmit(output) // starts the inactivity period at activity 0
    generator.onPeriodicEmit(output)
    expect(log).toEqual([])
    activity = 51
    generator.onPeriodicEmit(output)
    expect(log).toEqual(['IDLE'])
  })
})
