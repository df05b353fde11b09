import { describe, expect, it } from 'vitest'
import { ConfigError, RetriesExhaustedError, SluiceError } from './errors.js'
import { retry, type RetryOptions } from './retry.js'

const transient = (message = 'broker not available') => new SluiceError('TRANSIENT', message, { retriable: true })

/** An operation failing with `failures` in turn, then returning 'done'; it records the attempt numbers it saw. */
function failingTimes(...failures: unknown[]) {
  const attempts: number[] = []
  const operation = async (attempt: number) => {
    attempts.push(attempt)
    const failure = failures[attempt - 1]
    if (failure !== undefined) throw failure
    return 'done'
  }
  return { operation, attempts }
}

/** Options with an instant sleep that records the requested delays. */
function recording(options: Partial<RetryOptions> = {}) {
  const delays: number[] = []
  const settings: RetryOptions = {
    what: 'commit of checkpoint 7',
    jitter: 0,
    sleep: async (ms) => {
      delays.push(ms)
    },
    ...options,
  }
  return { settings, delays }
}

describe('retry', () => {
  it('returns the first success, numbering attempts from 1', async () => {
    const { operation, attempts } = failingTimes(transient(), transient())
    const { settings, delays } = recording({ initialDelayMs: 10 })
    await expect(retry(operation, settings)).resolves.toBe('done')
    expect(attempts).toEqual([1, 2, 3])
    expect(delays).toEqual([10, 20])
  })

  it('rethrows a non-retriable failure at once', async () => {
    const fatal = new Error('syntax error in SQL')
    const notRetriable = new SluiceError('BAD', 'table does not exist')
    for (const failure of [fatal, notRetriable]) {
      const { operation, attempts } = failingTimes(failure)
      const { settings, delays } = recording()
      await expect(retry(operation, settings)).rejects.toBe(failure)
      expect(attempts).toEqual([1])
      expect(delays).toEqual([])
    }
  })

  it('gives up after `attempts` with RetriesExhaustedError caused by the last failure', async () => {
    const last = transient('still not available')
    const { operation, attempts } = failingTimes(transient(), transient(), last)
    const { settings, delays } = recording({ attempts: 3, initialDelayMs: 5 })
    const error = await retry(operation, settings).catch((caught: unknown) => caught)
    expect(RetriesExhaustedError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({
      message: 'commit of checkpoint 7: gave up after 3 attempts',
      attempts: 3,
      cause: last,
      retriable: false,
    })
    expect(attempts).toEqual([1, 2, 3])
    expect(delays).toEqual([5, 10])
  })

  it('asks isRetriable which failures to retry', async () => {
    const timeout = Object.assign(new Error('ETIMEDOUT'), { code: 'ETIMEDOUT' })
    const { operation, attempts } = failingTimes(timeout, timeout)
    const { settings } = recording({ isRetriable: (error) => (error as { code?: string }).code === 'ETIMEDOUT' })
    await expect(retry(operation, settings)).resolves.toBe('done')
    expect(attempts).toEqual([1, 2, 3])
  })

  it('grows delays by the multiplier up to maxDelayMs', async () => {
    const { operation } = failingTimes(transient(), transient(), transient(), transient())
    const { settings, delays } = recording({ initialDelayMs: 100, maxDelayMs: 250, multiplier: 3 })
    await retry(operation, settings)
    expect(delays).toEqual([100, 250, 250, 250])
  })

  it('moves each delay by up to ±jitter without exceeding maxDelayMs', async () => {
    const delaysWith = async (random: number, maxDelayMs = 10_000) => {
      const { operation } = failingTimes(transient(), transient())
      const { settings, delays } = recording({ initialDelayMs: 100, jitter: 0.2, random: () => random, maxDelayMs })
      await retry(operation, settings)
      return delays
    }
    expect(await delaysWith(0)).toEqual([80, 160])
    expect(await delaysWith(0.5)).toEqual([100, 200])
    expect(await delaysWith(1)).toEqual([120, 240])
    expect(await delaysWith(1, 200)).toEqual([120, 200])
  })

  it('waits for real with the default sleep', async () => {
    const { operation, attempts } = failingTimes(transient(), transient())
    const started = performance.now()
    await expect(retry(operation, { what: 'flush', initialDelayMs: 20, jitter: 0 })).resolves.toBe('done')
    expect(attempts).toEqual([1, 2, 3])
    expect(performance.now() - started).toBeGreaterThanOrEqual(55) // 20 + 40, less timer slack
  })

  it('stops waiting when the signal aborts, with the default sleep', async () => {
    const controller = new AbortController()
    const { operation, attempts } = failingTimes(transient(), transient())
    const started = performance.now()
    setTimeout(() => controller.abort(new Error('job cancelled')), 20)
    await expect(
      retry(operation, { what: 'flush', initialDelayMs: 60_000, signal: controller.signal }),
    ).rejects.toThrow('job cancelled')
    expect(attempts).toEqual([1])
    // Far below the 60 s delay it must not wait out; a generous bound, as a loaded CI machine can stall for seconds.
    expect(performance.now() - started).toBeLessThan(30_000)
  })

  it('stops waiting when the signal aborts, even if a custom sleep ignores it', async () => {
    const controller = new AbortController()
    const { operation, attempts } = failingTimes(transient(), transient())
    const outcome = retry(operation, {
      what: 'flush',
      signal: controller.signal,
      sleep: () => new Promise<void>(() => {}),
    })
    setTimeout(() => controller.abort(new Error('job cancelled')), 5)
    await expect(outcome).rejects.toThrow('job cancelled')
    expect(attempts).toEqual([1])
  })

  it('does not start when the signal has already aborted', async () => {
    const { operation, attempts } = failingTimes()
    await expect(retry(operation, { what: 'flush', signal: AbortSignal.abort(new Error('gone')) })).rejects.toThrow('gone')
    expect(attempts).toEqual([])
  })

  it.each([
    [{ attempts: 0 }, 'retry.attempts: expected an integer >= 1, got 0 (retrying flush)'],
    [{ attempts: 2.5 }, 'retry.attempts: expected an integer >= 1, got 2.5 (retrying flush)'],
    [{ initialDelayMs: -1 }, 'retry.initialDelayMs: expected a number >= 0, got -1 (retrying flush)'],
    [{ multiplier: 0.5 }, 'retry.multiplier: expected a number >= 1, got 0.5 (retrying flush)'],
    [{ jitter: 2 }, 'retry.jitter: expected a number between 0 and 1, got 2 (retrying flush)'],
  ])('rejects %j with ConfigError before the first attempt', async (options, message) => {
    const { operation, attempts } = failingTimes()
    const error = await retry(operation, { what: 'flush', ...options }).catch((caught: unknown) => caught)
    expect(ConfigError.isInstance(error)).toBe(true)
    expect((error as Error).message).toBe(message)
    expect(attempts).toEqual([])
  })
})
