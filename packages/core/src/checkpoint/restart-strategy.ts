import { ConfigError } from '../errors.js'

/**
 * How a failed job is restarted: Flink's restart strategies (`restart-strategy.type`), with Flink's
 * semantics, so a Flink user's settings carry over unchanged.
 *
 * A strategy is plain data, validated once when the job is built ({@link validateRestartStrategy});
 * the job master turns it into a {@link RestartBackoff} per job run with {@link createRestartBackoff}.
 */
export type RestartStrategy =
  | NoRestartStrategy
  | FixedDelayRestartStrategy
  | FailureRateRestartStrategy
  | ExponentialDelayRestartStrategy

/** The first failure fails the job. */
export interface NoRestartStrategy {
  type: 'none'
}

/** Restarts `attempts` times in total, waiting `delayMs` before each restart; the next failure fails the job. */
export interface FixedDelayRestartStrategy {
  type: 'fixed-delay'
  /** Restarts allowed over the whole life of the job; an integer >= 0. */
  attempts: number
  delayMs: number
}

/**
 * Restarts as long as no sliding window of `intervalMs` holds more than `maxFailuresPerInterval`
 * failures, waiting `delayMs` before each restart.
 */
export interface FailureRateRestartStrategy {
  type: 'failure-rate'
  /** An integer >= 1. */
  maxFailuresPerInterval: number
  /** Length of the sliding window; > 0. */
  intervalMs: number
  delayMs: number
}

/**
 * Restarts without limit; the delay starts at `initialDelayMs` and is multiplied by `multiplier` on every
 * failure up to `maxDelayMs`. When the job ran `resetThresholdMs` without failing, the delay starts over.
 */
export interface ExponentialDelayRestartStrategy {
  type: 'exponential-delay'
  /** >= 1. */
  initialDelayMs: number
  /** >= initialDelayMs. */
  maxDelayMs: number
  /** > 1. */
  multiplier: number
  /** How long the job must run without a failure for the delay to go back to `initialDelayMs`; >= 1. */
  resetThresholdMs: number
  /** Each delay is moved by a random amount of up to ± this fraction of it; 0..1. */
  jitterFactor: number
}

/**
 * Flink's defaults for `restart-strategy.exponential-delay.*` up to Flink 1.18 (1 s, 5 min, ×2, 1 h,
 * 0.1). Flink 1.19 (FLIP-364) changed max-backoff to 1 min and the multiplier to 1.5 together with a new
 * attempt-counting model; this file implements the earlier model (unlimited attempts, reset after a
 * quiet period), so it keeps the defaults that were tuned for it.
 */
const exponentialDelayDefaults: Omit<ExponentialDelayRestartStrategy, 'type'> = {
  initialDelayMs: 1_000,
  maxDelayMs: 300_000,
  multiplier: 2,
  resetThresholdMs: 3_600_000,
  jitterFactor: 0.1,
}

/** Factories for the restart strategies; each validates its arguments and throws {@link ConfigError}. */
export const RestartStrategies = {
  none(): RestartStrategy {
    return { type: 'none' }
  },
  fixedDelay(attempts: number, delayMs: number): RestartStrategy {
    return validateRestartStrategy({ type: 'fixed-delay', attempts, delayMs })
  },
  failureRate(maxFailuresPerInterval: number, intervalMs: number, delayMs: number): RestartStrategy {
    return validateRestartStrategy({ type: 'failure-rate', maxFailuresPerInterval, intervalMs, delayMs })
  },
  exponentialDelay(options: Partial<Omit<ExponentialDelayRestartStrategy, 'type'>> = {}): RestartStrategy {
    const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined))
    return validateRestartStrategy({ type: 'exponential-delay', ...exponentialDelayDefaults, ...defined })
  },
} as const

type NumberRule = (value: number) => string | undefined

const integerAtLeast =
  (minimum: number): NumberRule =>
  (value) =>
    Number.isSafeInteger(value) && value >= minimum ? undefined : `expected an integer >= ${minimum}`
const atLeast =
  (minimum: number): NumberRule =>
  (value) =>
    Number.isFinite(value) && value >= minimum ? undefined : `expected a number >= ${minimum}`
