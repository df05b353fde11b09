import { describe, expect, it } from 'vitest'
import { ConfigError } from '../errors.js'
import { createRestartBackoff, RestartStrategies, validateRestartStrategy } from './restart-strategy.js'

/** Records failures at the given times and returns canRestart() and backoffMs() after each. */
function run(backoff: ReturnType<typeof createRestartBackoff>, times: number[]): Array<[boolean, number]> {
  return times.map((time) => {
    backoff.notifyFailure(time)
    return [backoff.canRestart(), backoff.backoffMs()]
  })
}

function configErrorOf(action: () => unknown): ConfigError {
  try {
    action()
  } catch (error) {
    if (ConfigError.isInstance(error)) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('none', () => {
  it('fails the job on the first failure', () => {
    const backoff = createRestartBackoff(RestartStrategies.none())
    expect(run(backoff, [1_000])).toEqual([[false, 0]])
  })
})

describe('fixed-delay', () => {
  it('allows exactly `attempts` restarts, each after the fixed delay', () => {
    const backoff = createRestartBackoff(RestartStrategies.fixedDelay(2, 500))
    expect(run(backoff, [0, 10_000, 20_000, 30_000])).toEqual([
      [true, 500],
      [true, 500],
      [false, 500],
      [false, 500],
    ])
  })

  it('with 0 attempts fails on the first failure', () => {
    const backoff = createRestartBackoff(RestartStrategies.fixedDelay(0, 500))
    expect(backoff.canRestart()).toBe(true)
    backoff.notifyFailure(0)
    expect(backoff.canRestart()).toBe(false)
  })
})

describe('failure-rate', () => {
  it('allows maxFailuresPerInterval failures in a window and fails on one more', () => {
    const backoff = createRestartBackoff(RestartStrategies.failureRate(2, 1_000, 100))
    expect(run(backoff, [0, 100, 500])).toEqual([
      [true, 100],
      [true, 100],
      [false, 100],
    ])
  })

  it('forgets failures that slid out of the window', () => {
    const backoff = createRestartBackoff(RestartStrategies.failureRate(2, 1_000, 100))
    expect(run(backoff, [0, 100, 1_101, 1_150, 1_200]).map(([allowed]) => allowed)).toEqual([
      true,
      true,
      true, // 0, 100, 1101: spans 1101 ms > 1000, so only 2 fall in any window
      true, // 100, 1101, 1150: spans 1050 ms
      false, // 1101, 1150, 1200: 3 failures within 99 ms
    ])
  })

  it('counts a failure exactly intervalMs after the oldest as inside the window, like Flink', () => {
    const backoff = createRestartBackoff(RestartStrategies.failureRate(2, 1_000, 0))
    expect(run(backoff, [0, 100, 1_000]).map(([allowed]) => allowed)).toEqual([true, true, false])
  })
})

describe('exponential-delay', () => {
  const strategy = RestartStrategies.exponentialDelay({
    initialDelayMs: 1_000,
    maxDelayMs: 10_000,
    multiplier: 2,
    resetThresholdMs: 60_000,
    jitterFactor: 0,
  })

  it('multiplies the delay per failure up to the maximum and never gives up', () => {
    const backoff = createRestartBackoff(strategy)
    expect(run(backoff, [0, 2_000, 5_000, 10_000, 20_000, 31_000])).toEqual([
      [true, 1_000],
      [true, 2_000],
      [true, 4_000],
      [true, 8_000],
      [true, 10_000],
      [true, 10_000],
    ])
  })

  it('starts over once the job ran resetThresholdMs (plus the delay it waited) without failing', () => {
    const backoff = createRestartBackoff(strategy)
    run(backoff, [0, 2_000, 5_000, 10_000, 20_000]) // current delay is now 10 000
    // 20 000 + 60 000 + 10 000 - 1: the job ran 59 999 ms after restarting, not long enough
    backoff.notifyFailure(89_999)
    expect(backoff.backoffMs()).toBe(10_000)
    backoff.notifyFailure(89_999 + 70_000)
    expect(backoff.backoffMs()).toBe(1_000)
    backoff.notifyFailure(89_999 + 70_001)
    expect(backoff.backoffMs()).toBe(2_000)
  })

  it('rounds fractional multiples down to whole milliseconds', () => {
    const backoff = createRestartBackoff(
      RestartStrategies.exponentialDelay({ initialDelayMs: 1_000, multiplier: 1.5, jitterFactor: 0 }),
    )
    expect(run(backoff, [0, 1, 2, 3, 4]).map(([, delay]) => delay)).toEqual([1_000, 1_500, 2_250, 3_375, 5_062])
  })

  it('moves each delay by up to ±jitterFactor, never beyond the maximum', () => {
    const withJitter = (random: number) =>
      createRestartBackoff(
        RestartStrategies.exponentialDelay({ initialDelayMs: 1_000, maxDelayMs: 2_000, jitterFactor: 0.1 }),
        () => random,
      )
    const lowest = withJitter(0)
    const middle = withJitter(0.5)
    const highest = withJitter(0.999_999)
    expect(run(lowest, [0, 1])).toEqual([
      [true, 900],
      [true, 1_800],
    ])
    expect(run(middle, [0])).toEqual([[true, 1_000]])
    expect(run(highest, [0, 1])).toEqual([
      [true, 1_100],
      [true, 2_000],
    ])
  })

  it('keeps Flink defaults: 1 s initial, 5 min max, x2, 1 h reset, 0.1 jitter', () => {
    expect(RestartStrategies.exponentialDelay()).toEqual({
      type: 'exponential-delay',
      initialDelayMs: 1_000,
      maxDelayMs: 300_000,
      multiplier: 2,
      resetThresholdMs: 3_600_000,
      jitterFactor: 0.1,
    })
    expect(RestartStrategies.exponentialDelay({ maxDelayMs: 60_000, multiplier: undefined })).toMatchObject({
      maxDelayMs: 60_000,
      multiplier: 2,
    })
  })
})

describe('validateRestartStrategy', () => {
  it('returns a valid strategy unchanged', () => {
    const strategy = { type: 'failure-rate', maxFailuresPerInterval: 3, intervalMs: 60_000, delayMs: 10_000 }
    expect(validateRestartStrategy(strategy)).toEqual(strategy)
  })

  it.each([
    [{ type: 'fixed' }, 'restartStrategy.type', "expected 'none' | 'fixed-delay' | 'failure-rate' | 'exponential-delay', got 'fixed'"],
    [{ type: 'fixed-delay', attempts: -1, delayMs: 0 }, 'restartStrategy.attempts', 'expected an integer >= 0, got -1'],
    [{ type: 'fixed-delay', attempts: 1.5, delayMs: 0 }, 'restartStrategy.attempts', 'expected an integer >= 0, got 1.5'],
    [{ type: 'fixed-delay', attempts: 3 }, 'restartStrategy.delayMs', 'expected a number >= 0, got undefined'],
    [{ type: 'fixed-delay', attempts: '3', delayMs: 0 }, 'restartStrategy.attempts', "expected an integer >= 0, got '3'"],
    [{ type: 'fixed-delay', attempts: 3, delayMs: 0, delay: 5 }, 'restartStrategy.delay', "unknown option for restart strategy 'fixed-delay'; expected one of attempts, delayMs"],
    [{ type: 'none', attempts: 3 }, 'restartStrategy.attempts', "unknown option for restart strategy 'none'; it takes no options"],
    [{ type: 'failure-rate', maxFailuresPerInterval: 0, intervalMs: 1, delayMs: 0 }, 'restartStrategy.maxFailuresPerInterval', 'expected an integer >= 1, got 0'],
    [{ type: 'failure-rate', maxFailuresPerInterval: 1, intervalMs: 0, delayMs: 0 }, 'restartStrategy.intervalMs', 'expected a number > 0, got 0'],
    [{ ...RestartStrategies.exponentialDelay(), multiplier: 1 }, 'restartStrategy.multiplier', 'expected a number > 1, got 1'],
    [{ ...RestartStrategies.exponentialDelay(), jitterFactor: 1.5 }, 'restartStrategy.jitterFactor', 'expected a number between 0 and 1, got 1.5'],
    [{ ...RestartStrategies.exponentialDelay(), initialDelayMs: 400_000 }, 'restartStrategy.initialDelayMs', 'expected a number <= maxDelayMs (300000), got 400000'],
    [{ ...RestartStrategies.exponentialDelay(), maxDelayMs: Number.NaN }, 'restartStrategy.maxDelayMs', 'expected a number >= 1, got NaN'],
    ['fixed-delay', 'restartStrategy', "expected an object with a 'type', got 'fixed-delay'"],
    [null, 'restartStrategy', "expected an object with a 'type', got null"],
  ])('rejects %j with the option path', (input, path, message) => {
    const error = configErrorOf(() => validateRestartStrategy(input))
    expect(error.path).toBe(path)
    expect(error.message).toBe(`${path}: ${message}`)
  })

  it('uses the given option path', () => {
    const error = configErrorOf(() => validateRestartStrategy({ type: 'fixed-delay', attempts: -1, delayMs: 0 }, 'job.restart'))
    expect(error.message).toBe('job.restart.attempts: expected an integer >= 0, got -1')
  })

  it('is applied by the factories', () => {
    expect(() => RestartStrategies.fixedDelay(-1, 0)).toThrow('restartStrategy.attempts: expected an integer >= 0, got -1')
    expect(() => RestartStrategies.failureRate(1, 1_000, -5)).toThrow('restartStrategy.delayMs: expected a number >= 0, got -5')
    expect(() => RestartStrategies.exponentialDelay({ resetThresholdMs: 0 })).toThrow(ConfigError)
  })
})
