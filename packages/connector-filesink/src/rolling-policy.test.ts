import { ConfigError } from '@sluice/core'
import { describe, expect, it } from 'vitest'
import { DefaultRollingPolicy, defaultInactivityInterval, defaultMaxPartSize, defaultRolloverInterval } from './default-rolling-policy.js'
import { CheckpointRollingPolicy, OnCheckpointRollingPolicy, type PartFileInfo } from './rolling-policy.js'

const part = (size: number, creationTime = 0, lastUpdateTime = creationTime): PartFileInfo => ({ bucketId: 'b', size, creationTime, lastUpdateTime })

describe('DefaultRollingPolicy', () => {
  it("has Flink's defaults: 128 MiB, 60 s rollover, 60 s inactivity", () => {
    const policy = DefaultRollingPolicy.create()
    expect([policy.maxPartSize, policy.rolloverInterval, policy.inactivityInterval]).toEqual([128 * 1024 * 1024, 60_000, 60_000])
    expect([defaultMaxPartSize, defaultRolloverInterval, defaultInactivityInterval]).toEqual([134_217_728, 60_000, 60_000])
  })

  it('rolls on an event and on a checkpoint once the file holds maxPartSize bytes', () => {
    const policy = DefaultRollingPolicy.builder().withMaxPartSize(100).build()
    expect(policy.shouldRollOnEvent(part(99), 'r')).toBe(false)
    expect(policy.shouldRollOnEvent(part(100), 'r')).toBe(true)
    expect(policy.shouldRollOnCheckpoint(part(99))).toBe(false)
    expect(policy.shouldRollOnCheckpoint(part(100))).toBe(true)
  })

  it('rolls on processing time after the rollover interval or the inactivity interval', () => {
    const policy = DefaultRollingPolicy.create({ rolloverInterval: 1000, inactivityInterval: 300 })
    expect(policy.shouldRollOnProcessingTime(part(1, 0, 900), 999)).toBe(false)
    expect(policy.shouldRollOnProcessingTime(part(1, 0, 900), 1000)).toBe(true) // open for 1000 ms
    expect(policy.shouldRollOnProcessingTime(part(1, 0, 100), 399)).toBe(false)
    expect(policy.shouldRollOnProcessingTime(part(1, 0, 100), 400)).toBe(true) // idle for 300 ms
  })

  it('validates its options when built, naming them', () => {
    const pathOf = (create: () => unknown) => {
      try {
        create()
      } catch (error) {
        return ConfigError.isInstance(error) ? error.message : String(error)
      }
    }
    expect(pathOf(() => DefaultRollingPolicy.builder().withMaxPartSize(0).build())).toBe('defaultRollingPolicy.maxPartSize: expected a positive integer (bytes), got 0')
    expect(pathOf(() => DefaultRollingPolicy.create({ rolloverInterval: 1.5 }))).toMatch(/^defaultRollingPolicy.rolloverInterval: expected a positive integer \(ms\)/)
    expect(pathOf(() => DefaultRollingPolicy.create({ inactivityInterval: -1 }))).toMatch(/^defaultRollingPolicy.inactivityInterval/)
    expect(pathOf(() => DefaultRollingPolicy.create({ partSize: 1 } as never))).toMatch(/^defaultRollingPolicy.partSize: unknown option/)
  })
})

describe('OnCheckpointRollingPolicy', () => {
  it('rolls at every checkpoint and never otherwise', () => {
    const policy = new OnCheckpointRollingPolicy<string>()
    expect(policy.shouldRollOnCheckpoint(part(0))).toBe(true)
    expect(policy.shouldRollOnEvent(part(10 ** 12), 'r')).toBe(false)
    expect(policy.shouldRollOnProcessingTime(part(1, 0, 0), 10 ** 12)).toBe(false)
    expect(CheckpointRollingPolicy.isInstance(policy)).toBe(true)
  })

  it('can be extended by a CheckpointRollingPolicy that also rolls on size', () => {
    class SizeAndCheckpoint extends CheckpointRollingPolicy<string> {
      override shouldRollOnEvent(partFile: PartFileInfo, _record: string): boolean {
        return partFile.size >= 10
      }
      override shouldRollOnProcessingTime(): boolean {
        return false
      }
    }
    const policy = new SizeAndCheckpoint()
    expect(CheckpointRollingPolicy.isInstance(policy)).toBe(true)
    expect(policy.shouldRollOnCheckpoint(part(1))).toBe(true)
    expect(policy.shouldRollOnEvent(part(10), 'r')).toBe(true)
    expect(CheckpointRollingPolicy.isInstance(DefaultRollingPolicy.create())).toBe(false)
  })
})