const greaterThan =
  (minimum: number): NumberRule =>
  (value) =>
    Number.isFinite(value) && value > minimum ? undefined : `expected a number > ${minimum}`
const between =
  (minimum: number, maximum: number): NumberRule =>
  (value) =>
    Number.isFinite(value) && value >= minimum && value <= maximum
      ? undefined
      : `expected a number between ${minimum} and ${maximum}`

/** The options of each strategy type and the rule each must satisfy (Flink's preconditions). */
const optionRules: { readonly [Type in RestartStrategy['type']]: Readonly<Record<string, NumberRule>> } = {
  none: {},
  'fixed-delay': { attempts: integerAtLeast(0), delayMs: atLeast(0) },
  'failure-rate': { maxFailuresPerInterval: integerAtLeast(1), intervalMs: greaterThan(0), delayMs: atLeast(0) },
  'exponential-delay': {
    initialDelayMs: atLeast(1),
    maxDelayMs: atLeast(1),
    multiplier: greaterThan(1),
    resetThresholdMs: atLeast(1),
    jitterFactor: between(0, 1),
  },
}

const strategyTypes = Object.keys(optionRules) as RestartStrategy['type'][]

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value)
    } catch {
      return Object.prototype.toString.call(value)
    }
  }
  return String(value)
}

/**
 * Checks that `strategy` is a well-formed {@link RestartStrategy} and returns a copy of it.
 *
 * @param path the option path used in error messages, e.g. `job.restartStrategy`.
 * @throws ConfigError naming the offending option, e.g.
 *   `restartStrategy.attempts: expected an integer >= 0, got -1`; unknown types and unknown keys are
 *   rejected too, since a misspelt option would otherwise be silently ignored.
 */
export function validateRestartStrategy(strategy: unknown, path = 'restartStrategy'): RestartStrategy {
  if (typeof strategy !== 'object' || strategy === null || Array.isArray(strategy)) {
    throw new ConfigError(path, `expected an object with a 'type', got ${describe(strategy)}`)
  }
  const record = strategy as Record<string, unknown>
  const type = record['type']
  if (typeof type !== 'string' || !(strategyTypes as string[]).includes(type)) {
    throw new ConfigError(
      `${path}.type`,
      `expected ${strategyTypes.map((name) => `'${name}'`).join(' | ')}, got ${describe(type)}`,
    )
  }
  const rules = optionRules[type as RestartStrategy['type']]
  for (const key of Object.keys(record)) {
    if (key !== 'type' && !(key in rules)) {
      const known = Object.keys(rules)
      throw new ConfigError(
        `${path}.${key}`,
        `unknown option for restart strategy '${type}'` +
          (known.length > 0 ? `; expected one of ${known.join(', ')}` : '; it takes no options'),
      )
    }
  }
  const validated: Record<string, unknown> = { type }
  for (const [key, rule] of Object.entries(rules)) {
    const value = record[key]
    const problem = typeof value === 'number' ? rule(value) : (rule(Number.NaN) ?? 'expected a number')
    if (problem !== undefined) throw new ConfigError(`${path}.${key}`, `${problem}, got ${describe(value)}`)
    validated[key] = value
  }
  if (type === 'exponential-delay' && (validated['initialDelayMs'] as number) > (validated['maxDelayMs'] as number)) {
    throw new ConfigError(
      `${path}.initialDelayMs`,
      `expected a number <= maxDelayMs (${validated['maxDelayMs']}), got ${validated['initialDelayMs']}`,
    )
  }
  return validated as unknown as RestartStrategy
}

/**
 * The restart bookkeeping of one job run: Flink's `RestartBackoffTimeStrategy`.
 *
 * Used by the job master only, one call at a time. On every failure it calls `notifyFailure(now)`, then
 * `canRestart()`; if that is false the job fails, otherwise it waits `backoffMs()` and restarts. Time is
 * passed in rather than read from a clock so that the decisions are reproducible in tests.
 */
export interface RestartBackoff {
  /** Records a failure at `nowMs`. */
  notifyFailure(nowMs: number): void
  /** Whether another restart is allowed after the failures recorded so far. */
  canRestart(): boolean
  /** How long to wait before the next restart. */
  backoffMs(): number
}

