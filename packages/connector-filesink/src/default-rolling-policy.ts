import { optionsObject, positiveIntegerOption } from './option-validation.js'
import type { PartFileInfo, RollingPolicy } from './rolling-policy.js'

/** Options of {@link DefaultRollingPolicy}; all in bytes or milliseconds. */
export interface DefaultRollingPolicyOptions {
  /** Roll before writing a record once the part file holds at least this many bytes. Default 128 MiB. */
  maxPartSize?: number
  /** Roll a part file this long after it was opened. Default 60 000 (60 s). */
  rolloverInterval?: number
  /** Roll a part file that received no record for this long. Default 60 000 (60 s). */
  inactivityInterval?: number
}

export const defaultMaxPartSize = 128 * 1024 * 1024
export const defaultRolloverInterval = 60_000
export const defaultInactivityInterval = 60_000

/**
 * Rolls a part file when it is big enough, old enough or idle long enough (Flink's `DefaultRollingPolicy`,
 * the default of row formats). With the defaults a part file rolls at 128 MiB, 60 s after it was opened, or
 * after 60 s without records:
 *
 * - on event: `size >= maxPartSize` (checked before each record, so a file exceeds `maxPartSize` by
 *   less than one record);
 * - on checkpoint: `size >= maxPartSize`;
 * - on processing time: `now - creationTime >= rolloverInterval` or `now - lastUpdateTime >= inactivityInterval`,
 *   checked every `bucketCheckInterval` of the sink (default 60 s), so a file rolls up to one check
 *   interval after it became due.
 *
 * ```ts
 * DefaultRollingPolicy.builder().withRolloverInterval(15 * 60_000).withInactivityInterval(5 * 60_000).withMaxPartSize(1 << 30).build()
 * DefaultRollingPolicy.create({ maxPartSize: 1 << 30 })
 * ```
 * Values are checked when the policy is built (`ConfigError` naming `defaultRollingPolicy.<option>`).
 */
export class DefaultRollingPolicy<T = unknown> implements RollingPolicy<T> {
  readonly maxPartSize: number
  readonly rolloverInterval: number
  readonly inactivityInterval: number

  private constructor(maxPartSize: number, rolloverInterval: number, inactivityInterval: number) {
    this.maxPartSize = maxPartSize
    this.rolloverInterval = rolloverInterval
    this.inactivityInterval = inactivityInterval
  }

  /** A policy from an options object; omitted options take the defaults. */
  static create<T = unknown>(options: DefaultRollingPolicyOptions = {}): DefaultRollingPolicy<T> {
    const path = 'defaultRollingPolicy'
    const checked = optionsObject(options, path, ['maxPartSize', 'rolloverInterval', 'inactivityInterval'])
    return new DefaultRollingPolicy<T>(
      positiveIntegerOption(checked.maxPartSize, `${path}.maxPartSize`, defaultMaxPartSize, 'bytes'),
      positiveIntegerOption(checked.rolloverInterval, `${path}.rolloverInterval`, defaultRolloverInterval, 'ms'),
      positiveIntegerOption(checked.inactivityInterval, `${path}.inactivityInterval`, defaultInactivityInterval, 'ms'),
    )
  }

  /** Flink's builder style. */
  static builder<T = unknown>(): DefaultRollingPolicyBuilder<T> {
    return new DefaultRollingPolicyBuilder<T>()
  }

  shouldRollOnCheckpoint(partFile: PartFileInfo): boolean {
    return partFile.size >= this.maxPartSize
  }

  shouldRollOnEvent(partFile: PartFileInfo, _record: T): boolean {
    return partFile.size >= this.maxPartSize
  }

  shouldRollOnProcessingTime(partFile: PartFileInfo, currentTime: number): boolean {
    return currentTime - partFile.creationTime >= this.rolloverInterval || currentTime - partFile.lastUpdateTime >= this.inactivityInterval
  }

  toString(): string {
    return `DefaultRollingPolicy{maxPartSize=${this.maxPartSize}, rolloverInterval=${this.rolloverInterval}, inactivityInterval=${this.inactivityInterval}}`
  }
}

/** Builder of a {@link DefaultRollingPolicy}; `build()` validates. */
export class DefaultRollingPolicyBuilder<T = unknown> {
  private readonly options: DefaultRollingPolicyOptions = {}
  withMaxPartSize(bytes: number): this {
    this.options.maxPartSize = bytes
    return this
  }
  withRolloverInterval(ms: number): this {
    this.options.rolloverInterval = ms
    return this
  }
  withInactivityInterval(ms: number): this {
    this.options.inactivityInterval = ms
    return this
  }
  build(): DefaultRollingPolicy<T> {
    return DefaultRollingPolicy.create<T>(this.options)
  }
}
