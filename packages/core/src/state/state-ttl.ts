import type { StateTtlConfig } from '../api/state.js'
import { ConfigError } from '../errors.js'

/**
 * The validated time-to-live settings of one keyed state, with the processing-time clock they are
 * measured on. Created once when the state is registered; immutable.
 *
 * An entry written (or, with `OnReadAndWrite`, read) at time `t` expires at `t + ttlMs`: from then on
 * it is expired, as in Flink (`expirationTimestamp <= now`).
 */
export class TtlPolicy {
  readonly ttlMs: number
  /** `OnReadAndWrite`: reads restart the clock too, not only writes. */
  readonly updateOnRead: boolean
  /**
   * `ReturnExpiredIfNotCleanedUp`: an expired entry is still returned by the read that removes it (each
   * read of an expired entry removes it, as does the next checkpoint). `add` never folds into one.
   */
  readonly returnExpired: boolean
  readonly clock: () => number

  /** @param what names the state in error messages, e.g. `keyed state 'total' of operator 'sum' (1/2)`. */
  constructor(config: StateTtlConfig, clock: () => number, what: string) {
    if (typeof config.ttlMs !== 'number' || !(config.ttlMs > 0) || config.ttlMs === Number.POSITIVE_INFINITY) {
      throw new ConfigError('ttl.ttlMs', `${what}: expected a positive, finite number of milliseconds, got ${config.ttlMs}`)
    }
    const updateType = config.updateType ?? 'OnCreateAndWrite'
    if (updateType !== 'OnCreateAndWrite' && updateType !== 'OnReadAndWrite') {
      throw new ConfigError('ttl.updateType', `${what}: expected 'OnCreateAndWrite' | 'OnReadAndWrite', got '${updateType}'`)
    }
    const visibility = config.visibility ?? 'NeverReturnExpired'
    if (visibility !== 'NeverReturnExpired' && visibility !== 'ReturnExpiredIfNotCleanedUp') {
      throw new ConfigError(
        'ttl.visibility',
        `${what}: expected 'NeverReturnExpired' | 'ReturnExpiredIfNotCleanedUp', got '${visibility}'`,
      )
    }
    this.ttlMs = config.ttlMs
    this.updateOnRead = updateType === 'OnReadAndWrite'
    this.returnExpired = visibility === 'ReturnExpiredIfNotCleanedUp'
    this.clock = clock
  }

  isExpired(timestamp: number, now: number): boolean {
    return timestamp + this.ttlMs <= now
  }
}