/**
 * Creates the bookkeeping for `strategy` (validated first).
 *
 * @param random source of jitter for `exponential-delay`, returning values in [0, 1); tests pass a fixed one.
 * @throws ConfigError if `strategy` is malformed.
 */
export function createRestartBackoff(strategy: RestartStrategy, random: () => number = Math.random): RestartBackoff {
  const valid = validateRestartStrategy(strategy)
  switch (valid.type) {
    case 'none':
      return { notifyFailure() {}, canRestart: () => false, backoffMs: () => 0 }
    case 'fixed-delay':
      return new FixedDelayBackoff(valid)
    case 'failure-rate':
      return new FailureRateBackoff(valid)
    case 'exponential-delay':
      return new ExponentialDelayBackoff(valid, random)
  }
}

class FixedDelayBackoff implements RestartBackoff {
  private failures = 0
  constructor(private readonly strategy: FixedDelayRestartStrategy) {}
  notifyFailure(): void {
    this.failures++
  }
  canRestart(): boolean {
    // Each failure but the (attempts + 1)-th is followed by a restart.
    return this.failures <= this.strategy.attempts
  }
  backoffMs(): number {
    return this.strategy.delayMs
  }
}

class FailureRateBackoff implements RestartBackoff {
  /** The latest `maxFailuresPerInterval + 1` failure times, oldest first: enough to tell whether the window overflowed. */
  private readonly failureTimes: number[] = []
  constructor(private readonly strategy: FailureRateRestartStrategy) {}
  notifyFailure(nowMs: number): void {
    this.failureTimes.push(nowMs)
    if (this.failureTimes.length > this.strategy.maxFailuresPerInterval + 1) this.failureTimes.shift()
  }
  canRestart(): boolean {
    const oldest = this.failureTimes[0]
    const newest = this.failureTimes[this.failureTimes.length - 1]
    if (this.failureTimes.length <= this.strategy.maxFailuresPerInterval || oldest === undefined || newest === undefined) {
      return true
    }
    // maxFailuresPerInterval + 1 failures: allowed only if they do not all fit in one window. Flink
    // compares against the clock when canRestart runs, which is right after the newest failure.
    return newest - oldest > this.strategy.intervalMs
  }
  backoffMs(): number {
    return this.strategy.delayMs
  }
}

class ExponentialDelayBackoff implements RestartBackoff {
  private currentDelayMs: number
  private lastFailureMs: number | undefined
  private nextBackoffMs: number
  constructor(
    private readonly strategy: ExponentialDelayRestartStrategy,
    private readonly random: () => number,
  ) {
    this.currentDelayMs = strategy.initialDelayMs
    this.nextBackoffMs = strategy.initialDelayMs
  }
  notifyFailure(nowMs: number): void {
    const { initialDelayMs, maxDelayMs, multiplier, resetThresholdMs } = this.strategy
    // The gap between two failures includes the restart delay, during which the job was not running;
    // Flink therefore resets only when the gap exceeds threshold + current delay.
    if (this.lastFailureMs === undefined || nowMs - this.lastFailureMs >= resetThresholdMs + this.currentDelayMs) {
      this.currentDelayMs = initialDelayMs
    } else if (this.currentDelayMs < maxDelayMs) {
      this.currentDelayMs = Math.min(Math.floor(this.currentDelayMs * multiplier), maxDelayMs)
    }
    this.lastFailureMs = nowMs
    // Jitter is drawn once per failure so that repeated backoffMs() calls agree.
    this.nextBackoffMs = Math.min(this.currentDelayMs + this.jitterMs(), maxDelayMs)
  }
  canRestart(): boolean {
    return true
  }
  backoffMs(): number {
    return this.nextBackoffMs
  }
  /** A whole number of ms, uniform in [-offset, offset] with offset = floor(delay × jitterFactor), as in Flink. */
  private jitterMs(): number {
    const offset = Math.floor(this.currentDelayMs * this.strategy.jitterFactor)
    if (offset === 0) return 0
    const draw = Math.min(Math.max(this.random(), 0), 1 - Number.EPSILON)
    return Math.floor(draw * (2 * offset + 1)) - offset
  }
}
