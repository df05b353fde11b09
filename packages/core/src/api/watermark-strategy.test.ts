import { describe, expect, it } from 'vitest'
import { ConfigError } from '../errors.js'
import type { WatermarkOutput } from './watermark-generator.js'
import { WatermarkStrategy } from './watermark-strategy.js'

function recorder(): WatermarkOutput & { log: (number | string)[] } {
  const log: (number | string)[] = []
  return { log, emitWatermark: (w) => log.push(w), markIdle: () => log.push('IDLE'), markActive: () => log.push('ACTIVE') }
}

describe('WatermarkStrategy', () => {
  it('forBoundedOutOfOrderness emits maxTimestamp - outOfOrderness - 1 periodically, never on events', () => {
    const generator = WatermarkStrategy.forBoundedOutOfOrderness(5).createWatermarkGenerator({ currentProcessingTime: () => 0 })
    const out = recorder()
    generator.onPeriodicEmit(out)
    generator.onEvent('a', 100, out)
    generator.onEvent('b', 90, out)
    expect(out.log).toEqual([Number.NEGATIVE_INFINITY])
    generator.onPeriodicEmit(out)
    generator.onEvent('c', 120, out)
    generator.onPeriodicEmit(out)
    expect(out.log).toEqual([Number.NEGATIVE_INFINITY, 94, 114])
  })

  it('forMonotonousTimestamps emits maxTimestamp - 1', () => {
    const generator = WatermarkStrategy.forMonotonousTimestamps().createWatermarkGenerator({ currentProcessingTime: () => 0 })
    const out = recorder()
    generator.onEvent('a', 7, out)
    generator.onPeriodicEmit(out)
    expect(out.log).toEqual([6])
  })

  it('noWatermarks emits nothing; the default assigner keeps the record timestamp', () => {
    const strategy = WatermarkStrategy.noWatermarks<string>()
    const generator = strategy.createWatermarkGenerator({ currentProcessingTime: () => 0 })
    const out = recorder()
    generator.onEvent('a', 7, out)
    generator.onPeriodicEmit(out)
    expect(out.log).toEqual([])
    expect(strategy.createTimestampAssigner()('a', 42)).toBe(42)
    expect(strategy.withTimestampAssigner((e) => e.length).createTimestampAssigner()('abc', 42)).toBe(3)
  })

  it('forGenerator: a punctuated generator emits from onEvent', () => {
    const strategy = WatermarkStrategy.forGenerator<{ t: number; end: boolean }>(() => ({
      onEvent: (event, timestamp, output) => {
        if (event.end) output.emitWatermark(timestamp)
      },
      onPeriodicEmit: () => {},
    }))
    const generator = strategy.createWatermarkGenerator({ currentProcessingTime: () => 0 })
    const out = recorder()
    generator.onEvent({ t: 1, end: false }, 1, out)
    generator.onEvent({ t: 2, end: true }, 2, out)
    expect(out.log).toEqual([2])
  })

  it('withIdleness: idle after a full timeout without events at periodic emits, active again on events', () => {
    let now = 0
    const generator = WatermarkStrategy.forBoundedOutOfOrderness(0)
      .withIdleness(100)
      .createWatermarkGenerator({ currentProcessingTime: () => now })
    const out = recorder()
    generator.onEvent('a', 10, out)
    generator.onPeriodicEmit(out) // activity since the last check
    now = 50
    generator.onPeriodicEmit(out) // no activity: the inactivity period starts at 50
    now = 150
    generator.onPeriodicEmit(out) // 100 ms, not more: still active
    now = 151
    generator.onPeriodicEmit(out) // idle
    now = 200
    generator.onPeriodicEmit(out) // still idle: marked once
    generator.onEvent('b', 20, out)
    generator.onPeriodicEmit(out)
    expect(out.log).toEqual([9, 9, 9, 'IDLE', 19])
  })

  it('validates its arguments', () => {
    expect(() => WatermarkStrategy.forBoundedOutOfOrderness(-1)).toThrow(ConfigError)
    expect(() => WatermarkStrategy.forMonotonousTimestamps().withIdleness(0)).toThrow(/idleTimeout/)
    expect(() => WatermarkStrategy.forMonotonousTimestamps().withTimestampAssigner(5 as never)).toThrow(ConfigError)
  })
})
